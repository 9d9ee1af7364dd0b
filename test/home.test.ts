// The web front door: `/` (send and receive in a browser), `/noscript` (the same without JavaScript) and
// `/help`, driven through a real server process, real curl parties and real headless Chromium.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import type { Browser, Page } from "playwright-core"
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest"
import { artifactPath, artifactsDir } from "./support/artifacts.js"
import { closePages, expectFreshBuild, launchChromium, openPage, type WatchedPage } from "./support/browser-home.js"
import { curl, header, spawnCurl } from "./support/curl.js"
import { prngBytes } from "./support/data.js"
import { sha256, sha256File } from "./support/hash.js"
import { request } from "./support/http.js"
import { pipePath, uniqueName, waitForProbe, waitForReceivers } from "./support/pipe.js"
import { useServer } from "./support/server.js"

// Trusting the loopback peer: a test plays a proxy (X-Forwarded-Proto is believed only from one, §11).
const server = useServer(["--trust-proxy", "127.0.0.1/32"])
const url = (): string => server().url

let browser: Browser | undefined
const chromium = (): Browser => {
  if (browser === undefined) throw new Error("Chromium not launched")
  return browser
}

beforeAll(async () => {
  expectFreshBuild([
    ["src/web/index.ts", "dist/main.js"],
    ["src/web/HomePage.ts", "dist/main.js"],
    ["src/web/NoscriptPage.ts", "dist/main.js"],
    ["src/web/browser/home.ts", "dist/main.js"],
    ["src/web/PageShell.ts", "dist/main.js"],
    ["src/web/SiteStyle.ts", "dist/main.js"],
    ["src/web/CommandLines.ts", "dist/main.js"]
  ])
  browser = await launchChromium()
}, 30_000)

afterAll(async () => {
  await browser?.close()
})

/** Pages a test opened; each must end without a dialog, a script error or a CSP violation. */
const opened: Array<WatchedPage> = []

afterEach(async () => {
  const pages = opened.splice(0)
  await closePages()
  for (const watched of pages) {
    expect(watched.dialogs, "no dialog ever opens").toEqual([])
    expect(watched.errors, "no script error, no CSP violation").toEqual([])
  }
})

const open = async (path: string, options: Parameters<typeof openPage>[1] = {}): Promise<WatchedPage> => {
  const watched = await openPage(chromium(), options)
  opened.push(watched)
  const response = await watched.page.goto(`${url()}${path}`)
  expect(response?.status()).toBe(200)
  return watched
}

/** The home page with its script running (it marks `<html data-ready>` when it has wired everything). */
const openHome = async (options: Parameters<typeof openPage>[1] = {}): Promise<WatchedPage> => {
  const watched = await open("/", options)
  await watched.page.waitForSelector("html[data-ready=true]")
  return watched
}

const setPath = async (page: Page, name: string, n = 1): Promise<void> => {
  await page.fill("#path", name)
  await page.fill("#n", String(n))
}

/** Writes `bytes` to a fresh directory under test-artifacts/ as `name`; returns the file's path. */
const writeUpload = (name: string, bytes: Buffer): string => {
  const dir = artifactPath("upload", "d")
  mkdirSync(dir, { recursive: true })
  const file = join(dir, name)
  writeFileSync(file, bytes)
  return file
}

/** Records every value the progress bar's aria-valuenow takes, from now on. */
const recordProgress = (page: Page): Promise<void> =>
  page.evaluate(() => {
    const bar = document.getElementById("bar")
    const seen: Array<number> = []
    Reflect.set(window, "__progress", seen)
    if (bar === null) return
    new MutationObserver(() => {
      const value = bar.getAttribute("aria-valuenow")
      if (value !== null) seen.push(Number(value))
    }).observe(bar, { attributes: true, attributeFilter: ["aria-valuenow"] })
  })

const recordedProgress = (page: Page): Promise<Array<number>> =>
  page.evaluate(() => {
    const seen: unknown = Reflect.get(window, "__progress")
    return Array.isArray(seen) ? seen.map(Number) : []
  })

