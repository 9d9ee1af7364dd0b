import { Effect, Schema } from "effect"
import { describe, expect, it } from "vitest"
import type { StreamEvent } from "../src/schema/PipeEvent.js"
import { Snapshot } from "../src/schema/Snapshot.js"
import { decodeStreamFrame, makeSseParser } from "../src/schema/Sse.js"
import { type CurlProcess, header, spawnCurl } from "./support/curl.js"
import { PrngSource } from "./support/data.js"
import { request } from "./support/http.js"
import { pipePath, uniqueName, waitForNoPipes, waitForReceivers } from "./support/pipe.js"
import { type ServerHandle, useServer } from "./support/server.js"
import { ofKind, openSse } from "./support/sse.js"
import { curlReceiver, curlSender } from "./support/transfer.js"
import { waitFor } from "./support/wait.js"

/**
 * Spectator streams that bots can rely on (protocol §10), and numbers that agree (issue 13), against a
 * real server with real curl: `curl -N` is the bot of the README's recipes, so its exit is the assertion.
 */

const MB = 1_000_000
const decodeSnapshot = Schema.decodeUnknownSync(Snapshot)

interface Frame {
  readonly id: string | undefined
  /** The frame's own `id:` line, if it had one (the parser's `id` persists across frames, as EventSource's). */
  readonly ownId: boolean
  readonly event: StreamEvent
}

/** Every frame of an SSE text, decoded with the protocol's Schemas (a wrong field fails the test). */
const framesOf = (text: string): Array<Frame> => {
  const blocks = text.split("\n\n").filter((b) => /^event: /m.test(b))
  const parse = makeSseParser()
  return parse(text).map((frame, i) => ({
    id: frame.id,
    ownId: /^id: /m.test(blocks[i] ?? ""),
    event: Effect.runSync(decodeStreamFrame(frame))
  }))
}

const kinds = (frames: ReadonlyArray<Frame>) => frames.map((f) => f.event.event)

/** `curl -N` on the path's SSE stream, the way a shell bot watches. */
const curlWatch = (server: ServerHandle, path: string, query = "progress&until=done", headers: Array<string> = []) =>
  spawnCurl([...headers.flatMap((h) => ["-H", h]), `${server.url}${path}?${query}`])

/** Awaits a frame in curl's output that satisfies `predicate`. */
const awaitFrame = (watcher: CurlProcess, predicate: (f: Frame) => boolean, what: string, timeoutMs = 15_000) =>
  waitFor(() => framesOf(watcher.text()).find(predicate), { what: `curl watcher: ${what}`, timeoutMs })

/** A whole transfer of `size` bytes on `path` (receiver first), both sides succeeding. */
const transfer = async (server: ServerHandle, path: string, size: number, query = "", args: Array<string> = []) => {
  const receiver = curlReceiver(server, path)
  await waitForReceivers(server, path, 1)
  const sender = curlSender(server, `${path}${query}`, new PrngSource(`${path}${query}`, { size }), args)
  const [sent, received] = await Promise.all([sender.result, receiver.result])
  expect({ sender: sent.code, receiver: received.code, bytes: received.bytes }).toEqual({
    sender: 0,
    receiver: 0,
    bytes: size
  })
}

const doneIdOf = (frames: ReadonlyArray<Frame>) => frames.find((f) => f.event.event === "done")?.id

const snapshotOf = async (server: ServerHandle, path: string) => {
  const reply = await request(server.url, `${path}?progress=json`)
  expect(reply.status).toBe(200)
  return decodeSnapshot(JSON.parse(reply.text))
}

