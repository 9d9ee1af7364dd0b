import { existsSync, statSync } from "node:fs"
import { join } from "node:path"
import { type Browser, type BrowserContext, type BrowserContextOptions, chromium, type Page } from "playwright-core"
import { repoRoot } from "./artifacts.js"

export const chromiumPath = "/usr/bin/chromium"

/** Headless Debian Chromium, as the CI image has it. */
export const launchChromium = async (): Promise<Browser> => {
  if (!existsSync(chromiumPath)) throw new Error(`${chromiumPath} is missing (is an apt install still running?)`)
  return chromium.launch({
    executablePath: chromiumPath,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
  })
}

/**
 * Fails when a compiled page file is older than its source: the server runs dist/, so a stale build would
 * test yesterday's page.
 */
export const expectFreshBuild = (pairs: ReadonlyArray<readonly [src: string, dist: string]>): void => {
  for (const [src, dist] of pairs) {
    const distPath = join(repoRoot, dist)
    if (!existsSync(distPath)) throw new Error(`${dist} is missing: run npm run build`)
    if (statSync(join(repoRoot, src)).mtimeMs > statSync(distPath).mtimeMs) {
      throw new Error(`${dist} is older than ${src}: run npm run build`)
    }
  }
}

/** A page plus everything it did that a test may want to refuse: dialogs, script errors, console errors. */
export interface WatchedPage {
  readonly context: BrowserContext
  readonly page: Page
  /** Messages of every dialog (alert, confirm, prompt) the page opened; each is dismissed. */
  readonly dialogs: Array<string>
  /** Uncaught exceptions and console errors (CSP violations are reported there). */
  readonly errors: Array<string>
  /** Every request the page made, as `METHOD url`. */
  readonly requests: Array<string>
}

const contexts = new Set<BrowserContext>()

export const openPage = async (browser: Browser, options: BrowserContextOptions = {}): Promise<WatchedPage> => {
  const context = await browser.newContext({
    acceptDownloads: true,
    viewport: { width: 1280, height: 900 },
    ...options
  })
  contexts.add(context)
  context.once("close", () => contexts.delete(context))
  // Well inside the test's own timeout, so a missing element fails with Playwright's message.
  context.setDefaultTimeout(10_000)
  const page = await context.newPage()
  const watched: WatchedPage = { context, page, dialogs: [], errors: [], requests: [] }
  context.on("page", (p) => watch(p, watched))
  watch(page, watched)
  return watched
}

const watch = (page: Page, watched: WatchedPage): void => {
  page.on("dialog", (dialog) => {
    watched.dialogs.push(`${dialog.type()}: ${dialog.message()}`)
    void dialog.dismiss().catch(() => {})
  })
  page.on("pageerror", (error) => watched.errors.push(`pageerror: ${error.message}`))
  page.on("console", (message) => {
    if (message.type() === "error") watched.errors.push(`console: ${message.text()}`)
  })
  page.on("request", (request) => watched.requests.push(`${request.method()} ${request.url()}`))
}

/** Closes every context a test opened (a safety net for afterEach). */
export const closePages = async (): Promise<void> => {
  await Promise.all([...contexts].map((context) => context.close().catch(() => {})))
  contexts.clear()
}
