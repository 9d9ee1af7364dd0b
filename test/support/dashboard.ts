/** What the dashboard's browser tests share: viewports, DOM waits, paced transfers, the served script. */
import { statSync } from "node:fs"
import { join } from "node:path"
import type { Page } from "playwright-core"
import { expect } from "vitest"
import { repoRoot } from "./artifacts.js"
import type { WatchedPage } from "./browser.js"
import { PrngSource } from "./data.js"
import type { ServerHandle } from "./server.js"
import { curlReceiver, curlSender } from "./transfer.js"

export const desktop = { viewport: { width: 1280, height: 800 } } as const
export const phone = {
  viewport: { width: 360, height: 740 },
  deviceScaleFactor: 2,
  isMobile: true,
  hasTouch: true
} as const

/** Fails fast when the built dashboard is older than its sources: the server would serve stale code. */
export const expectFreshBuild = () => {
  const pairs = [
    ["src/web/index.ts", "dist/main.js"],
    ["src/web/DashboardPage.ts", "dist/main.js"],
    ["src/web/DashboardModel.ts", "dist/main.js"],
    ["src/web/DashboardStyle.ts", "dist/main.js"],
    ["src/domain/Format.ts", "dist/main.js"],
    ["src/web/Html.ts", "dist/main.js"],
    ["src/web/PageShell.ts", "dist/main.js"],
    ["src/web/browser/dashboard.ts", "dist/main.js"],
    ["src/web/browser/Qr.ts", "dist/main.js"]
  ] as const
  for (const [source, built] of pairs) {
    const compiled = statSync(join(repoRoot, built), { throwIfNoEntry: false })
    if (compiled === undefined || compiled.mtimeMs < statSync(join(repoRoot, source)).mtimeMs) {
      throw new Error(`${built} is missing or older than ${source}: run npm run build`)
    }
  }
}

/** The dashboard's script exactly as the server inlines it (the build bundles it into dist/main.js). */
export const servedScript = async (url: string): Promise<string> => {
  const html = await (await fetch(url, { headers: { accept: "text/html" } })).text()
  const script = /<script type="module" nonce="[^"]+">([\s\S]*?)<\/script>/.exec(html)?.[1]
  if (script === undefined) throw new Error(`${url} has no module script`)
  return script
}

export const textOf = async (page: Page, selector: string): Promise<string> => (await page.textContent(selector)) ?? ""

/** Awaits `selector`'s text becoming `expected` (a DOM change, not a sleep); says what it saw on failure. */
export const waitForText = async (page: Page, selector: string, expected: string, timeout = 10_000): Promise<void> => {
  try {
    await page.waitForFunction(
      ({ selector, expected }) => document.querySelector(selector)?.textContent === expected,
      { selector, expected },
      { timeout }
    )
  } catch (error) {
    const now = await textOf(page, selector).catch(() => "?")
    throw new Error(
      `${selector} never read ${JSON.stringify(expected)} (it reads ${JSON.stringify(now)}): ${String(error)}`
    )
  }
}

export const waitForLive = (page: Page) =>
  page.waitForSelector("#conn[data-conn=live]:not([hidden])", { state: "attached", timeout: 10_000 })

/** Lets `source` out in `steps` equal parts over `ms`: a transfer that lasts about `ms`. */
export const pace = (source: PrngSource, size: number, ms: number, steps = 20): () => void => {
  let step = 0
  const timer = setInterval(() => {
    step++
    source.release(step >= steps ? Infinity : Math.round((size * step) / steps))
    if (step >= steps) clearInterval(timer)
  }, ms / steps)
  return () => clearInterval(timer)
}

/** A paced transfer: a receiver, then a sender fed from a source released over `ms`. */
export const pacedTransfer = (
  server: ServerHandle,
  path: string,
  size: number,
  { ms = 2000, announce = true }: { readonly ms?: number; readonly announce?: boolean } = {}
) => {
  const receiver = curlReceiver(server, path)
  const source = new PrngSource(`dashboard ${path}`, { size, holdAt: 0 })
  const sender = curlSender(server, announce ? `${path}?total=${size}` : path, source)
  const stop = pace(source, size, ms)
  const finished = Promise.all([receiver.result, sender.result]).finally(stop)
  return { receiver, sender, source, stop, finished }
}

export const noProblems = (watched: WatchedPage) => {
  expect(watched.pageErrors, "uncaught errors").toEqual([])
  expect(watched.consoleErrors, "console errors").toEqual([])
  expect(watched.dialogs, "dialogs").toEqual([])
}
