// Chromium over HTTPS/h2 with a self-signed certificate (--ignore-certificate-errors): ten live dashboards of
// ten paths at once in one browser (HTTP/1.1 allows six connections per origin, and each dashboard holds one
// for its event stream), and the home page's upload, which streams its file with `fetch` over h2.
import { mkdirSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { type Browser, chromium, type Page } from "playwright-core"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { artifactPath } from "./support/artifacts.js"
import { chromiumPath } from "./support/browser.js"
import { header, spawnCurl } from "./support/curl.js"
import { waitForLive, waitForText } from "./support/dashboard.js"
import { prngBytes } from "./support/data.js"
import { sha256 } from "./support/hash.js"
import { pipePath, uniqueName, waitForProbe } from "./support/pipe.js"
import { useServer } from "./support/server.js"
import { makeCertificate, tlsFlags } from "./support/tls.js"

const server = useServer(tlsFlags(makeCertificate("browser")))
const h2 = ["--http2", "-k"]

let browser: Browser | undefined
beforeAll(async () => {
  browser = await chromium.launch({
    executablePath: chromiumPath,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--ignore-certificate-errors"
    ]
  })
}, 150_000)
afterAll(async () => {
  await browser?.close()
})

const newContext = async () => {
  if (browser === undefined) throw new Error("browser not started")
  return browser.newContext()
}

/** The protocol the page itself came over, as the browser says. */
const protocolOf = (page: Page): Promise<string> =>
  page.evaluate(() => {
    const entry = performance.getEntriesByType("navigation")[0]
    return entry instanceof PerformanceNavigationTiming ? entry.nextHopProtocol : "unknown"
  })

describe("Chromium over HTTPS/h2", () => {
  it("ten dashboards of ten paths, open at once in one browser, all live through their transfers", async () => {
    const context = await newContext()
    const paths = Array.from({ length: 10 }, (_, i) => pipePath(uniqueName(`h2-dash-${i}`)))
    const pages = await Promise.all(paths.map(async (path) => {
      const page = await context.newPage()
      await page.goto(`${server().url}${path}?progress`)
      return page
    }))
    await Promise.all(pages.map((page) => waitForLive(page)))
    expect(await Promise.all(pages.map(protocolOf))).toEqual(Array(10).fill("h2"))

    // All ten streams stay open while ten transfers run: each dashboard sees its own through to the end.
    const transfers = paths.map((path) => {
      const receiver = spawnCurl([...h2, `${server().url}${path}`], { keep: false })
      const sender = spawnCurl([...h2, "--data-binary", "@-", `${server().url}${path}`], {
        stdin: prngBytes(path, 1_000_000)
      })
      return Promise.all([receiver.result, sender.result])
    })
    const results = await Promise.all(transfers)
    expect(results.map(([got]) => got.code)).toEqual(Array(10).fill(0))
    for (const page of pages) await waitForText(page, "#done-title", "Transfer complete", 15_000)
    await context.close()
  }, 60_000)

  it("the home page sends a 20 MB file as a streaming fetch over h2, byte for byte to a curl receiver", async () => {
    const context = await newContext()
    const page = await context.newPage()
    const requests: Array<string> = []
    page.on("request", (request) => requests.push(`${request.method()} ${request.url()}`))
    const errors: Array<string> = []
    page.on("pageerror", (error) => errors.push(error.message))
    await page.goto(`${server().url}/`)
    await page.waitForSelector("html[data-ready=true]")
    expect(await protocolOf(page)).toBe("h2")

    const name = uniqueName("h2-home-file")
    const path = pipePath(name)
    const bytes = prngBytes(name, 20_000_000)
    const dir = artifactPath("h2-upload", "d")
    mkdirSync(dir, { recursive: true })
    const file = join(dir, "report.pdf")
    writeFileSync(file, bytes)
    await page.fill("#path", name)
    await page.setInputFiles("#file", file)
    await page.click("#send-file")
    await waitForProbe(server(), path, (p) => p.state === "waiting", "the page's sender to wait")
    const receiver = spawnCurl([...h2, `${server().url}${path}`], { keep: false })
    await page.waitForSelector("#t-title.ok", { timeout: 30_000 })
    const got = await receiver.result
    expect(got.code).toBe(0)
    expect({ bytes: got.bytes, sha256: got.sha256 }).toEqual({ bytes: bytes.length, sha256: sha256(bytes) })
    expect(header(got.head, "content-type")).toBe("application/pdf")
    expect(header(got.head, "content-disposition")).toBe("attachment; filename=\"report.pdf\"")
    // The streaming upload names its size in the URL (a stream has no Content-Length); XHR's does not.
    expect(requests).toContain(`PUT ${server().url}${path}?total=${bytes.length}`)
    expect(await page.textContent("#log")).toContain("[INFO] Sent successfully!")
    expect(errors).toEqual([])
    await context.close()
  }, 60_000)
})
