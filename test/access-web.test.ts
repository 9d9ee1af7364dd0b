// Access control in the browser (issue 16): the home page takes a token from its own `?token=` (or pasted) and
// uses it for its upload, its spectator stream and its links; the dashboard opened with `?token=` uses it for its
// EventSource and hands on a link with the token only when it is watch-only. Real server, real Chromium.
import { randomBytes } from "node:crypto"
import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import type { Browser } from "playwright-core"
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest"
import { mintToken } from "../src/domain/CapabilityToken.js"
import { closePages, launchChromium, openPage, type WatchedPage } from "./support/browser-home.js"
import { spawnCurl } from "./support/curl.js"
import { waitForText } from "./support/dashboard.js"
import { request } from "./support/http.js"
import { pipePath, uniqueName } from "./support/pipe.js"
import { useServer } from "./support/server.js"
import { waitFor } from "./support/wait.js"

const dir = mkdtempSync(join(tmpdir(), "pipe-access-web-"))
const secret = randomBytes(48)
const secretFile = join(dir, "secret")
writeFileSync(secretFile, secret)
const admin = `admin-${randomBytes(12).toString("hex")}`
const tokensFile = join(dir, "tokens")
writeFileSync(tokensFile, `${admin} send,receive,watch\n`)

const server = useServer(["--tokens-file", tokensFile, "--token-secret", secretFile, "--retention", "5s"])
const url = () => server().url
const bearer = { authorization: `Bearer ${admin}` }

let browser: Browser | undefined
const chromium = (): Browser => {
  if (browser === undefined) throw new Error("Chromium not launched")
  return browser
}
beforeAll(async () => {
  browser = await launchChromium()
}, 30_000)
afterAll(async () => {
  await browser?.close()
})
const opened: Array<WatchedPage> = []
afterEach(async () => {
  opened.splice(0)
  await closePages()
})

const open = async (path: string): Promise<WatchedPage> => {
  const watched = await openPage(chromium())
  opened.push(watched)
  const response = await watched.page.goto(`${url()}${path}`)
  expect(response?.status()).toBe(200)
  return watched
}

describe("home page with a token", () => {
  it("takes ?token= from its URL: the upload sends it as a header, the links carry it", async () => {
    const { page, requests } = await open(`/?token=${admin}`)
    await page.waitForSelector("html[data-ready=true]")
    expect(await page.inputValue("#token")).toBe(admin)
    // The proposed path is unguessable: 128 random bits.
    expect(await page.inputValue("#path")).toMatch(/^[A-Za-z0-9_-]{22}$/)
    const name = uniqueName("home-token")
    const receiver = spawnCurl(["-H", `Authorization: Bearer ${admin}`, `${url()}${pipePath(name)}`])
    await waitFor(
      async () =>
        (await request(url(), pipePath(name), { method: "HEAD", headers: bearer })).headers["x-pipe-receivers"] ===
          "1/1",
      {
        what: "the receiver waiting"
      }
    )
    await page.fill("#path", name)
    expect(await page.getAttribute("#dashboard", "href")).toBe(`${pipePath(name)}?progress&token=${admin}`)
    await page.click("#tab-text")
    await page.fill("#text", "with a token")
    await page.click("#send-text")
    await page.waitForSelector("#t-title.ok")
    expect((await receiver.result).stdoutText).toBe("with a token")
    // The upload itself never had the token in its URL.
    expect(requests.filter((r) => r.startsWith("PUT ")).every((r) => !r.includes(admin))).toBe(true)
  })

  it("without a token the server's 401 is shown", async () => {
    const { page } = await open("/")
    await page.waitForSelector("html[data-ready=true]")
    await page.fill("#path", uniqueName("no-token"))
    await page.click("#tab-text")
    await page.fill("#text", "refused")
    await page.click("#send-text")
    await page.waitForSelector("#error:not([hidden])")
    expect(await page.textContent("#error")).toContain("A token is required for send on")
  })
})

describe("/noscript with a token", () => {
  it("takes the token in its path form and sends it in the form's ?token=, never showing it", async () => {
    const name = uniqueName("noscript-token")
    const { page, requests } = await open("/noscript")
    await page.fill("#path", name)
    await page.fill("#token", admin)
    await page.click("button[type=submit]")
    await page.waitForSelector("#input_file")
    const action = `${pipePath(name)}?token=${admin}`
    expect(await page.getAttribute("form", "action")).toBe(action)
    expect(await page.textContent(".target code")).toBe(pipePath(name))
    expect(await page.getAttribute(".modes a:not([aria-current])", "href")).toBe(
      `/noscript?path=${name}&mode=text&token=${admin}`
    )

    const receiver = spawnCurl(["-H", `Authorization: Bearer ${admin}`, `${url()}${pipePath(name)}`])
    await waitFor(
      async () =>
        (await request(url(), pipePath(name), { method: "HEAD", headers: bearer })).headers["x-pipe-receivers"] ===
          "1/1",
      { what: "the receiver waiting" }
    )
    await page.setInputFiles("#input_file", { name: "note.txt", mimeType: "text/plain", buffer: Buffer.from("form") })
    await page.click("button[type=submit]")
    await page.waitForFunction(() => document.body.innerText.includes("All receiver(s) received successfully."))
    expect((await receiver.result).stdoutText).toBe("form")
    expect(requests.filter((r) => r.startsWith("POST "))).toEqual([`POST ${url()}${action}`])
  })

  it("without one the upload is refused with the 401 of §12", async () => {
    const name = uniqueName("noscript-none")
    const { page } = await open(`/noscript?path=${name}&mode=text`)
    expect(await page.getAttribute("form", "action")).toBe(pipePath(name))
    await page.fill("#input_text", "refused")
    await page.click("button[type=submit]")
    await page.waitForFunction(() => document.body.innerText.includes("A token is required for send on"))
  })
})

describe("dashboard with ?token=", () => {
  it("follows the stream with the page's token; its share link carries a watch-only token", async () => {
    const name = uniqueName("dash-token")
    const watchOnly = mintToken(secret, {
      path: name,
      prefix: false,
      roles: ["watch"],
      expiresAt: Date.now() + 600_000
    })
    const { page, requests } = await open(`${pipePath(name)}?progress&token=${watchOnly}`)
    await page.waitForSelector("#conn[data-conn=live]:not([hidden])", { state: "attached", timeout: 10_000 })
    const sent = request(url(), pipePath(name), { method: "PUT", headers: bearer, body: "observed" })
    const got = await request(url(), pipePath(name), { headers: bearer })
    expect(got.text).toBe("observed")
    await sent
    await waitForText(page, "#state", "Complete")
    expect(requests.some((r) => r.includes("progress=sse") && r.includes(`token=${watchOnly}`))).toBe(true)
    expect(await page.textContent("#share-url")).toContain(`token=${watchOnly}`)
  })

  it("a token that also opens the data never goes in the share link", async () => {
    const name = uniqueName("dash-strong")
    const strong = mintToken(secret, {
      path: name,
      prefix: false,
      roles: ["receive", "watch"],
      expiresAt: Date.now() + 600_000
    })
    const { page } = await open(`${pipePath(name)}?progress&token=${strong}`)
    await page.waitForSelector("#conn[data-conn=live]:not([hidden])", { state: "attached", timeout: 10_000 })
    const share = await page.textContent("#share-url")
    expect(share).toBe(`${url()}${pipePath(name)}?progress`)
  })
})
