// Robustness regressions (issue 11), data-path side: what the server says about a transfer must be what the
// parties saw. The contract is the robustness spec: the sender's head goes out before the receiver's body;
// success only once each receiver read the end (its FIN); `--stall-timeout` ends a transfer that moves no
// byte, with `stalledSec` on progress events; a close-delimited HTTP/1.0 receiver of a broken transfer is
// reset; a spectator that never reads holds O(1) memory. Real curl and raw sockets; nothing left after each.
import { getDefaultHighWaterMark } from "node:stream"
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import type { PipeEvent } from "../../src/schema/PipeEvent.js"
import { makeSseParser } from "../../src/schema/Sse.js"
import { spawnCurl, TRUNCATED } from "../support/curl.js"
import { prngBytes, PrngSource } from "../support/data.js"
import { type Spectator, watchPath } from "../support/hardening-sse.js"
import { sha256 } from "../support/hash.js"
import { healthz, pipePath, uniqueName, waitForProbe, waitForReceivers } from "../support/pipe.js"
import { rssBytes } from "../support/proc.js"
import type { RawClient } from "../support/robustness-raw.js"
import {
  destroyRawClients,
  expectServerAlive,
  kernelQueuedBytes,
  rawClient,
  rawReceiver,
  rawSender,
  requestBytes,
  settle,
  waitingParties
} from "../support/robustness-regress.js"
import { type ServerHandle, useServer } from "../support/server.js"
import { curlReceiver, curlSender, expectNothingLeft } from "../support/transfer.js"
import { waitFor, within } from "../support/wait.js"

const MB = 1024 * 1024

afterEach(destroyRawClients)

const expectAliveAndClean = async (server: ServerHandle): Promise<void> => {
  expect((await healthz(server)).status).toBe("ok")
  await expectNothingLeft(server)
  await waitFor(async () => (await healthz(server)).spectators === 0, { what: "/healthz spectators 0" })
  expect(await waitingParties(server)).toBe(0)
}

/** A spectator on `path` whose first (replayed) state has arrived. */
const spectate = async (server: ServerHandle, path: string): Promise<Spectator> => {
  const spectator = await watchPath(server, path)
  await within(spectator.firstState, 5_000, `the first state of ${path}`)
  return spectator
}

/** Lets a paused raw receiver take about `bytes` more from its socket, then pauses it again. */
const readSome = async (client: RawClient, bytes: number): Promise<void> => {
  const target = client.data.length + bytes
  client.socket.resume()
  await client.until(() => client.data.length >= target, 2_000)
  client.socket.pause()
}

