/**
 * The dashboard for a phone in a pocket (issue 13), in a real Chromium at 360×740 and 1280×800: the idle view
 * with the last result (protocol §9), numbers that agree with the JSON, the tab title, notify / copy link /
 * QR code, and the lost-connection state when the server goes away.
 */
import { Schema } from "effect"
import { createServer as createHttpServer, type Server } from "node:http"
import { type AddressInfo, connect, createServer as createTcpServer, type Socket } from "node:net"
import type { Page } from "playwright-core"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import type { DoneData } from "../src/schema/PipeEvent.js"
import { Snapshot } from "../src/schema/Snapshot.js"
import { encodeQr } from "../src/web/browser/Qr.js"
import { renderDashboard } from "../src/web/DashboardPage.js"
import { useBrowser } from "./support/browser.js"
import {
  desktop,
  expectFreshBuild,
  noProblems,
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
import { idleSnapshot } from "./support/snapshots.js"
import { curlReceiver, curlSender } from "./support/transfer.js"
import { waitFor } from "./support/wait.js"

declare global {
  interface Window {
    __notes?: Array<{ readonly title: string; readonly body: string }>
    __asked?: number
  }
}

const viewports = [{ name: "360", options: phone }, { name: "1280", options: desktop }] as const

const scrollWidth = (page: Page) => page.evaluate(() => document.documentElement.scrollWidth)

const decodeSnapshot = Schema.decodeUnknownSync(Snapshot)

const snapshotJson = async (url: string): Promise<Snapshot> => {
  const response = await fetch(url, { headers: { accept: "application/json" } })
  return decodeSnapshot(await response.json())
}

/** Wraps `window.Notification` so the test sees every notification and every permission request. */
const observeNotifications = () => {
  const notes: Array<{ readonly title: string; readonly body: string }> = []
  window.__notes = notes
  window.__asked = 0
  const Original = window.Notification
  class Observed extends Original {
    constructor(title: string, options?: NotificationOptions) {
      super(title, options)
      notes.push({ title, body: options?.body ?? "" })
    }
    static override requestPermission(): Promise<NotificationPermission> {
      window.__asked = (window.__asked ?? 0) + 1
      return Original.requestPermission()
    }
  }
  window.Notification = Observed
}

/** An idle snapshot whose history holds `last`: what the server answers once §9's store is in. */
const idleWithLast = (path: string, last: DoneData, now: number): Snapshot => idleSnapshot(path, now, { last })

/** A stand-in server: renders the real page and script from `snapshotFor`, and an SSE stream that says idle. */
const standIn = async (script: string, snapshotFor: (path: string) => Snapshot, now: number) => {
  const server: Server = createHttpServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://x")
    const snapshot = snapshotFor(url.pathname)
    if (url.search === "?progress=sse") {
      res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" })
      res.write(
        `event: state\nid: 1\ndata: ${
          JSON.stringify({ state: "idle", transferId: null, sender: false, receivers: 0, expectedReceivers: 0, at: 1 })
        }\n\n`
      )
      return
    }
    if (url.search === "?progress=json") {
      res.writeHead(200, { "content-type": "application/json" })
      res.end(JSON.stringify(snapshot))
      return
    }
    const page = renderDashboard({ path: url.pathname, snapshot, nonce: "c3RhbmQtaW4tbm9uY2U", script, now })
    res.writeHead(200, { "content-type": page.contentType, ...page.headers })
    res.end(page.body)
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
    }
  }
}