/** What Chromium logs by itself for a request answered 400. */
const badRequestLogged = "console: Failed to load resource: the server responded with a status of 400 (Bad Request)"

describe("home page: send from the browser", () => {
  it("sends a text to a curl receiver, byte for byte, and reports success", async () => {
    const { page } = await openHome()
    const name = uniqueName("home-text")
    const receiver = spawnCurl([`${url()}${pipePath(name)}`])
    await waitForReceivers(server(), pipePath(name), 1)

    const text = "Grüße from the browser ✓\nsecond line, with <b>markup</b> & \"quotes\"\n"
    await setPath(page, name)
    await page.click("#tab-text")
    await page.fill("#text", text)
    await page.click("#send-text")

    await page.waitForSelector("#t-title.ok")
    const got = await receiver.result
    expect(got.code).toBe(0)
    expect(got.stdout.equals(Buffer.from(text, "utf8"))).toBe(true)
    expect(header(got.head, "content-type")).toBe("text/plain; charset=utf-8")
    expect(await page.textContent("#log")).toContain("[INFO] Sent successfully!")
    expect(await page.getAttribute("#bar", "aria-valuenow")).toBe("100")
  })

  it("sends a 20 MB file to a curl receiver with its name and type, the progress bar reaching 100%", async () => {
    const { page, requests } = await openHome()
    const name = uniqueName("home-file")
    const bytes = prngBytes(name, 20_000_000)
    const fileName = "Holiday report (final) 2024.pdf"
    await setPath(page, name)
    await page.setInputFiles("#file", writeUpload(fileName, bytes))
    expect(await page.textContent("#file-name")).toBe(fileName)
    await recordProgress(page)
    await page.click("#send-file")

    // The page comes first and says whom it waits for (from the spectator stream).
    await waitForProbe(server(), pipePath(name), (p) => p.state === "waiting", "the page's sender to wait")
    await page.waitForSelector("#t-title:has-text('Waiting for 1 receiver')")

    // A receiver slow enough (10 MB/s) for the bar to move through intermediate values.
    const receiver = spawnCurl(["--limit-rate", "10M", `${url()}${pipePath(name)}`], { keep: false })
    await page.waitForSelector("#t-title.ok", { timeout: 20_000 })
    const got = await receiver.result

    expect(got.code).toBe(0)
    expect({ bytes: got.bytes, sha256: got.sha256 }).toEqual({ bytes: bytes.length, sha256: sha256(bytes) })
    expect(header(got.head, "content-disposition")).toBe(`attachment; filename="${fileName}"`)
    expect(header(got.head, "content-type")).toBe("application/pdf")
    expect(header(got.head, "content-length")).toBe(String(bytes.length))

    expect(await page.getAttribute("#bar", "aria-valuenow")).toBe("100")
    expect(await page.textContent("#t-pct")).toBe("100%")
    const seen = await recordedProgress(page)
    expect(seen.at(-1)).toBe(100)
    expect(seen.some((v) => v > 0 && v < 100), `intermediate progress values: ${JSON.stringify(seen)}`).toBe(true)
    expect(requests).toContain(`PUT ${url()}${pipePath(name)}`)
  })

  it("shows the server's [ERROR] line as text when the send is refused", async () => {
    const { page, errors } = await openHome()
    const name = uniqueName("home-refused")
    // A curl receiver waits with n=2: the page's sender with n=1 does not match.
    const receiver = spawnCurl([`${url()}${pipePath(name)}?n=2`])
    await waitForReceivers(server(), pipePath(name), 1)
    await setPath(page, name, 1)
    await page.click("#tab-text")
    await page.fill("#text", "refused")
    await page.click("#send-text")
    await page.waitForSelector("#t-title.bad")
    expect(await page.textContent("#error")).toBe("[ERROR] The number of receivers should be 2 but 1.")
    expect(await page.$$eval("#error *", (children) => children.length)).toBe(0)
    expect(errors.splice(0), "the browser logs the refused request, nothing else").toEqual([badRequestLogged])
    receiver.kill()
  })
})