describe("ordering and success", () => {
  const server = useServer(["--retention", "0s"])
  beforeEach(() => expectServerAlive(server()))

  it(
    "40 runs, receiver waiting: the sender's first response bytes arrive before the receiver's whole 100-byte body",
    async () => {
      const order: Array<string> = []
      for (let run = 0; run < 40; run++) {
        const path = pipePath(uniqueName(`order-${run}`))
        let tick = 0
        let senderFirst = 0
        let receiverDone = 0
        const receiver = await rawReceiver(server(), path)
        // Registered after RawClient's own listener: complete() already counts the chunk being handled.
        receiver.socket.on("data", () => {
          if (receiverDone === 0 && receiver.complete()) receiverDone = ++tick
        })
        const body = prngBytes(path, 100)
        const sender = rawSender(server(), path, body)
        sender.socket.on("data", () => {
          if (senderFirst === 0) senderFirst = ++tick
        })
        const got = await settle(receiver)
        await settle(sender)
        expect(got.body.equals(body), `run ${run}: the receiver's bytes`).toBe(true)
        order.push(
          senderFirst > 0 && senderFirst < receiverDone
            ? "sender first"
            : `run ${run}: sender ${senderFirst}, receiver ${receiverDone}`
        )
      }
      expect(order.filter((o) => o !== "sender first")).toEqual([])
      await expectAliveAndClean(server())
    },
    45_000
  )

  it("8 MB to a receiver that stops reading, then vanishes with megabytes unread: aborted, never success", async () => {
    const path = pipePath(uniqueName("unread"))
    const size = 8_000_000
    const spectator = await spectate(server(), path)
    const receiver = await rawReceiver(server(), path)
    receiver.socket.pause()
    const sender = curlSender(server(), path, prngBytes(path, size))
    const sentLine = "[INFO] Sent successfully!\n"
    // The kernel buffers hold only part of 8 MB: read slowly, in small steps, until the server has handed the
    // last byte to the receiver's socket and says so — with megabytes still unread.
    const deadline = performance.now() + 20_000
    while (!sender.text().includes(sentLine)) {
      expect(
        performance.now() < deadline,
        `"${sentLine.trim()}" within 20 s (sender read: ${JSON.stringify(sender.text())})`
      ).toBe(true)
      await sender.waitForText(sentLine, 100).catch(() => {})
      if (!sender.text().includes(sentLine)) await readSome(receiver, 128 * 1024)
    }
    const unread = size - (receiver.body()?.body.length ?? 0)
    const inKernel = kernelQueuedBytes(server().port, receiver.socket.localPort ?? 0)
    console.log(
      `[regressions] sender said sent with ${unread} bytes unread by the receiver (${inKernel} in kernel queues)`
    )
    expect(inKernel, "bytes still unread in the receiver's kernel buffers (so closing resets)").toBeGreaterThan(0)
    receiver.destroy()
    const sent = await within(sender.result, 10_000, "the sender's exit")
    expect(sent.stdoutText).toMatch(/\[ERROR\] All receiver\(s\) aborted halfway\.\n$/)
    expect(sent.stdoutText).not.toContain("received successfully")
    const done = await within(spectator.done, 5_000, "done")
    expect(done.ok).toBe(false)
    spectator.close()
    await expectAliveAndClean(server())
  }, 45_000)

  it("control: the same 8 MB to a curl receiver that reads everything → success lines and done ok:true", async () => {
    const path = pipePath(uniqueName("read-all"))
    const body = prngBytes(path, 8_000_000)
    const spectator = await spectate(server(), path)
    const receiver = curlReceiver(server(), path)
    await waitForReceivers(server(), path, 1)
    const sender = curlSender(server(), path, body)
    const [sent, got] = await within(Promise.all([sender.result, receiver.result]), 20_000, "the transfer")
    expect({ sender: sent.code, receiver: got.code, sha256: got.sha256 }).toEqual({
      sender: 0,
      receiver: 0,
      sha256: sha256(body)
    })
    expect(sent.stdoutText).toContain("[INFO] Sent successfully!\n")
    expect(sent.stdoutText).toMatch(/\[INFO\] All receiver\(s\) received successfully\.\n$/)
    expect(await within(spectator.done, 5_000, "done")).toMatchObject({ ok: true, bytes: body.length, error: null })
    spectator.close()
    await expectAliveAndClean(server())
  }, 30_000)

  it("HTTP/1.0 receiver (curl --http1.0) of a chunked sender killed mid-stream exits non-zero, 3/3 runs", async () => {
    const codes: Array<number | null> = []
    for (let run = 0; run < 3; run++) {
      const path = pipePath(uniqueName(`http10-break-${run}`))
      const source = new PrngSource(path, { size: Infinity, holdAt: 256 * 1024 })
      const receiver = spawnCurl(["--http1.0", `${server().url}${path}`], { keep: false })
      await waitForReceivers(server(), path, 1)
      const sender = curlSender(server(), path, source)
      await receiver.waitForBytes(256 * 1024)
      sender.kill()
      const got = await within(receiver.result, 10_000, `run ${run}: the receiver's exit`)
      codes.push(got.code)
      source.release()
      await sender.result
    }
    console.log(`[regressions] curl --http1.0 exit codes after the sender was killed: ${JSON.stringify(codes)}`)
    expect(codes.filter((c) => c === 0 || c === null)).toEqual([])
    await expectAliveAndClean(server())
  }, 30_000)
})

