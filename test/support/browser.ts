import { existsSync } from "node:fs"
import {
  type Browser,
  type BrowserContext,
  type BrowserContextOptions,
  chromium,
  type Page,
  type Response
} from "playwright-core"
import { afterAll, afterEach, beforeAll } from "vitest"
import { waitFor } from "./wait.js"

/** Debian's chromium (apt), driven by playwright-core: no browser download. */
export const chromiumPath = "/usr/bin/chromium"

export const launchChromium = async (): Promise<Browser> => {
  // The image installs chromium with apt; give a running install a moment rather than failing at once.
  await waitFor(() => existsSync(chromiumPath), {
    what: `${chromiumPath} to exist`,
    timeoutMs: 120_000,
    intervalMs: 500
  })
  return chromium.launch({
    executablePath: chromiumPath,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
  })
}

/** A page with everything it reported collected: console errors, uncaught errors, dialogs, requests. */
export interface WatchedPage {
  readonly context: BrowserContext
  readonly page: Page
  /** The response of the first navigation. */
  readonly response: Response
  readonly consoleErrors: Array<string>
  readonly pageErrors: Array<string>
  /** Every `alert`/`confirm`/`prompt` the page tried (each is dismissed). */
  readonly dialogs: Array<string>
  /** URLs of every request the page made (data: URLs excluded). */
  readonly requests: Array<string>
  /** Main-frame navigations, the first one included. */
  readonly navigations: () => number
}

export interface OpenOptions extends BrowserContextOptions {
  /** Runs in the page before any of its own scripts (CDP: not subject to the page's CSP). */
  readonly initScript?: () => void
  /** When `open` returns: at `load` (the default), or at `commit` for a page still streaming in. */
  readonly waitUntil?: "load" | "commit"
}

/**
 * A browser shared by the enclosing describe block. Register it after `useServer`: after-hooks run in
 * reverse, so pages (and their EventSource connections) are gone before the server is asked to stop.
 */
export const useBrowser = () => {
  let browser: Browser | undefined
  const contexts = new Set<BrowserContext>()
  beforeAll(async () => {
    browser = await launchChromium()
  }, 150_000)
  afterEach(async () => {
    await Promise.all([...contexts].map((context) => context.close()))
    contexts.clear()
  })
  afterAll(async () => {
    await browser?.close()
  })

  /** Opens `url` in a fresh context (its own cookies, cache and viewport) and waits for its `load`. */
  const open = async (url: string, { initScript, waitUntil, ...options }: OpenOptions = {}): Promise<WatchedPage> => {
    if (browser === undefined) throw new Error("browser not started")
    const context = await browser.newContext(options)
    contexts.add(context)
    const page = await context.newPage()
    const consoleErrors: Array<string> = []
    const pageErrors: Array<string> = []
    const dialogs: Array<string> = []
    const requests: Array<string> = []
    let navigations = 0
    page.on("console", (message) => {
      if (message.type() === "error" || message.type() === "warning") consoleErrors.push(message.text())
    })
    page.on("pageerror", (error) => pageErrors.push(error.message))
    page.on("dialog", (dialog) => {
      dialogs.push(`${dialog.type()}: ${dialog.message()}`)
      void dialog.dismiss()
    })
    page.on("request", (request) => {
      if (!request.url().startsWith("data:")) requests.push(request.url())
    })
    page.on("framenavigated", (frame) => {
      if (frame === page.mainFrame()) navigations++
    })
    if (initScript !== undefined) await page.addInitScript(initScript)
    const response = await page.goto(url, { waitUntil: waitUntil ?? "load" })
    if (response === null) throw new Error(`no response for ${url}`)
    return { context, page, response, consoleErrors, pageErrors, dialogs, requests, navigations: () => navigations }
  }

  return open
}
