/**
 * The HTML dashboard (protocol §4.3), end to end: the real server (`node dist/main.js server`), real curl
 * parties, and a real Chromium (playwright-core + Debian's /usr/bin/chromium). Every wait awaits a DOM
 * condition; nothing sleeps for a fixed time. Screenshots go to test-artifacts/dashboard-*.png.
 */
import { createServer, type Server } from "node:http"
import type { AddressInfo } from "node:net"
import { join } from "node:path"
import type { Page } from "playwright-core"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { formatBytes, formatDuration, formatRate, groupDigits } from "../src/domain/Format.js"
import type { Snapshot } from "../src/schema/Snapshot.js"
import { dashboardCapabilities, renderDashboard } from "../src/web/DashboardPage.js"
import { embedJson, escapeHtml } from "../src/web/Html.js"
import { contentSecurityPolicy } from "../src/web/PageShell.js"
import { artifactsDir } from "./support/artifacts.js"
import { useBrowser } from "./support/browser.js"
import {
  desktop,
  expectFreshBuild,
  noProblems,
  pace,
  pacedTransfer,
  phone,
  servedScript,
  textOf,
  waitForLive,
  waitForText
} from "./support/dashboard.js"
import { PrngSource } from "./support/data.js"
import { pipePath, uniqueName } from "./support/pipe.js"
import { type ServerHandle, startServer, useServer } from "./support/server.js"
import { curlReceiver, curlSender } from "./support/transfer.js"

/** What the recorder sees each time the page changes. */
interface Frame {
  readonly state: string
  readonly bytes: string
  readonly bar: string | null
  readonly mode: string
}

declare global {
  interface Window {
    __marker?: string
    __frames?: Array<Frame>
    __conn?: Array<string>
    __violations?: Array<string>
  }
}

const shot = (name: string) => join(artifactsDir, `dashboard-${name}.png`)

/** Sets a window marker (gone if the page reloads) and records every distinct rendering from now on. */
const record = (page: Page) =>
  page.evaluate(() => {
    window.__marker = "alive"
    const frames: Array<Frame> = []
    window.__frames = frames
    const read = (): Frame => ({
      state: document.getElementById("state")?.textContent ?? "",
      bytes: document.getElementById("bytes")?.textContent ?? "",
      bar: document.getElementById("bar")?.getAttribute("aria-valuenow") ?? null,
      mode: document.getElementById("bar")?.dataset["mode"] ?? ""
    })
    const push = () => {
      const frame = read()
      const last = frames[frames.length - 1]
      if (
        last === undefined || last.state !== frame.state || last.bytes !== frame.bytes || last.bar !== frame.bar ||
        last.mode !== frame.mode
      ) frames.push(frame)
    }
    push()
    new MutationObserver(push).observe(document.body, {
      subtree: true,
      childList: true,
      characterData: true,
      attributes: true
    })
  })

const framesOf = async (page: Page): Promise<Array<Frame>> => page.evaluate(() => window.__frames ?? [])

const dedupe = <A>(values: ReadonlyArray<A>): Array<A> => values.filter((v, i) => i === 0 || values[i - 1] !== v)

describe("formatting and escaping (units)", () => {
  it("escapes every HTML metacharacter", () => {
    expect(escapeHtml(`<script>alert(1)</script>"'&`)).toBe("&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39;&amp;")
    expect(escapeHtml("/api/v1/pipe/a.b_c~d-e")).toBe("/api/v1/pipe/a.b_c~d-e")
  })

  it("embeds JSON that cannot end its <script> block", () => {
    const json = embedJson({ path: "</script><script>alert(1)</script><!--", s: "\u2028&" })
    expect(json).not.toMatch(/[<>&\u2028]/)
    expect(JSON.parse(json)).toEqual({ path: "</script><script>alert(1)</script><!--", s: "\u2028&" })
  })

  it("prints bytes, rates and durations for humans (MB = 10^6)", () => {
    expect([0, 999, 1000, 999_499, 999_500, 1_234_567, 1_234_567_890, 8_160_000_000].map(formatBytes)).toEqual([
      "0 B",
      "999 B",
      "1.00 kB",
      "999 kB",
      "1.00 MB",
      "1.23 MB",
      "1.23 GB",
      "8.16 GB"
    ])
    expect([118, 5.423, 0.64, 1200].map(formatRate)).toEqual(["118 MB/s", "5.42 MB/s", "640 kB/s", "1.20 GB/s"])
    expect([0.087, 0.42, 8.27, 42.8, 69.1, 3900].map(formatDuration)).toEqual([
      "0.09 s",
      "0.4 s",
      "8.2 s",
      "42 s",
      "1m 09s",
      "1h 05m"
    ])
    expect(groupDigits(8_160_000_000)).toBe("8,160,000,000")
  })
})