/** A TCP relay in front of a server: the page's only way there, re-pointed when the server is replaced. */
const relayTo = async (initial: ServerHandle) => {
  let target = initial.port
  const sockets = new Set<Socket>()
  const pairs = new Set<readonly [Socket, Socket]>()
  let held: Array<() => void> | undefined
  const relay = createTcpServer((client) => {
    const upstream = connect(target, "127.0.0.1")
    sockets.add(client).add(upstream)
    const join = () => {
      pairs.add([client, upstream])
      client.pipe(upstream).pipe(client)
    }
    if (held === undefined) join()
    else held.push(join)
    const end = () => {
      client.destroy()
      upstream.destroy()
      sockets.delete(client)
      sockets.delete(upstream)
    }
    client.on("error", end).on("close", end)
    upstream.on("error", end).on("close", end)
  })
  await new Promise<void>((resolve) => relay.listen(0, "127.0.0.1", resolve))
  const { port } = relay.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    point: (server: ServerHandle) => {
      target = server.port
    },
    /** Every connection goes silent both ways without closing, new ones too: a phone's network gone. */
    freeze: () => {
      held = []
      for (const [client, upstream] of pairs) {
        client.unpipe(upstream)
        upstream.unpipe(client)
        client.pause()
        upstream.pause()
      }
      pairs.clear()
    },
    /** The network is back: connections made meanwhile go through (the frozen ones stay dead). */
    thaw: () => {
      const waiting = held ?? []
      held = undefined
      for (const join of waiting) join()
    },
    close: async () => {
      for (const socket of sockets) socket.destroy()
      await new Promise((resolve) => relay.close(resolve))
    }
  }
}