describe("home page: receive in the browser", () => {
  it("receives a file from a curl sender, saved under the sender's file name", async () => {
    const { page } = await openHome()
    const name = uniqueName("home-receive")
    const bytes = prngBytes(name, 5_000_000)
    const upload = writeUpload("data.bin", bytes)
    await setPath(page, name)
    await page.click("#tab-receive")
    const download = page.waitForEvent("download", { timeout: 20_000 })
    await page.click("#receive")
    await waitForReceivers(server(), pipePath(name), 1)
    await page.waitForSelector("#t-title:has-text('Waiting for the sender')")

    const sender = await curl([
      "-T",
      upload,
      "-H",
      `Content-Disposition: attachment; filename="measurements-${name}.bin"`,
      `${url()}${pipePath(name)}`
    ])
    expect(sender.code).toBe(0)
    expect(sender.stdoutText).toContain("[INFO] Sent successfully!")

    const saved = await download
    expect(saved.suggestedFilename()).toBe(`measurements-${name}.bin`)
    const target = artifactPath("download", "bin")
    await saved.saveAs(target)
    expect(await sha256File(target)).toBe(sha256(bytes))
    await page.waitForSelector("#t-title.ok")
    expect(await page.getAttribute("#bar", "aria-valuenow")).toBe("100")
  })

  it("shows a received text in the page, as text", async () => {
    const { page } = await openHome()
    const name = uniqueName("home-receive-text")
    await setPath(page, name)
    await page.click("#tab-receive")
    await page.click("#receive")
    await waitForReceivers(server(), pipePath(name), 1)
    const text = "<img src=x onerror=alert(1)> arrived ✓\n"
    const sender = await curl(["-T", "-", "-H", "Content-Type: text/html", `${url()}${pipePath(name)}`], {
      stdin: text
    })
    expect(sender.code).toBe(0)
    await page.waitForSelector("#t-title.ok")
    expect(await page.textContent("#preview-text")).toBe(text)
    expect(await page.$$eval("#preview-text *", (children) => children.length)).toBe(0)
  })

  it("shows the server's [ERROR] line as text when the receive is refused", async () => {
    const { page, errors } = await openHome()
    const name = uniqueName("home-receive-refused")
    const waiting = spawnCurl([`${url()}${pipePath(name)}?n=2`])
    await waitForReceivers(server(), pipePath(name), 1)
    await setPath(page, name, 3)
    await page.click("#tab-receive")
    await page.click("#receive")
    await page.waitForSelector("#t-title.bad")
    expect(await page.textContent("#error")).toBe("[ERROR] The number of receivers should be 2 but 3.")
    expect(errors.splice(0), "the browser logs the refused request, nothing else").toEqual([badRequestLogged])
    waiting.kill()
  })
})