describe("?progress&until=done", () => {
  const server = useServer(["--retention", "20s"])

  it("SSE headers: no-cache, no-transform, and no proxy buffering", async () => {
    const path = pipePath(uniqueName("headers"))
    const watcher = curlWatch(server(), path, "progress")
    await awaitFrame(watcher, (f) => f.event.event === "state", "first state")
    watcher.kill("SIGTERM")
    const { head } = await watcher.result
    expect(head?.status).toBe(200)
    expect(header(head, "content-type")).toMatch(/^text\/event-stream/)
    expect(header(head, "cache-control")).toBe("no-cache, no-transform")
    expect(header(head, "x-accel-buffering")).toBe("no")
  })

  it("an old retained done never ends it; the next transfer's done does, and curl exits 0 by itself", async () => {
    const path = pipePath(uniqueName("retained"))
    await transfer(server(), path, MB)
    const old = (await snapshotOf(server(), path)).done
    expect(old).toMatchObject({ ok: true })

    const watcher = curlWatch(server(), path)
    // The replay: the old result, done included...
    await awaitFrame(watcher, (f) => f.event.event === "done", "the replayed old done")
    // ...and the stream goes on: it is still there to tell the next transfer's first state.
    const receiver = curlReceiver(server(), path)
    await awaitFrame(watcher, (f) => f.event.event === "state" && f.event.state === "waiting", "live waiting")
    expect(watcher.running).toBe(true)
    const sender = curlSender(server(), path, new PrngSource("retained-2", { size: 2 * MB }))
    const [watched, sent, received] = await Promise.all([watcher.result, sender.result, receiver.result])
    expect({ sender: sent.code, receiver: received.code }).toEqual({ sender: 0, receiver: 0 })

    expect(watched.code).toBe(0)
    const frames = framesOf(watched.stdoutText)
    const dones = ofDone(frames)
    expect(dones.map((d) => d.transferId)).toHaveLength(2)
    expect(dones[0]?.transferId).toBe(old?.transferId)
    expect(dones[1]).toMatchObject({ ok: true, bytes: 2 * MB })
    expect(dones[1]?.transferId).not.toBe(old?.transferId)
    // It closed right after that done: nothing follows it.
    expect(kinds(frames).at(-1)).toBe("done")
    expect(watched.stdoutText.endsWith("\n\n")).toBe(true)

    // EventSource reconnects with the id of the last event it read, that done: 204 stops it for good.
    const lastId = frames.at(-1)?.id
    expect(lastId).toMatch(/^\d+$/)
    const again = await request(server().url, `${path}?progress&until=done`, {
      headers: { accept: "text/event-stream", "last-event-id": lastId ?? "" }
    })
    expect(again.status).toBe(204)
    expect(again.text).toBe("")
    expect(again.headers["access-control-allow-origin"]).toBe("*")
    // Past it, too (an id beyond anything this path handed out).
    const past = await request(server().url, `${path}?progress&until=done`, {
      headers: { "last-event-id": String(Number(lastId) + 1_000_000) }
    })
    expect(past.status).toBe(204)
    // Without until=done a reconnection is a first connection again: the snapshot (it is not 204).
    const plain = openSse(server(), `${path}?progress`, { headers: { "last-event-id": lastId ?? "" } })
    expect((await plain.response).statusCode).toBe(200)
    await plain.next((e) => e.event === "done", "replayed done")
    plain.close()
  }, 60_000)

  it("started while a transfer streams, it ends after that transfer's done", async () => {
    const path = pipePath(uniqueName("streaming"))
    const receiver = curlReceiver(server(), path)
    await waitForReceivers(server(), path, 1)
    const source = new PrngSource("streaming", { size: 3 * MB, holdAt: MB })
    const sender = curlSender(server(), path, source)
    await waitFor(() => source.produced >= MB, { what: "the first MB sent" })
    const watcher = curlWatch(server(), path)
    await awaitFrame(watcher, (f) => f.event.event === "state" && f.event.state === "streaming", "streaming")
    source.release()
    const [watched] = await Promise.all([watcher.result, sender.result, receiver.result])
    expect(watched.code).toBe(0)
    const frames = framesOf(watched.stdoutText)
    expect(ofDone(frames)).toEqual([expect.objectContaining({ ok: true, bytes: 3 * MB })])
    expect(kinds(frames).at(-1)).toBe("done")
  }, 30_000)

  it("an aborted transfer ends it too, with ok false", async () => {
    const path = pipePath(uniqueName("aborted"))
    const watcher = curlWatch(server(), path)
    await awaitFrame(watcher, (f) => f.event.event === "state" && f.event.state === "idle", "idle")
    const receiver = curlReceiver(server(), path)
    await waitForReceivers(server(), path, 1)
    const source = new PrngSource("aborted", { size: 4 * MB, holdAt: MB })
    const sender = curlSender(server(), path, source)
    // Bytes flowed (the source holds at 1 MB, so the sender is mid-stream), then the sender dies.
    await receiver.waitForBytes(MB / 2)
    sender.kill("SIGKILL")
    const watched = await watcher.result
    expect(watched.code).toBe(0)
    const frames = framesOf(watched.stdoutText)
    expect(ofDone(frames)).toEqual([expect.objectContaining({ ok: false })])
    expect(kinds(frames).at(-1)).toBe("done")
    await receiver.result
  }, 30_000)

  it("away when its transfer ended: the reconnection gets that result and ends, the next one 204", async () => {
    const path = pipePath(uniqueName("away"))
    const first = openSse(server(), `${path}?progress&until=done`)
    await first.next((e) => e.event === "state", "first state")
    const lastSeen = first.events.at(-1)?.id
    first.close()
    await transfer(server(), path, MB)

    const back = curlWatch(server(), path, "progress&until=done", [`Last-Event-ID: ${lastSeen ?? ""}`])
    const { code, stdoutText } = await back.result
    expect(code).toBe(0)
    const frames = framesOf(stdoutText)
    expect(kinds(frames)).toEqual(["state", "progress", "done"])
    expect(frames[2]?.event).toMatchObject({ event: "done", ok: true, bytes: MB })
    const doneId = doneIdOf(frames)
    expect(Number(doneId)).toBeGreaterThan(Number(lastSeen))
    const again = await request(server().url, `${path}?progress&until=done`, {
      headers: { "last-event-id": doneId ?? "" }
    })
    expect(again.status).toBe(204)
  }, 30_000)
})

const ofDone = (frames: ReadonlyArray<Frame>) =>
  frames.map((f) => f.event).filter((e): e is Extract<StreamEvent, { event: "done" }> => e.event === "done")