describe("--stall-timeout 2s", () => {
  const server = useServer(["--retention", "0s", "--stall-timeout", "2s"])
  beforeEach(() => expectServerAlive(server()))
  const STALL_ERROR = "The transfer stalled: no byte moved for 2s."
  const SIZE = 64 * MB

  /** The progress events before `done`, and when (server clock) the byte count reached its final value. */
  const judgeStall = (events: ReadonlyArray<PipeEvent>, done: Extract<PipeEvent, { event: "done" }>) => {
    const progress = events.filter((e): e is Extract<PipeEvent, { event: "progress" }> => e.event === "progress")
    const finalAt = progress.find((p) => p.bytes === done.bytes)?.at
    return { progress, detectedAfterSec: finalAt === undefined ? undefined : (done.at - finalAt) / 1000 }
  }

  it(
    "a receiver that stops reading, a sender streaming 64 MB: done ok:false with the stall error in ~2 s, stalledSec > 0 before it",
    async () => {
      const path = pipePath(uniqueName("stall"))
      const spectator = await spectate(server(), path)
      const receiver = await rawReceiver(server(), path)
      receiver.socket.pause()
      const started = performance.now()
      const sender = curlSender(server(), path, new PrngSource(path, { size: SIZE }))
      const done = await within(spectator.done, 15_000, "done")
      const elapsed = (performance.now() - started) / 1000
      expect({ ok: done.ok, error: done.error }).toEqual({ ok: false, error: STALL_ERROR })
      const { progress, detectedAfterSec } = judgeStall(spectator.events, done)
      console.log(
        `[regressions] stall: done after ${
          elapsed.toFixed(2)
        } s, ${detectedAfterSec} s after the bytes stopped; ${progress.length} progress events`
      )
      expect(progress.some((p) => p.stalledSec > 0), "a progress event with stalledSec > 0 before done").toBe(true)
      expect(detectedAfterSec, "the stall is detected ~2 s after the last byte moved").toBeGreaterThanOrEqual(1.5)
      expect(detectedAfterSec).toBeLessThanOrEqual(6)
      const sent = await within(sender.result, 10_000, "the sender's exit")
      expect(sent.stdoutText).toMatch(new RegExp(`\\[ERROR\\] ${STALL_ERROR.replace(/[.]/g, "\\.")}\\n$`))
      // The receiver's socket was destroyed: once it reads again, its response is broken, not complete.
      receiver.socket.resume()
      expect(await receiver.untilClosed(10_000), "the receiver's connection ends").toBe(true)
      expect(receiver.complete()).toBe(false)
      spectator.close()
      await expectAliveAndClean(server())
    },
    30_000
  )

  it(
    "fan-out n=3 where one receiver stalls: the transfer ends the same way, the reading receivers' curl fails",
    async () => {
      const path = pipePath(uniqueName("stall-fanout"))
      const spectator = await spectate(server(), path)
      const readers = [curlReceiver(server(), `${path}?n=3`), curlReceiver(server(), `${path}?n=3`)]
      await waitForReceivers(server(), path, 2)
      const staller = await rawReceiver(server(), `${path}?n=3`, 3)
      staller.socket.pause()
      const sender = curlSender(server(), `${path}?n=3`, new PrngSource(path, { size: SIZE }))
      const done = await within(spectator.done, 15_000, "done")
      expect({ ok: done.ok, error: done.error }).toEqual({ ok: false, error: STALL_ERROR })
      expect(judgeStall(spectator.events, done).progress.some((p) => p.stalledSec > 0)).toBe(true)
      const got = await within(Promise.all(readers.map((r) => r.result)), 10_000, "the reading receivers' exits")
      for (const r of got) expect(TRUNCATED, `a reading receiver's curl exit (${r.code})`).toContain(r.code)
      const sent = await within(sender.result, 10_000, "the sender's exit")
      expect(sent.stdoutText).toMatch(new RegExp(`\\[ERROR\\] ${STALL_ERROR.replace(/[.]/g, "\\.")}\\n$`))
      staller.destroy()
      spectator.close()
      await expectAliveAndClean(server())
    },
    30_000
  )
})