describe("/noscript", () => {
  /** Opens /noscript for `name`, picks `fileName` and submits the form to a waiting curl receiver. */
  const postForm = async (name: string, fileName: string, bytes: Buffer) => {
    const watched = await open(`/noscript?path=${encodeURIComponent(name)}`)
    const { page } = watched
    await page.setInputFiles("#input_file", writeUpload(fileName, bytes))
    const receiver = spawnCurl([`${url()}${pipePath(name)}`], { keep: false })
    await waitForReceivers(server(), pipePath(name), 1)
    await page.click("button[type=submit]")
    await page.waitForFunction(() => document.body.innerText.includes("All receiver(s) received successfully."))
    return { ...watched, got: await receiver.result }
  }

  it("relays the form's file part with its Content-Disposition, so the receiver keeps the file name", async () => {
    const name = uniqueName("noscript-name")
    const bytes = prngBytes(name, 10_000)
    const { got } = await postForm(name, "notes 2024.txt", bytes)
    expect(got.code).toBe(0)
    expect(got.sha256).toBe(sha256(bytes))
    expect(header(got.head, "content-type")).toBe("text/plain")
    // protocol §3: the first part is relayed "with that part's Content-Type and Content-Disposition".
    expect(header(got.head, "content-disposition")).toBe(`form-data; name="input_file"; filename="notes 2024.txt"`)
  })

  it("posts the file of the form to a curl receiver (the first multipart part, with its type)", async () => {
    const name = uniqueName("noscript")
    // Sanitised: leading slashes stripped, characters outside the alphabet dropped.
    const { page, requests } = await open(`/noscript?path=${encodeURIComponent(`//${name}<>"`)}`)
    expect(await page.getAttribute("form", "action")).toBe(pipePath(name))
    expect(await page.getAttribute("form", "method")).toBe("post")
    expect(await page.getAttribute("form", "enctype")).toBe("multipart/form-data")
    expect(await page.$$("script")).toHaveLength(0)

    const bytes = prngBytes(name, 1_000_000)
    await page.setInputFiles("#input_file", writeUpload("photo.jpg", bytes))
    const receiver = spawnCurl([`${url()}${pipePath(name)}`], { keep: false })
    await waitForReceivers(server(), pipePath(name), 1)
    await page.click("button[type=submit]")
    await page.waitForURL(`${url()}${pipePath(name)}`)
    await page.waitForFunction(() => document.body.innerText.includes("All receiver(s) received successfully."))

    const got = await receiver.result
    expect(got.code).toBe(0)
    expect({ bytes: got.bytes, sha256: got.sha256 }).toEqual({ bytes: bytes.length, sha256: sha256(bytes) })
    expect(header(got.head, "content-type")).toBe("image/jpeg")
    expect(requests.filter((r) => r.startsWith("POST "))).toEqual([`POST ${url()}${pipePath(name)}`])
  })

  it("sends a text with ?mode=text, and without ?path asks for the path first", async () => {
    const name = uniqueName("noscript-text")
    const { page } = await open("/noscript")
    expect(await page.getAttribute("form", "method")).toBe("get")
    await page.fill("#path", name)
    await page.click("button[type=submit]")
    await page.waitForSelector("#input_file")
    expect(new URL(page.url()).searchParams.get("path")).toBe(name)

    await page.click("a:has-text('Text')")
    await page.waitForSelector("#input_text")
    expect(new URL(page.url()).searchParams.get("mode")).toBe("text")
    const text = "plain text, no script ✓"
    await page.fill("#input_text", text)
    const receiver = spawnCurl([`${url()}${pipePath(name)}`])
    await waitForReceivers(server(), pipePath(name), 1)
    await page.click("button[type=submit]")
    await page.waitForFunction(() => document.body.innerText.includes("All receiver(s) received successfully."))
    const got = await receiver.result
    expect(got.code).toBe(0)
    expect(got.stdoutText).toBe(text)
  })

  it("answers the form with a page a phone reads: the same lines as HTML at its width, then \"Sent ✓\"", async () => {
    const name = uniqueName("noscript-phone")
    const watched = await open(`/noscript?path=${encodeURIComponent(name)}`, {
      viewport: { width: 360, height: 740 },
      isMobile: true
    })
    const { page } = watched
    await page.setInputFiles("#input_file", writeUpload("phone.bin", prngBytes(name, 50_000)))
    const receiver = spawnCurl([`${url()}${pipePath(name)}`], { keep: false })
    await waitForReceivers(server(), pipePath(name), 1)
    const [answer] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === "POST"),
      page.click("button[type=submit]")
    ])
    expect(answer.headers()["content-type"]).toBe("text/html; charset=utf-8")
    await page.waitForFunction(() => document.body.innerText.includes("All receiver(s) received successfully."))
    expect((await receiver.result).code).toBe(0)
    expect(await page.locator("h1").innerText()).toBe("Sent ✓")
    const layout = await page.evaluate(() => ({
      scroll: document.documentElement.scrollWidth,
      font: parseFloat(getComputedStyle(document.querySelector(".lines li") ?? document.body).fontSize)
    }))
    expect(layout.scroll).toBeLessThanOrEqual(360)
    expect(layout.font).toBeGreaterThanOrEqual(14)
  })

  it("is where the home page leads a browser without JavaScript", async () => {
    const name = uniqueName("nojs")
    const { page } = await open("/", { javaScriptEnabled: false })
    expect(await page.isVisible("#send-file")).toBe(false)
    await page.fill("#path", name)
    await page.click("button:has-text('Continue to the send form')")
    await page.waitForSelector("#input_file")
    expect(new URL(page.url()).pathname).toBe("/noscript")
    expect(await page.getAttribute("form", "action")).toBe(pipePath(name))
  })

  it("runs no script and escapes what it echoes", async () => {
    const reply = await request(url(), `/noscript?path=${encodeURIComponent("../x")}`)
    expect(reply.status).toBe(200)
    const csp = String(reply.headers["content-security-policy"])
    expect(csp).toMatch(/script-src 'none'/)
    expect(csp).toMatch(/style-src 'nonce-[A-Za-z0-9+/=]{16,}'/)
    expect(reply.text).not.toMatch(/<script/i)
    expect(reply.text).toContain("is not a valid path")

    const hostile = await request(url(), `/noscript?path=${encodeURIComponent("<img src=x onerror=alert(1)>")}`)
    expect(hostile.text).not.toContain("<img")
    expect(hostile.text).toContain(`action="/api/v1/pipe/imgsrcxonerroralert1"`)
  })
})