describe("event ids across actor lifetimes", () => {
  const server = useServer(["--retention", "0s"])

  it("ids strictly increase on one path although its actor dies and is made again", async () => {
    const path = pipePath(uniqueName("ids"))
    const ids: Array<number> = []
    for (let life = 0; life < 3; life++) {
      const spectator = openSse(server(), `${path}?progress`)
      await spectator.next((e) => e.event === "state", "replayed state")
      const receiver = curlReceiver(server(), path)
      await waitForReceivers(server(), path, 1)
      await curlSender(server(), path, new PrngSource(`ids${life}`, { size: 100_000 })).result
      await receiver.result
      await spectator.next((e) => e.event === "done", "done")
      ids.push(...spectator.events.map((e) => Number(e.id)))
      spectator.close()
      // Nobody holds the path and nothing is retained: its actor is gone before the next round.
      await waitForNoPipes(server())
    }
    expect(ids.every(Number.isSafeInteger)).toBe(true)
    for (let i = 1; i < ids.length; i++) expect(ids[i]).toBeGreaterThan(ids[i - 1] ?? Infinity)
    // Seeded from the boot time in ms times 1000.
    expect(ids[0]).toBeGreaterThan((Date.now() - 3_600_000) * 1000)
  }, 30_000)
})

describe("the time-to-live end is announced", () => {
  const server = useServer(["--spectator-ttl", "1s", "--retention", "0s"])

  it("curl gets `event: ttl` with reconnect and the time, no id, then a clean end (exit 0)", async () => {
    for (const query of ["progress", "progress&until=done"]) {
      const path = pipePath(uniqueName("ttl"))
      const started = Date.now()
      const { code, stdoutText } = await curlWatch(server(), path, query).result
      expect(code).toBe(0)
      const frames = framesOf(stdoutText)
      expect(kinds(frames)).toEqual(["state", "ttl"])
      const ttl = frames[1]
      expect(ttl?.event).toEqual({ event: "ttl", reconnect: true, at: expect.any(Number) })
      expect(ttl?.event.at).toBeGreaterThanOrEqual(started)
      // No id of its own: a reconnection's Last-Event-ID still names the last path event.
      expect(ttl?.ownId).toBe(false)
      expect(stdoutText).toMatch(/event: ttl\ndata: \{"reconnect":true,"at":\d+\}\n\n$/)
    }
  }, 30_000)
})

describe("numbers that agree: percent in SSE and JSON", () => {
  const server = useServer(["--retention", "20s"])

  /** A transfer of `size` bytes announcing `?total=`, watched over SSE; its events and the JSON after it. */
  const watched = async (name: string, size: number, total: number | undefined) => {
    const path = pipePath(uniqueName(name))
    const spectator = openSse(server(), `${path}?progress`)
    await spectator.next((e) => e.event === "state", "state")
    await transfer(server(), path, size, total === undefined ? "" : `?total=${total}`, ["--limit-rate", "4M"])
    await spectator.next((e) => e.event === "done", "done")
    spectator.close()
    return { events: spectator.events, snapshot: await snapshotOf(server(), path) }
  }

  it("more than ?total: percent capped at 100, done keeps bytes and total", async () => {
    const { events, snapshot } = await watched("over", 3 * MB, 2 * MB)
    const progress = ofKind(events, "progress")
    expect(progress.length).toBeGreaterThan(1)
    for (const p of progress) expect(p.percent ?? -1).toBeLessThanOrEqual(100)
    expect(progress.some((p) => p.bytes > 2 * MB && p.percent === 100)).toBe(true)
    expect(ofKind(events, "done")[0]).toMatchObject({ bytes: 3 * MB, total: 2 * MB, ok: true })
    expect(snapshot).toMatchObject({ bytes: 3 * MB, total: 2 * MB, percent: 100 })
    expect(snapshot.done).toMatchObject({ bytes: 3 * MB, total: 2 * MB })
  }, 30_000)

  it("less than ?total: the true share, the same in the last progress and the JSON", async () => {
    const { events, snapshot } = await watched("under", 2 * MB, 9 * MB)
    const last = ofKind(events, "progress").at(-1)
    expect(last).toMatchObject({ bytes: 2 * MB, total: 9 * MB, percent: 22.2 })
    expect(snapshot).toMatchObject({ state: "complete", bytes: 2 * MB, total: 9 * MB, percent: 22.2 })
    expect(snapshot.done).toMatchObject({ bytes: 2 * MB, total: 9 * MB, ok: true })
  }, 30_000)

  it("no total (a chunked upload): no percent, live or once finished", async () => {
    const { events, snapshot } = await watched("none", 2 * MB, undefined)
    for (const p of ofKind(events, "progress")) expect(p).toMatchObject({ total: null, percent: null, etaSec: null })
    expect(snapshot).toMatchObject({ state: "complete", bytes: 2 * MB, total: null, percent: null })
    expect(snapshot.done).toMatchObject({ total: null, bytes: 2 * MB })
  }, 30_000)
})