describe("a stalled spectator", () => {
  const server = useServer(["--retention", "0s"])
  beforeEach(() => expectServerAlive(server()))
  const BATCH = 256
  /** Joins (each with its leave) to make after the kernel buffers are full: all of them the server must not queue. */
  const EXTRA_JOINS = 3_000
  const MAX_BATCHES = 150

  /** 256 receivers join the path (`?n=256`: each arrival a state event), then all leave (each a state event). */
  const joinAndLeave = async (path: string): Promise<void> => {
    const clients = Array.from(
      { length: BATCH },
      () => rawClient(server(), requestBytes(server(), "GET", `${path}?n=${BATCH}`))
    )
    await waitForProbe(server(), path, (p) => p.receivers === `${BATCH}/${BATCH}`, `${BATCH} receivers`, 10_000)
    clients.forEach((c) => c.destroy())
    await waitForProbe(server(), path, (p) => p.receivers?.startsWith("0/") === true, "every receiver gone", 10_000)
  }

  it(
    "never reads while thousands of receivers join and leave its path: RSS flat, then a bounded catch-up ending in the latest state",
    async () => {
      const path = pipePath(uniqueName("stalled-spectator"))
      const spectator = rawClient(
        server(),
        requestBytes(server(), "GET", `${path}?progress`, [["Accept", "text/event-stream"]])
      )
      expect(
        await spectator.until(
          () => spectator.head()?.status === 200 && spectator.text().includes("event: state"),
          5_000
        )
      ).toBe(true)
      spectator.socket.pause()
      const spectatorPort = spectator.socket.localPort ?? 0
      const queued = () => kernelQueuedBytes(server().port, spectatorPort)

      // Fill the kernel's socket buffers first (a few MB on loopback): until then every event is simply sent, and
      // nothing could tell a server that queues events for a stalled reader from one that does not.
      let batches = 0
      let full = 0
      let extra = 0
      let last = queued()
      // Measured once the kernel buffers are full: the growth while the server alone must hold what it cannot send.
      let rssBefore = 0
      while (extra < EXTRA_JOINS) {
        expect(batches < MAX_BATCHES, `the kernel buffers filled within ${MAX_BATCHES} batches (queued ${last} bytes)`)
          .toBe(true)
        await joinAndLeave(path)
        batches++
        const now = queued()
        if (full >= 2) extra += BATCH
        else {
          full = now <= last + 1024 ? full + 1 : 0
          if (full >= 2) rssBefore = rssBytes(server().pid)
        }
        last = now
      }
      const inKernel = queued()
      let rssAfter = rssBytes(server().pid)
      await waitFor(() => (rssAfter = rssBytes(server().pid)) <= rssBefore + 100 * MB, {
        what: "server RSS within 100 MiB of its level once the kernel buffers were full",
        timeoutMs: 5_000,
        intervalMs: 100
      }).catch(() => {})
      console.log(
        `[regressions] stalled spectator: ${batches * BATCH} joins and leaves, ${inKernel} bytes in kernel queues, ` +
          `RSS ${(rssBefore / MB).toFixed(1)} → ${(rssAfter / MB).toFixed(1)} MiB`
      )
      expect(rssAfter - rssBefore, "server RSS growth").toBeLessThan(100 * MB)

      // The latest state, recognisable: one receiver waiting for n=7 (no other state has expectedReceivers 7).
      const marker = await rawReceiver(server(), `${path}?n=7`)
      const seen = spectator.data.length + spectator.socket.readableLength + queued()
      spectator.socket.resume()
      const parse = makeSseParser()
      const states: Array<Record<string, unknown>> = []
      let parsedBytes = 0
      const latestSeen = () => {
        const text = spectator.text()
        for (const frame of parse(text.slice(parsedBytes))) {
          if (frame.event === "state") states.push(JSON.parse(frame.data) as Record<string, unknown>)
        }
        parsedBytes = text.length
        const latest = states.at(-1)
        return latest?.["expectedReceivers"] === 7 && latest["receivers"] === 1
      }
      expect(await spectator.until(latestSeen, 10_000), "the spectator receives the latest state (receivers 1 of 7)")
        .toBe(true)
      // Every event that was not already in the kernel's buffers when the spectator began to read.
      // Node's own socket buffer (its default high-water mark: 16 KiB up to Node 20, 64 KiB since 22, plus the
      // one write that crossed it) is part of what a server holds whatever it does; on top of it the hub keeps at
      // most 32 `state`/`done` events and one `progress`. A server that queued every event would deliver ~6,000
      // (~1 MB) here.
      const beyond = spectator.data.subarray(seen)
      const beyondEvents = (beyond.toString("latin1").match(/^event: /gm) ?? []).length
      console.log(
        `[regressions] stalled spectator: ${beyondEvents} events (${beyond.length} bytes) delivered beyond what the kernel held`
      )
      const nodeBuffer = getDefaultHighWaterMark(false)
      expect(beyond.length, "bytes the server held for the stalled spectator").toBeLessThan(nodeBuffer + 16 * 1024)
      expect(beyondEvents, "events the server held for the stalled spectator").toBeLessThan(
        (nodeBuffer + 16 * 1024) / 100
      )

      marker.destroy()
      spectator.destroy()
      await expectAliveAndClean(server())
    },
    60_000
  )
})
