/**
 * `/noscript`'s result on a phone: the streamed HTML report a browser's form POST gets (src/web/SenderReportPage.ts)
 * at 360 px in a real Chromium. A stand-in server streams it line by line exactly as the sender handler writes
 * its text lines, so the page is checked as it arrives, not only once complete.
 */
import { createServer, type Server, type ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { SenderLine } from "../src/domain/SenderLine.js"
import { senderReport } from "../src/web/SenderReportPage.js"
import { artifactsDir } from "./support/artifacts.js"
import { useBrowser } from "./support/browser.js"
import { desktop, noProblems, phone, textOf } from "./support/dashboard.js"

describe("/noscript's result on a phone", () => {
  const open = useBrowser()
  let stand: Server | undefined
  let base = ""
  /** The response of the page being sent, held so the test decides when the next lines go out. */
  let held: { readonly res: ServerResponse; readonly report: ReturnType<typeof senderReport> } | undefined

  beforeAll(async () => {
    stand = createServer((req, res) => {
      const path = new URL(req.url ?? "/", "http://x").pathname
      const report = senderReport(path, "bm9zY3JpcHQtcmVwb3J0")
      res.writeHead(200, { "content-type": report.contentType, ...report.headers })
      res.write(report.head + report.line(SenderLine.waiting(1)) + report.line(SenderLine.probe))
      held = { res, report }
    })
    await new Promise<void>((resolve) => stand?.listen(0, "127.0.0.1", resolve))
    base = `http://127.0.0.1:${(stand.address() as AddressInfo).port}`
  })
  afterAll(async () => {
    stand?.closeAllConnections()
    await new Promise((resolve) => stand?.close(resolve))
  })

  const finish = (lines: ReadonlyArray<string>) => {
    if (held === undefined) throw new Error("no report being sent")
    const { report, res } = held
    res.end(lines.map(report.line).join("") + report.tail)
    held = undefined
  }

  it("shows the lines as they come, at the phone's width, in text of a readable size", async () => {
    const long = `/api/v1/pipe/${Array.from({ length: 30 }, (_, i) => `segment-${i}`).join("/")}`
    const watched = await open(`${base}${long}`, { ...phone, waitUntil: "commit" })
    const { page } = watched
    // the first line is there while the transfer still waits: streamed, not buffered to the end
    await page.waitForSelector("li:has-text('Waiting for 1 receiver(s)...')", { timeout: 5000 })
    expect(await textOf(page, "h1")).toContain("Sending…")
    expect(await page.isVisible(".busy")).toBe(true)
    const layout = await page.evaluate(() => ({
      width: window.innerWidth,
      scroll: document.documentElement.scrollWidth,
      scale: window.visualViewport?.scale ?? 1,
      font: parseFloat(getComputedStyle(document.querySelector(".lines li") ?? document.body).fontSize)
    }))
    // a text/plain reply is laid out 980 px wide and shrunk to a third; this one is the phone's width
    expect(layout).toMatchObject({ width: 360, scale: 1 })
    expect(layout.scroll).toBeLessThanOrEqual(360)
    expect(layout.font).toBeGreaterThanOrEqual(15)

    finish([SenderLine.receiverConnected, SenderLine.start(1), SenderLine.sent, SenderLine.allReceived])
    await page.waitForSelector("li[data-kind=ok]:has-text('All receiver(s) received successfully.')")
    expect(await page.isVisible(".sent")).toBe(true)
    expect(await page.isVisible(".busy")).toBe(false)
    expect(await page.locator(".lines li").allTextContents()).toEqual([
      "INFOWaiting for 1 receiver(s)...",
      "INFOA receiver was connected.",
      "INFOStart sending to 1 receiver(s)!",
      "INFOSent successfully!",
      "INFOAll receiver(s) received successfully."
    ])
    expect(await page.getAttribute("a:has-text('Watch this path')", "href")).toBe(`${long}?progress`)
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(360)
    // the buttons are big enough for a thumb; nothing runs
    expect((await page.locator("a:has-text('Send another')").boundingBox())?.height ?? 0).toBeGreaterThanOrEqual(44)
    expect(await page.locator("script").count()).toBe(0)
    await page.screenshot({ path: join(artifactsDir, "noscript-result-360.png"), fullPage: true })
    noProblems(watched)
  })

  it("says a failed send in the heading and the line, and escapes what it echoes", async () => {
    const watched = await open(`${base}/api/v1/pipe/a%3Cb%3E`, { ...desktop, waitUntil: "commit" })
    const { page } = watched
    await page.waitForSelector("li", { timeout: 5000 })
    finish([SenderLine.receiverConnected, SenderLine.start(1), SenderLine.allReceiversAborted])
    await page.waitForSelector("li[data-kind=error]")
    expect(await textOf(page, "li[data-kind=error]")).toBe("ERRORAll receiver(s) aborted halfway.")
    expect(await page.isVisible(".failed")).toBe(true)
    expect(await page.isVisible(".sent")).toBe(false)
    expect(await textOf(page, ".intro code")).toBe("/api/v1/pipe/a%3Cb%3E")
    expect(await page.locator("b").count()).toBe(0)
    expect(senderReport(`/api/v1/pipe/"><b>x</b>`, "bm9uY2U").head).not.toMatch(/<b>|"><b/)
    noProblems(watched)
  })
})