describe("home page: dashboard link, /help, hostile input", () => {
  it("links the path's ?progress dashboard and opens it", async () => {
    const { page, context } = await openHome()
    const name = uniqueName("home-dash")
    await setPath(page, name)
    expect(await page.getAttribute("#dashboard", "href")).toBe(`${pipePath(name)}?progress`)
    const popup = context.waitForEvent("page")
    await page.click("#dashboard")
    const dashboard = await popup
    await dashboard.waitForLoadState("domcontentloaded")
    expect(dashboard.url()).toBe(`${url()}${pipePath(name)}?progress`)
    const reply = await request(url(), `${pipePath(name)}?progress`, { headers: { accept: "text/html" } })
    expect(reply.status).toBe(200)
    expect(reply.headers["content-type"]).toMatch(/^text\/html/)
  })

  it("/help and the home page name the request's host", async () => {
    const help = await curl(["-H", "Host: example.test:1234", `${url()}/help`])
    expect(help.head?.status).toBe(200)
    expect(help.stdoutText).toContain("curl -T myfile http://example.test:1234/api/v1/pipe/mypath")
    const proxied = await curl(["-H", "Host: example.test", "-H", "X-Forwarded-Proto: https", `${url()}/help`])
    expect(proxied.stdoutText).toContain("https://example.test/api/v1/pipe/mypath")

    const home = await curl(["-H", "Host: example.test:1234", `${url()}/`])
    expect(home.head?.status).toBe(200)
    expect(home.stdoutText).toContain("curl -T myfile http://example.test:1234/api/v1/pipe/mypath")
    const csp = header(home.head, "content-security-policy") ?? ""
    const nonce = /script-src 'nonce-([^']+)'/.exec(csp)?.[1]
    expect(nonce).toBeDefined()
    expect(csp).toContain("default-src 'none'")
    expect(csp).toContain("connect-src 'self'")
    expect(csp).toContain("frame-ancestors 'none'")
    expect(home.stdoutText).toContain(`<script type="module" nonce="${nonce}">`)
    // The inlined client script is self-contained: no module import, no map to fetch, no external asset.
    expect(home.stdoutText).not.toMatch(/^\s*import[\s{*"']/m)
    expect(home.stdoutText).not.toContain("sourceMappingURL")
    expect(home.stdoutText).not.toMatch(/(src|href)="(https?:)?\/\//)
    const again = await curl([`${url()}/`])
    expect(header(again.head, "content-security-policy")).not.toBe(csp)
  })

  it("refuses hostile paths with a message shown as text, sending nothing", async () => {
    const { page, requests, dialogs } = await openHome()
    await page.click("#tab-text")
    await page.fill("#text", "never sent")
    const cases: ReadonlyArray<readonly [string, string]> = [
      ["../x", "“../x” is not a valid path. “.” and “..” are not allowed"],
      [
        "<img src=x onerror=alert(1)>",
        "“<img src=x onerror=alert(1)>” is not a valid path. A path may only contain letters, " +
        "digits, . _ ~ - and /. Not allowed: “<” space “=” “(” “)” “>”."
      ],
      ["a//b", "empty part"],
      ["/a", "may not start or end with “/”"],
      ["x".repeat(513), "at most 512 bytes"]
    ]
    for (const [path, message] of cases) {
      await page.fill("#path", path)
      for (const button of ["#send-text", "#tab-receive", "#receive", "#tab-text"]) await page.click(button)
      expect(await page.isVisible("#path-error"), path).toBe(true)
      expect(await page.textContent("#path-error"), path).toContain(message)
      expect(await page.$$eval("#path-error *", (children) => children.length), path).toBe(0)
      expect(await page.getAttribute("#dashboard", "aria-disabled"), path).toBe("true")
      expect(await page.isVisible("#transfer"), path).toBe(false)
    }
    expect(await page.$$("img")).toHaveLength(0)
    expect(requests.filter((r) => r.includes("/api/v1/pipe/"))).toEqual([])
    expect(dialogs).toEqual([])
  })
})

describe("home page: looks", () => {
  const shots: ReadonlyArray<
    { readonly file: string; readonly width: number; readonly dark?: boolean; readonly path?: string }
  > = [
    { file: "home-360.png", width: 360 },
    { file: "home-1280.png", width: 1280 },
    { file: "home-360-dark.png", width: 360, dark: true },
    { file: "home-1280-dark.png", width: 1280, dark: true },
    { file: "home-noscript-360.png", width: 360, path: "/noscript?path=photos/holiday" }
  ]
  for (const { file, width, dark = false, path = "/" } of shots) {
    it(`${file}: no horizontal scroll at ${width} px`, async () => {
      const { page } = await open(path, { viewport: { width, height: 800 }, colorScheme: dark ? "dark" : "light" })
      if (path === "/") {
        await page.waitForSelector("html[data-ready=true]")
        await page.fill("#path", "photos/holiday")
      }
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)
      expect(overflow, "horizontal overflow in px").toBeLessThanOrEqual(0)
      await page.screenshot({ path: join(artifactsDir, file), fullPage: true })
      expect(readFileSync(join(artifactsDir, file)).length).toBeGreaterThan(10_000)
      if (path === "/") {
        // A long path (and its curl lines) wraps or scrolls inside its box, never the page.
        await page.fill("#path", Array.from({ length: 40 }, (_, i) => `segment-${i}`).join("/"))
        await page.fill("#n", "256")
        expect(await page.textContent("#cmd-receive")).toContain("segment-39?n=256")
        const longOverflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)
        expect(longOverflow, "horizontal overflow with a long path").toBeLessThanOrEqual(0)
      }
    })
  }

  it("home-360-sent.png: the transfer panel after a send fits a phone", async () => {
    const { page } = await openHome({ viewport: { width: 360, height: 800 } })
    const name = uniqueName("home-shot")
    const receiver = spawnCurl([`${url()}${pipePath(name)}`], { keep: false })
    await waitForReceivers(server(), pipePath(name), 1)
    await setPath(page, name)
    await page.setInputFiles("#file", writeUpload("IMG_2041.jpg", prngBytes(name, 3_000_000)))
    await page.click("#send-file")
    await page.waitForSelector("#t-title.ok")
    expect((await receiver.result).code).toBe(0)
    expect(await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)).toBeLessThanOrEqual(0)
    await page.screenshot({ path: join(artifactsDir, "home-360-sent.png"), fullPage: true })
  })
})