describe("dashboard in Chromium", () => {
  const server = useServer(["--retention", "3s"])
  const open = useBrowser()
  beforeAll(expectFreshBuild)

  const dashboardUrl = (path: string) => `${server().url}${path}?progress`

  it("inlines one self-contained compiled client: no runtime import, nothing that ends a <script>", async () => {
    const js = await servedScript(dashboardUrl(pipePath(uniqueName("dash-script"))))
    expect(js).not.toMatch(/^\s*import[\s{*"']/m)
    expect(js).not.toMatch(/\bimport\s*\(/)
    expect(js).not.toMatch(/<\/script|<!--/i)
    expect(js).toContain("new EventSource(")
  })

  it("follows a transfer live: idle → waiting → streaming → complete, without reloading", async () => {
    const path = pipePath(uniqueName("dash-live"))
    const size = 3_000_000
    const watched = await open(dashboardUrl(path), desktop)
    const { page, response } = watched
    expect(response.status()).toBe(200)
    expect(response.headers()["content-type"]).toMatch(/^text\/html/)
    expect(await textOf(page, "#state")).toBe("Idle")
    expect(await textOf(page, "#path")).toBe(path)
    await waitForLive(page)
    await record(page)

    const receiver = curlReceiver(server(), path)
    await waitForText(page, "#state", "Waiting")
    expect(await textOf(page, "#receivers")).toBe("1/1")

    const source = new PrngSource(`dashboard ${path}`, { size, holdAt: 0 })
    const sender = curlSender(server(), `${path}?total=${size}`, source)
    const stop = pace(source, size, 2000)
    try {
      await waitForText(page, "#state", "Streaming")
      await waitForText(page, "#state", "Complete", 15_000)
    } finally {
      stop()
    }
    const [received, sent] = await Promise.all([receiver.result, sender.result])
    expect(received.code).toBe(0)
    expect(received.bytes).toBe(size)
    expect(sent.code).toBe(0)

    const frames = await framesOf(page)
    expect(dedupe(frames.map((f) => f.state))).toEqual(["Idle", "Waiting", "Streaming", "Complete"])
    const streaming = frames.filter((f) => f.state === "Streaming")
    // the byte count moved at least twice while streaming…
    expect(dedupe(streaming.map((f) => f.bytes)).length, JSON.stringify(streaming)).toBeGreaterThanOrEqual(3)
    // …and so did the (determinate: the sender announced its total) bar, only forwards
    const bar = dedupe(streaming.flatMap((f) => (f.mode === "determinate" && f.bar !== null ? [Number(f.bar)] : [])))
    expect(bar.length, JSON.stringify(streaming)).toBeGreaterThanOrEqual(2)
    expect([...bar].sort((a, b) => a - b)).toEqual(bar)
    expect(streaming.some((f) => f.mode === "indeterminate")).toBe(false)

    expect(await textOf(page, "#bytes")).toBe("3.00 MB")
    expect(await textOf(page, "#percent")).toBe("100%")
    expect(await page.getAttribute("#bar", "aria-valuenow")).toBe("100")
    expect(await page.isVisible("#done")).toBe(true)
    expect(await textOf(page, "#done-title")).toBe("Transfer complete")
    expect(await textOf(page, "#done-text")).toMatch(
      /^3\.00 MB \(3,000,000 bytes\) in \d+(\.\d+)? s · avg [\d.]+ [kM]B\/s$/
    )
    expect(await page.isVisible("#done-error")).toBe(false)
    expect(await page.locator("#log .entry-title").allTextContents()).toEqual([
      "Transfer complete",
      "Streaming started",
      "Waiting",
      "Idle"
    ])
    expect(await page.textContent("#log li:first-child .entry-detail")).toMatch(/^3\.00 MB in /)

    // never reloaded: the marker set before the transfer is still there, one navigation only
    expect(await page.evaluate(() => window.__marker)).toBe("alive")
    expect(watched.navigations()).toBe(1)
    expect(await page.evaluate(() => performance.getEntriesByType("navigation").length)).toBe(1)
    noProblems(watched)
  })

  it("renders a finished transfer in its first response; after retention it goes idle and follows the next one", async () => {
    const path = pipePath(uniqueName("dash-late"))
    const watcher = await open(dashboardUrl(path), desktop)
    await waitForLive(watcher.page)
    await record(watcher.page)

    const size = 1_234_567
    const first = [
      curlReceiver(server(), path),
      curlSender(server(), `${path}?total=${size}`, new PrngSource(path, { size }))
    ]
    for (const party of await Promise.all(first.map((p) => p.result))) expect(party.code).toBe(0)

    // within the 3 s retention: a browser without JavaScript sees the result in the served HTML alone
    const noJs = await open(dashboardUrl(path), { ...desktop, javaScriptEnabled: false })
    expect(await textOf(noJs.page, "#state")).toBe("Complete")
    expect(await noJs.page.isVisible("#done")).toBe(true)
    expect(await textOf(noJs.page, "#done-text")).toContain("1.23 MB (1,234,567 bytes)")
    expect(await textOf(noJs.page, "#bytes")).toBe("1.23 MB")
    expect(await textOf(noJs.page, "#percent")).toBe("100%")
    expect(await textOf(noJs.page, "#log .entry-title")).toBe("Transfer complete")
    // and a second ordinary tab has it in its very first HTML too (no blank page)
    const late = await open(dashboardUrl(path), desktop)
    const html = await late.response.text()
    expect(html).toContain("1,234,567 bytes")
    expect(html).toMatch(/<span id="state">Complete<\/span>/)
    expect(await late.page.isVisible("#done")).toBe(true)
    noProblems(late)

    // the retention ends: the open tab shows idle, with the last result kept as history
    await waitForText(watcher.page, "#state", "Idle", 10_000)
    expect(await textOf(watcher.page, "#done-title")).toBe("Last transfer: complete")
    expect(await textOf(watcher.page, "#bytes")).toBe("0 B")
    // the one line of protocol §9, in the browser's local time
    expect(await textOf(watcher.page, "#summary")).toMatch(
      /^Last transfer: complete · 1\.23 MB in [\d.]+ s · finished (just now|\d+ s ago) \(\d{4}-\d\d-\d\d \d\d:\d\d\)$/
    )

    // a later transfer on the same path follows on the same page, the same stream
    const again = 2_000_000
    const second = [
      curlReceiver(server(), path),
      curlSender(server(), path, new PrngSource(`${path} 2`, { size: again }))
    ]
    for (const party of await Promise.all(second.map((p) => p.result))) expect(party.code).toBe(0)
    await waitForText(watcher.page, "#state", "Complete")
    await waitForText(watcher.page, "#done-title", "Transfer complete")
    expect(await textOf(watcher.page, "#done-text")).toContain("(2,000,000 bytes)")
    expect(await watcher.page.evaluate(() => window.__marker)).toBe("alive")
    expect(watcher.navigations()).toBe(1)
    noProblems(watcher)
  })

  it("shows an indeterminate bar while the size is unknown", async () => {
    const path = pipePath(uniqueName("dash-unknown"))
    const { page, ...watched } = await open(dashboardUrl(path), phone)
    await waitForLive(page)
    const transfer = pacedTransfer(server(), path, 4_000_000, { announce: false })
    await page.waitForSelector("#bar[data-mode=indeterminate]", { timeout: 10_000 })
    await page.waitForFunction(() => document.getElementById("bytes")?.textContent !== "0 B", null, { timeout: 10_000 })
    expect(await textOf(page, "#state")).toBe("Streaming")
    expect(await page.getAttribute("#bar", "aria-valuenow")).toBeNull()
    expect(await textOf(page, "#percent")).toBe("")
    expect(await textOf(page, "#of")).toBe("so far")
    expect(await textOf(page, "#eta")).toBe("unknown")
    await page.screenshot({ path: shot("360-streaming-unknown-size"), fullPage: true })
    await transfer.finished
    await waitForText(page, "#state", "Complete")
    expect(await page.getAttribute("#bar", "data-mode")).toBe("determinate")
    expect(await textOf(page, "#bytes")).toBe("4.00 MB")
    expect(await textOf(page, "#done-text")).toContain("(4,000,000 bytes)")
    noProblems({ page, ...watched })
  })

  it("shows an aborted transfer with the server's error text", async () => {
    const path = pipePath(uniqueName("dash-abort"))
    const watched = await open(dashboardUrl(path), desktop)
    const { page } = watched
    await waitForLive(page)
    const size = 10_000_000
    const transfer = pacedTransfer(server(), path, size, { ms: 4000 })
    await page.waitForFunction(
      () => Number(document.getElementById("bar")?.getAttribute("aria-valuenow")) >= 10,
      null,
      {
        timeout: 10_000
      }
    )
    transfer.sender.kill("SIGKILL")
    await waitForText(page, "#state", "Aborted")
    await page.waitForSelector("#done:not([hidden])", { timeout: 10_000 })
    expect(await textOf(page, "#done-title")).toBe("Transfer aborted")
    expect(await page.isVisible("#done-error")).toBe(true)
    expect((await textOf(page, "#done-error")).length).toBeGreaterThan(0)
    expect(await textOf(page, "#log .entry-title")).toBe("Transfer aborted")
    await page.screenshot({ path: shot("1280-aborted"), fullPage: true })
    transfer.stop()
    await transfer.finished
    noProblems(watched)
  })

  it("escapes the path and ignores the query: nothing in the URL becomes markup or script", async () => {
    const name = uniqueName("a.b_c~d-e")
    const xss = "q=%3Cscript%3Ealert(1)%3C/script%3E&filename=%22%3E%3Cimg%20src=x%20onerror=alert(2)%3E"
    for (const path of [pipePath(name), `/api/v1/pipe/%61.b%5Fc~d-e/${name}`, `/${name}`]) {
      const watched = await open(`${server().url}${path}?progress&${xss}`, desktop)
      const { page, response } = watched
      const html = await response.text()
      expect(html).toContain(`<h1 id="path" class="path">${escapeHtml(path)}</h1>`)
      expect(html).not.toContain("alert(")
      expect(html).not.toContain("onerror")
      expect(await textOf(page, "#path")).toBe(path)
      await waitForLive(page)
      // the stream is this path's, with none of the page's other parameters
      expect(watched.requests).toEqual([
        `${server().url}${path}?progress&${xss}`,
        `${server().url}${path}?progress=sse`
      ])
      // only our two scripts, no inline handler anywhere, nothing loaded from elsewhere
      expect(await page.evaluate(() => Array.from(document.scripts).map((s) => `${s.type}#${s.id}`))).toEqual([
        "application/json#initial",
        "module#"
      ])
      expect(
        await page.evaluate(() =>
          Array.from(document.querySelectorAll("*")).flatMap((el) =>
            Array.from(el.attributes).filter((a) => a.name.startsWith("on")).map((a) => `${el.tagName} ${a.name}`)
          )
        )
      ).toEqual([])
      expect(await page.locator("img, iframe, object, embed, form, base").count()).toBe(0)
      noProblems(watched)
    }
  })

  it("keeps hostile server strings as text (path, error, ids), server-side and client-side", async () => {
    // The real server only ever sends safe names and fixed error texts, so a tiny stand-in serves the very
    // renderer and compiled client with hostile strings in every server-provided field.
    const hostile = `"><script>alert("path")</script><img src=x onerror=alert(1)>'&`
    const error = `</script><script>alert("sse")</script><img src=x onerror=alert(3)>`
    const hostileDone = {
      transferId: `t_<b>"'`,
      ok: false,
      bytes: 1000,
      total: null,
      durationSec: 1,
      avgMbps: 0.001,
      error: hostile,
      at: 1_700_000_001_000
    }
    const snapshot: Snapshot = {
      path: hostile,
      state: "aborted",
      transferId: `t_<b>"'`,
      sender: false,
      receivers: 0,
      expectedReceivers: 1,
      bytes: 1000,
      total: null,
      percent: null,
      mbps: 1,
      etaSec: null,
      elapsedSec: 1,
      spectators: 1,
      startedAt: 1_700_000_000_000,
      updatedAt: 1_700_000_001_000,
      done: hostileDone,
      last: hostileDone
    }
    const script = await servedScript(dashboardUrl(pipePath(uniqueName("dash-hostile"))))
    const nonce = "dGVzdC1ub25jZS0x"
    const stand: Server = createServer((req, res) => {
      if ((req.url ?? "").endsWith("?progress=sse")) {
        res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" })
        const state = (name: string, at: number) =>
          `event: state\ndata: ${
            JSON.stringify({ state: name, transferId: "t_2<i>", sender: true, receivers: 1, expectedReceivers: 1, at })
          }\n\n`
        res.write(state("streaming", 1_700_000_002_000) + state("aborted", 1_700_000_003_000))
        res.write(`event: done\ndata: ${JSON.stringify({ ...snapshot.done, transferId: "t_2<i>", error })}\n\n`)
        return
      }
      const page = renderDashboard({ path: hostile, snapshot, nonce, script })
      res.writeHead(200, { "content-type": page.contentType, ...page.headers })
      res.end(page.body)
    })
    await new Promise<void>((resolve) => stand.listen(0, "127.0.0.1", resolve))
    try {
      const { port } = stand.address() as AddressInfo
      const watched = await open(`http://127.0.0.1:${port}/api/v1/pipe/x?progress`, desktop)
      const { page } = watched
      expect(await textOf(page, "#path")).toBe(hostile)
      expect(await page.title()).toContain(hostile)
      await waitForText(page, "#done-error", error)
      expect(await textOf(page, "#log .entry-detail")).toContain(error)
      expect(await page.evaluate(() => document.scripts.length)).toBe(2)
      expect(await page.locator("img, b, i").count()).toBe(0)
      noProblems(watched)
    } finally {
      stand.closeAllConnections()
      await new Promise((resolve) => stand.close(resolve))
    }
  })

  it("is usable at 360 px and on a desktop (screenshots while streaming and after the end)", async () => {
    const path = pipePath(uniqueName("dash-shots"))
    const pages = [
      { name: "360", ...(await open(dashboardUrl(path), phone)) },
      { name: "1280", ...(await open(dashboardUrl(path), desktop)) },
      { name: "1280-dark", ...(await open(dashboardUrl(path), { ...desktop, colorScheme: "dark" })) }
    ]
    const width = (page: Page) => page.evaluate(() => document.documentElement.scrollWidth)
    for (const { page } of pages) await waitForLive(page)
    const [small] = pages
    if (small === undefined) throw new Error("no page")
    expect(await width(small.page)).toBeLessThanOrEqual(360)
    await small.page.screenshot({ path: shot("360-idle"), fullPage: true })

    // Long enough that three full-page screenshots on a busy 2-core machine still land while it streams.
    const transfer = pacedTransfer(server(), path, 8_000_000, { ms: 8000 })
    for (const { page } of pages) {
      await page.waitForFunction(
        () => Number(document.getElementById("bar")?.getAttribute("aria-valuenow")) >= 30,
        null,
        {
          timeout: 10_000
        }
      )
    }
    for (const { name, page } of pages) await page.screenshot({ path: shot(`${name}-streaming`), fullPage: true })
    expect(await textOf(small.page, "#state")).toBe("Streaming")
    expect(await width(small.page)).toBeLessThanOrEqual(360)

    await transfer.finished
    for (const { page } of pages) await waitForText(page, "#done-title", "Transfer complete")
    for (const { name, page } of pages) await page.screenshot({ path: shot(`${name}-complete`), fullPage: true })
    expect(await width(small.page)).toBeLessThanOrEqual(360)
    for (const { page } of pages.slice(1)) expect(await width(page)).toBeLessThanOrEqual(1280)
    // big numbers stay readable on a phone
    const fontPx = await small.page.evaluate(() =>
      parseFloat(getComputedStyle(document.getElementById("bytes") ?? document.body).fontSize)
    )
    expect(fontPx).toBeGreaterThanOrEqual(32)
    for (const watched of pages) noProblems(watched)
  })

  it("sends a strict CSP whose per-response nonce its inline script and style use, and violates nothing", async () => {
    const path = pipePath(uniqueName("dash-csp"))
    const watched = await open(dashboardUrl(path), {
      ...desktop,
      initScript: () => {
        const violations: Array<string> = []
        window.__violations = violations
        document.addEventListener(
          "securitypolicyviolation",
          (e) => violations.push(`${e.violatedDirective} ${e.blockedURI}`)
        )
      }
    })
    const { page, response } = watched
    const headers = response.headers()
    const csp = headers["content-security-policy"] ?? ""
    const nonce = /script-src 'nonce-([A-Za-z0-9+/=]+)'/.exec(csp)?.[1]
    if (nonce === undefined) throw new Error(`no script nonce in ${csp}`)
    expect(csp).toBe(contentSecurityPolicy(nonce, dashboardCapabilities))
    expect(csp).toBe(
      `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'nonce-${nonce}'; connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`
    )
    expect(headers["cache-control"]).toBe("no-store")
    expect(headers["x-content-type-options"]).toBe("nosniff")
    expect(headers["referrer-policy"]).toBe("no-referrer")

    const html = await response.text()
    expect([...html.matchAll(/<script type="module" nonce="([^"]+)">/g)].map((m) => m[1])).toEqual([nonce])
    expect([...html.matchAll(/<style nonce="([^"]+)">/g)].map((m) => m[1])).toEqual([nonce])
    expect(html).not.toMatch(/\sstyle="/) // inline style attributes would be blocked
    expect(html).not.toMatch(/<(link|script|img)[^>]+(href|src)="(https?:)?\/\//) // no external asset
    // the browser accepted them: the script ran (it opened the stream) and the style applied
    await waitForLive(page)
    expect(await page.evaluate(() => getComputedStyle(document.body).fontFamily)).toContain("system-ui")
    expect(
      await page.evaluate(() => (document.querySelector("script[type=module]") as HTMLScriptElement | null)?.nonce)
    ).toBe(nonce)
    // a new nonce for every response
    const again = await open(dashboardUrl(path), desktop)
    expect(again.response.headers()["content-security-policy"]).not.toContain(nonce)

    expect(await page.evaluate(() => window.__violations)).toEqual([])
    expect(watched.consoleErrors.filter((m) => /Content Security Policy|Refused to/i.test(m))).toEqual([])
    expect(watched.requests).toEqual([dashboardUrl(`${path}`), `${server().url}${path}?progress=sse`])
    noProblems(watched)
    noProblems(again)
  })
})

describe("dashboard reconnects", () => {
  const open = useBrowser()
  let short: ServerHandle | undefined
  beforeAll(async () => {
    // every SSE response ends after 1 s: the page has to reconnect by itself, again and again
    short = await startServer(["--spectator-ttl", "1s", "--retention", "30s"])
  }, 30_000)
  afterAll(async () => {
    await short?.stop()
  }, 20_000)

  it("shows reconnecting…, comes back, keeps following; and says so when the server is gone", async () => {
    if (short === undefined) throw new Error("server not started")
    const srv = short
    const path = pipePath(uniqueName("dash-reconnect"))
    const watched = await open(`${srv.url}${path}?progress`, desktop)
    const { page } = watched
    await waitForLive(page)
    await page.evaluate(() => {
      window.__marker = "alive"
      const seen: Array<string> = []
      window.__conn = seen
      const conn = document.getElementById("conn")
      if (conn === null) return
      new MutationObserver(() => seen.push(conn.dataset["conn"] ?? "")).observe(conn, { attributes: true })
    })
    // the 1 s lifetime ends the stream; EventSource reconnects
    await page.waitForFunction(() => (window.__conn ?? []).join(" ").includes("reconnecting live"), null, {
      timeout: 15_000
    })

    const size = 500_000
    const parties = [curlReceiver(srv, path), curlSender(srv, path, new PrngSource(path, { size }))]
    for (const party of await Promise.all(parties.map((p) => p.result))) expect(party.code).toBe(0)
    await waitForText(page, "#done-title", "Transfer complete", 15_000)
    expect(await textOf(page, "#done-text")).toContain("(500,000 bytes)")

    await srv.stop()
    // a reconnect that fails too is a server gone: the page says so rather than look live
    await waitForText(page, "#conn-text", "Offline", 15_000)
    expect(await page.isVisible("#conn")).toBe(true)
    expect(await page.isVisible("#offline")).toBe(true)
    expect(await textOf(page, "#offline")).toBe("Connection to the server lost — retrying…")
    expect(await page.evaluate(() => window.__conn ?? [])).toContain("reconnecting")
    // what it knew stays on screen
    expect(await textOf(page, "#state")).toBe("Complete")
    expect(await page.evaluate(() => window.__marker)).toBe("alive")
    expect(watched.pageErrors).toEqual([])
    expect(watched.dialogs).toEqual([])
  })
})