describe("dashboard on a phone and a desktop", () => {
  const server = useServer(["--retention", "1s"])
  const open = useBrowser()
  beforeAll(expectFreshBuild)

  const dashboardUrl = (path: string) => `${server().url}${path}?progress`

  it("idle view with the last result: the real server's history at both sizes, then hours later in another zone", async () => {
    const path = pipePath(uniqueName("dash-sunrise"))
    const watcher = await open(dashboardUrl(path), phone)
    await waitForLive(watcher.page)
    const parties = [
      curlReceiver(server(), path),
      curlSender(server(), `${path}?total=2000000`, new PrngSource(path, { size: 2_000_000 }))
    ]
    for (const party of await Promise.all(parties.map((p) => p.result))) expect(party.code).toBe(0)
    // the 1 s retention ends: the open page goes idle and keeps the result it saw
    await waitForText(watcher.page, "#state", "Idle")
    expect(await textOf(watcher.page, "#summary")).toMatch(/^Last transfer: complete · 2\.00 MB in /)
    noProblems(watcher)

    const { last } = await snapshotJson(dashboardUrl(path))
    // The history (§9): a fresh page after the retention has the result in its first paint.
    expect(last, "the JSON's last after the retention").not.toBeNull()
    for (const { options } of viewports) {
      const fresh = await open(dashboardUrl(path), options)
      expect(await textOf(fresh.page, "#state")).toBe("Idle")
      expect(await textOf(fresh.page, "#summary")).toMatch(
        /^Last transfer: complete · 2\.00 MB in [\d.]+ s · finished (just now|\d+ s ago) \(\d{4}-\d\d-\d\d \d\d:\d\d\)$/
      )
      expect(await textOf(fresh.page, "#done-title")).toBe("Last transfer: complete")
      expect(await textOf(fresh.page, "#done-meta")).toMatch(/^no errors · finished /)
      expect(await scrollWidth(fresh.page)).toBeLessThanOrEqual(options.viewport.width)
      noProblems(fresh)
    }
    // Hours ago and another time zone: the very renderer and client the server uses, fed such a snapshot.
    const finishedAt = Date.UTC(2026, 11, 2, 5, 14, 0)
    const now = finishedAt + 3 * 3600_000 + 60_000
    const ok: DoneData = {
      transferId: "t_sunrise",
      ok: true,
      bytes: 7_600_000_000,
      total: 7_600_000_000,
      durationSec: 8 * 3600 + 2 * 60,
      avgMbps: 262.4,
      error: null,
      at: finishedAt
    }
    const failed: DoneData = { ...ok, ok: false, bytes: 1_230_000_000, error: "The sender disconnected." }
    const stand = await standIn(
      await servedScript(dashboardUrl(path)),
      (p) => idleWithLast(p, p.endsWith("aborted") ? failed : ok, now),
      now
    )
    try {
      const first = await fetch(`${stand.url}/api/v1/pipe/migration?progress`)
      // the first paint cannot know the reader's zone: UTC, said so
      expect(await first.text()).toContain(
        "Last transfer: complete · 7.60 GB in 8h 02m · finished 3 h ago (2026-12-02 05:14 UTC)"
      )
      for (const { name, options } of viewports) {
        const watched = await open(`${stand.url}/api/v1/pipe/migration?progress`, {
          ...options,
          timezoneId: "Asia/Tokyo"
        })
        const { page } = watched
        await page.clock.install({ time: now })
        // the client renders in the browser's zone (UTC+9) and the "ago" moves on by itself
        await waitForText(
          page,
          "#summary",
          "Last transfer: complete · 7.60 GB in 8h 02m · finished 3 h ago (2026-12-02 14:14)"
        )
        await page.clock.fastForward("01:00:00")
        await waitForText(
          page,
          "#summary",
          "Last transfer: complete · 7.60 GB in 8h 02m · finished 4 h ago (2026-12-02 14:14)"
        )
        expect(await textOf(page, "#state")).toBe("Idle")
        expect(await textOf(page, "#done-title")).toBe("Last transfer: complete")
        expect(await textOf(page, "#done-text")).toBe("7.60 GB (7,600,000,000 bytes) in 8h 02m · avg 262 MB/s")
        expect(await textOf(page, "#done-meta")).toBe("no errors · finished 4 h ago (2026-12-02 14:14)")
        expect(await page.title()).toBe("Idle · migration · pipe")
        expect(await scrollWidth(page), name).toBeLessThanOrEqual(options.viewport.width)
        noProblems(watched)
      }
      const aborted = await open(`${stand.url}/api/v1/pipe/aborted?progress`, { ...phone, timezoneId: "UTC" })
      await aborted.page.clock.install({ time: now })
      await waitForText(
        aborted.page,
        "#summary",
        "Last transfer: aborted · 1.23 GB in 8h 02m · finished 3 h ago (2026-12-02 05:14) · The sender disconnected."
      )
      expect(await textOf(aborted.page, "#done-error")).toBe("The sender disconnected.")
      noProblems(aborted)
    } finally {
      await stand.close()
    }
  })

  it("an idle path without history says so plainly", async () => {
    const path = pipePath(uniqueName("dash-never"))
    const { page, ...watched } = await open(dashboardUrl(path), phone)
    await waitForLive(page)
    expect(await textOf(page, "#summary")).toMatch(/^Nothing on this path yet/)
    expect(await page.isVisible("#done")).toBe(false)
    expect(await page.title()).toBe(`Idle · ${path.replace("/api/v1/pipe/", "")} · pipe`)
    noProblems({ page, ...watched })
  })

  it("numbers that agree: fewer bytes than announced, no percent without a total, titles while streaming and at the end", async () => {
    // fewer bytes than the announced total: the page says so, and its percent is the JSON's
    const short = pipePath(uniqueName("dash-short"))
    const shortName = short.replace("/api/v1/pipe/", "")
    const page360 = await open(dashboardUrl(short), phone)
    await waitForLive(page360.page)
    const parties = [
      curlReceiver(server(), short),
      curlSender(server(), `${short}?total=9000000`, new PrngSource(short, { size: 2_000_000 }))
    ]
    for (const party of await Promise.all(parties.map((p) => p.result))) expect(party.code).toBe(0)
    await waitForText(page360.page, "#state", "Complete")
    const done = page360.page
    expect(await textOf(done, "#done-text")).toMatch(/^2\.00 MB \(9\.00 MB expected\) in [\d.]+ s · avg /)
    expect(await textOf(done, "#done-meta")).toMatch(/^no errors · finished (just now|\d+ s ago) \(/)
    expect(await textOf(done, "#bytes")).toBe("2.00 MB")
    expect(await textOf(done, "#of")).toBe("of 9.00 MB")
    expect(await textOf(done, "#percent")).toBe("22.2%")
    expect(await done.title()).toBe(`✓ complete · ${shortName}`)
    expect(await scrollWidth(done)).toBeLessThanOrEqual(360)
    noProblems(page360)

    // a stream without a total: the bytes in the title, and no percent once it is over
    const stream = pipePath(uniqueName("dash-stream"))
    const streamName = stream.replace("/api/v1/pipe/", "")
    const watched = await open(dashboardUrl(stream), desktop)
    const { page } = watched
    await waitForLive(page)
    expect(await page.title()).toBe(`Idle · ${streamName} · pipe`)
    const unknown = pacedTransfer(server(), stream, 4_000_000, { ms: 3000, announce: false })
    await page.waitForFunction(
      (name) => new RegExp(`^[\\d.]+ [kMG]B · ${name} · pipe$`).test(document.title),
      streamName,
      { timeout: 10_000 }
    )
    await unknown.finished
    await waitForText(page, "#state", "Complete")
    expect(await textOf(page, "#percent")).toBe("")
    expect(await textOf(page, "#done-text")).toMatch(/^4\.00 MB \(4,000,000 bytes\) in /)
    expect(await page.title()).toBe(`✓ complete · ${streamName}`)

    // with a total: the percent in the title while streaming; the outcome when it aborts
    const known = pipePath(uniqueName("dash-known"))
    const knownName = known.replace("/api/v1/pipe/", "")
    const other = await open(dashboardUrl(known), phone)
    await waitForLive(other.page)
    const announced = pacedTransfer(server(), known, 8_000_000, { ms: 4000 })
    await other.page.waitForFunction(
      (name) => new RegExp(`^([1-9]\\d?)% · ${name} · pipe$`).test(document.title),
      knownName,
      { timeout: 10_000 }
    )
    announced.sender.kill("SIGKILL")
    await waitForText(other.page, "#state", "Aborted")
    expect(await other.page.title()).toBe(`✗ aborted · ${knownName}`)
    announced.stop()
    await announced.finished
    noProblems(watched)
    noProblems(other)
  })

  it("notifies when done, asking for permission on the click only", async () => {
    const path = pipePath(uniqueName("dash-notify"))
    const name = path.replace("/api/v1/pipe/", "")
    const watched = await open(dashboardUrl(path), { ...phone, initScript: observeNotifications })
    const { context, page } = watched
    await context.grantPermissions(["notifications"], { origin: server().url })
    await waitForLive(page)
    expect(await page.isVisible("#notify")).toBe(true)
    expect(await textOf(page, "#notify-text")).toBe("Notify me when done")
    expect(await page.evaluate(() => window.__asked)).toBe(0)
    const box = await page.locator("#notify").boundingBox()
    expect(box?.height ?? 0).toBeGreaterThanOrEqual(44)

    await page.locator("#notify").tap()
    await waitForText(page, "#notify-text", "Will notify when done")
    expect(await page.getAttribute("#notify", "aria-pressed")).toBe("true")

    const parties = [
      curlReceiver(server(), path),
      curlSender(server(), path, new PrngSource(path, { size: 1_500_000 }))
    ]
    for (const party of await Promise.all(parties.map((p) => p.result))) expect(party.code).toBe(0)
    await waitForText(page, "#state", "Complete")
    await page.waitForFunction(() => (window.__notes ?? []).length > 0, null, { timeout: 10_000 })
    const notes = await page.evaluate(() => window.__notes ?? [])
    expect(notes).toHaveLength(1)
    expect(notes[0]?.title).toBe(`✓ complete · ${name}`)
    expect(notes[0]?.body).toMatch(/^1\.50 MB \(1,500,000 bytes\) in [\d.]+ s · no errors$/)
    expect(await page.title()).toBe(`✓ complete · ${name}`)
    noProblems(watched)

    // not granted yet: the click, and only the click, asks; a dismissed prompt leaves it off
    const asking = await open(dashboardUrl(path), { ...desktop, initScript: observeNotifications })
    await waitForLive(asking.page)
    expect(await asking.page.evaluate(() => window.__asked)).toBe(0)
    await asking.page.locator("#notify").click()
    await asking.page.waitForFunction(() => window.__asked === 1, null, { timeout: 5000 })
    expect(await asking.page.getAttribute("#notify", "aria-pressed")).toBe("false")
    noProblems(asking)

    // without the API (an old or locked-down browser) the button is not offered
    const bare = await open(dashboardUrl(path), {
      ...desktop,
      initScript: () => {
        Reflect.deleteProperty(window, "Notification")
      }
    })
    await waitForLive(bare.page)
    expect(await bare.page.isVisible("#copy")).toBe(true)
    expect(await bare.page.isVisible("#notify")).toBe(false)
    noProblems(bare)
  })

  it("copies the page's link and shows it as a QR code that holds exactly that URL", async () => {
    const path = pipePath(uniqueName("dash-share"))
    for (const { name, options } of viewports) {
      const watched = await open(`${dashboardUrl(path)}&utm=x`, options)
      const { context, page } = watched
      await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: server().url })
      await waitForLive(page)
      const expected = `${server().url}${path}?progress`

      await page.locator("#copy").click()
      await waitForText(page, "#copy-text", "Link copied ✓")
      expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(expected)

      expect(await page.isVisible("#share")).toBe(false)
      await page.locator("#qr-toggle").click()
      await page.waitForSelector("#qr svg path", { timeout: 5000 })
      expect(await textOf(page, "#share-url")).toBe(expected)
      // the drawn symbol, read back module by module, is the reference-checked encoding of the URL
      const drawn = await page.evaluate(() => ({
        viewBox: document.querySelector("#qr svg")?.getAttribute("viewBox") ?? "",
        d: document.querySelector("#qr svg path")?.getAttribute("d") ?? ""
      }))
      const qr = encodeQr(expected, { ecc: "M" })
      expect(drawn.viewBox).toBe(`0 0 ${qr.size + 8} ${qr.size + 8}`)
      const read = Array.from({ length: qr.size }, () => new Array<boolean>(qr.size).fill(false))
      for (const [, x, y] of drawn.d.matchAll(/M(\d+) (\d+)h1v1h-1z/g)) {
        const row = read[Number(y) - 4]
        if (row !== undefined) row[Number(x) - 4] = true
      }
      expect(read).toEqual(qr.modules)
      // a phone shows it whole, without sideways scrolling; every button is big enough for a thumb
      expect(await scrollWidth(page), name).toBeLessThanOrEqual(options.viewport.width)
      const qrBox = await page.locator("#qr svg").boundingBox()
      expect(qrBox?.width ?? 0).toBeGreaterThanOrEqual(150)
      for (const button of ["#copy", "#qr-toggle"]) {
        expect((await page.locator(button).boundingBox())?.height ?? 0).toBeGreaterThanOrEqual(44)
      }
      // inline SVG, no image element and no handler attribute (the strict CSP's terms)
      expect(await page.locator("img, iframe, object, embed, form").count()).toBe(0)
      noProblems(watched)
    }
  })
})

describe("dashboard when the server goes away", () => {
  const open = useBrowser()
  let first: ServerHandle | undefined
  let second: ServerHandle | undefined
  let relay: Awaited<ReturnType<typeof relayTo>> | undefined
  beforeAll(async () => {
    first = await startServer(["--retention", "30s"])
    relay = await relayTo(first)
  }, 30_000)
  afterAll(async () => {
    await relay?.close()
    await first?.stop()
    await second?.stop()
  }, 20_000)

  it("says the connection is lost when the server is killed mid-stream, and recovers on reconnect", async () => {
    if (first === undefined || relay === undefined) throw new Error("not started")
    const path = pipePath(uniqueName("dash-gone"))
    const watched = await open(`${relay.url}${path}?progress`, phone)
    const { page } = watched
    await waitForLive(page)
    const transfer = pacedTransfer(first, path, 20_000_000, { ms: 20_000 })
    await waitForText(page, "#state", "Streaming")
    await page.waitForFunction(() => /^\d+% · /.test(document.title), null, { timeout: 10_000 })

    first.kill("SIGKILL")
    await first.exited
    await waitForText(page, "#offline", "Connection to the server lost — retrying…", 8000)
    expect(await page.isVisible("#offline")).toBe(true)
    expect(await textOf(page, "#state")).not.toBe("Streaming")
    expect(await textOf(page, "#state")).toBe("No connection")
    expect(await textOf(page, "#conn-text")).toBe("Offline")
    expect(await page.title()).toMatch(/^No connection · /)
    expect(await scrollWidth(page)).toBeLessThanOrEqual(360)
    transfer.stop()
    await transfer.finished

    // a server is back behind the same address: the page reconnects by itself and says what is true now
    second = await startServer(["--retention", "30s"])
    relay.point(second)
    await waitForLive(page)
    await waitForText(page, "#state", "Idle", 10_000)
    expect(await page.isVisible("#offline")).toBe(false)
    expect(watched.pageErrors).toEqual([])
    expect(watched.dialogs).toEqual([])
  })

  it("says the connection is lost when a streaming page goes quiet without an error, and comes back", async () => {
    if (first === undefined || relay === undefined) throw new Error("not started")
    const path = pipePath(uniqueName("dash-quiet"))
    const live = second ?? first
    relay.point(live)
    const watched = await open(`${relay.url}${path}?progress`, phone)
    const { page } = watched
    await waitForLive(page)
    const transfer = pacedTransfer(live, path, 20_000_000, { ms: 20_000 })
    await waitForText(page, "#state", "Streaming")
    // The phone's network goes away: no error, no close, just silence on the page's connection.
    relay.freeze()
    await waitForText(page, "#offline", "Connection to the server lost — retrying…", 10_000)
    expect(await textOf(page, "#state")).toBe("No connection")
    expect(await page.title()).toMatch(/^No connection · /)
    // The network is back: the connection the page is trying goes through, live and streaming again.
    relay.thaw()
    await waitForLive(page)
    await waitForText(page, "#state", "Streaming", 10_000)
    expect(await page.isVisible("#offline")).toBe(false)
    transfer.stop()
    transfer.sender.kill()
    transfer.receiver.kill()
    await transfer.finished
    expect(watched.pageErrors).toEqual([])
  })

  it("notifies of the end of the transfer it followed, even when it learns that end offline, from the JSON", async () => {
    if (relay === undefined) throw new Error("not started")
    const quick = await startServer(["--retention", "1s"])
    try {
      relay.point(quick)
      const path = pipePath(uniqueName("dash-missed"))
      const name = path.replace("/api/v1/pipe/", "")
      const watched = await open(`${relay.url}${path}?progress`, { ...phone, initScript: observeNotifications })
      const { context, page } = watched
      await context.grantPermissions(["notifications"], { origin: relay.url })
      await waitForLive(page)
      await page.locator("#notify").tap()
      await waitForText(page, "#notify-text", "Will notify when done")
      const transfer = pacedTransfer(quick, path, 2_000_000, { ms: 1500 })
      await waitForText(page, "#state", "Streaming")
      relay.freeze()
      for (const party of await transfer.finished) expect(party.code).toBe(0)
      await waitFor(async () => (await snapshotJson(`${quick.url}${path}?progress`)).state === "idle", {
        what: "the path idle after its retention"
      })
      relay.thaw()
      await waitForText(page, "#state", "Idle", 15_000)
      await page.waitForFunction(() => (window.__notes ?? []).length > 0, null, { timeout: 10_000 })
      expect(await page.evaluate(() => window.__notes ?? [])).toMatchObject([{ title: `✓ complete · ${name}` }])
      expect(watched.pageErrors).toEqual([])
    } finally {
      await quick.stop()
    }
  })
})
