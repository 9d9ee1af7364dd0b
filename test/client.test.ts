// The typed client SDK (protocol §5) against a real server process: transfers, truncation, watch, refusals.
import { Cause, Effect, Exit, Fiber, Option, Schedule, Stream } from "effect"
import { writeFileSync } from "node:fs"
import { createServer, type ServerResponse } from "node:http"
import { describe, expect, it } from "vitest"
import type { PipeClientService, WatchError, WatchOptions } from "../src/client/index.js"
import { decodeRejection, defaultReconnect, NodePipeClient, PipeClient } from "../src/client/index.js"
import type { PipeEvent } from "../src/schema/PipeEvent.js"
import { artifactPath } from "./support/artifacts.js"
import { spawnCurl } from "./support/curl.js"
import { prngBytes, PrngSource } from "./support/data.js"
import { Digest, sha256 } from "./support/hash.js"
import { BodyReader, openRequest, request } from "./support/http.js"
import { holdSender } from "./support/parties.js"
import { pipePath, uniqueName, waitForReceivers } from "./support/pipe.js"
import { type ServerHandle, useServer } from "./support/server.js"
import { idleSnapshot } from "./support/snapshots.js"
import { curlSender } from "./support/transfer.js"
import { waitFor, within } from "./support/wait.js"

const MB = 1_000_000

/** Runs an effect with a client of `server`. */
const runWith = (server: () => ServerHandle) => <A, E>(effect: Effect.Effect<A, E, PipeClient>): Promise<A> =>
  Effect.runPromise(Effect.provide(effect, NodePipeClient.layer({ baseUrl: server().url })))

/** The client itself, for calls that build their own effects. */
const client = Effect.map(PipeClient, (c): PipeClientService => c)

/** Its failure: rejects if it succeeds. */
const failureOf = <A, E>(run: ReturnType<typeof runWith>, effect: Effect.Effect<A, E, PipeClient>): Promise<E> =>
  run(Effect.flip(effect))

/** A received stream, hashed and counted as it arrives. */
const digestOf = <E, R>(stream: Stream.Stream<Uint8Array, E, R>, digest = new Digest()) =>
  Stream.runForEach(stream, (chunk) => Effect.sync(() => digest.update(chunk))).pipe(Effect.as(digest))

/**
 * A watch running in the background: its events as they arrive, each reconnection it made, and its end.
 * `stop()` interrupts it (the test's cleanup).
 */
const startWatch = (server: () => ServerHandle, path: string, options: WatchOptions = {}) => {
  const events: Array<PipeEvent> = []
  const reconnects: Array<WatchError> = []
  const reconnect = (options.reconnect ?? defaultReconnect).pipe(
    Schedule.tap(({ input }) => Effect.sync(() => reconnects.push(input)))
  )
  const fiber = Effect.runFork(
    Effect.flatMap(
      PipeClient,
      (c) => c.watch(path, { ...options, reconnect }).pipe(Stream.runForEach((e) => Effect.sync(() => events.push(e))))
    ).pipe(
      Effect.provide(NodePipeClient.layer({ baseUrl: server().url }))
    )
  )
  return {
    events,
    reconnects,
    exit: Effect.runPromise(Fiber.await(fiber)),
    stop: () => Effect.runPromise(Fiber.interrupt(fiber)),
    waitForEvent: (what: string, predicate: (e: PipeEvent) => boolean, timeoutMs = 10_000) =>
      waitFor(() => events.find(predicate), {
        what: `${what} (events so far: ${events.map((e) => e.event).join(",")})`,
        timeoutMs
      })
  }
}

describe("PipeClient: transfers", () => {
  const server = useServer(["--retention", "1s"])
  const run = runWith(server)

  it("round-trips 100 MB (a Node readable) with equal sha256, streamed both ways", async () => {
    const name = uniqueName("sdk-100mb")
    const source = new PrngSource(name, { size: 100 * MB })
    const [sent, received] = await run(Effect.gen(function*() {
      const c = yield* client
      return yield* Effect.all([c.send(name, source), digestOf(c.receive(name))], { concurrency: 2 })
    }))
    expect(received.bytes).toBe(100 * MB)
    expect(received.hex()).toBe(source.digest.hex())
    expect(sent.bytes).toBe(100 * MB)
    // Whoever came first, the server's lines arrive in order and end with the confirmation.
    expect(sent.messages[0]).toBe("Waiting for 1 receiver(s)...")
    expect(sent.messages.slice(-3)).toEqual([
      "Start sending to 1 receiver(s)!",
      "Sent successfully!",
      "All receiver(s) received successfully."
    ])
  }, 60_000)

  it("never buffers the body: the receiver gets bytes while the source is still held back", async () => {
    const name = uniqueName("sdk-held")
    const source = new PrngSource(name, { size: 8 * MB, holdAt: 2 * MB })
    const digest = new Digest()
    const transfer = run(Effect.gen(function*() {
      const c = yield* client
      return yield* Effect.all([c.send(name, source), digestOf(c.receive(name), digest)], { concurrency: 2 })
    }))
    // The source has produced only 2 MB and produces no more: if the client waited for the whole body
    // before sending, these bytes could never arrive.
    await waitFor(() => digest.bytes >= 2 * MB, { what: "2 MB at the receiver while the source holds" })
    expect(source.produced).toBe(2 * MB)
    source.release()
    const [sent, received] = await transfer
    expect({ sent: sent.bytes, received: received.bytes, hash: received.hex() }).toEqual({
      sent: 8 * MB,
      received: 8 * MB,
      hash: source.digest.hex()
    })
  })

  it("sends a file with its Content-Length, type and file name; receives them with the bytes", async () => {
    const name = uniqueName("sdk-file")
    const file = artifactPath("sdk-file", "bin")
    const data = prngBytes(name, 3 * MB + 17)
    writeFileSync(file, data)
    const [sent, incoming] = await run(Effect.gen(function*() {
      const c = yield* client
      const receive = Effect.scoped(Effect.gen(function*() {
        const incoming = yield* c.openReceive(name)
        const digest = yield* digestOf(incoming.stream)
        return { ...incoming, digest }
      }))
      return yield* Effect.all([c.send(name, file, { contentType: "image/png", filename: "photo 1.png" }), receive], {
        concurrency: 2
      })
    }))
    expect(sent.bytes).toBe(data.length)
    expect(incoming.digest.hex()).toBe(sha256(data))
    expect(incoming.contentLength).toEqual(expect.objectContaining({ _tag: "Some", value: data.length }))
    expect(incoming.contentType).toEqual(expect.objectContaining({ _tag: "Some", value: "image/png" }))
    expect(Option.getOrElse(incoming.contentDisposition, () => "")).toContain("filename=\"photo 1.png\"")
  })

  it("sends an Effect Stream to n = 2 receivers, a multi-segment path, and the bare alias spelling", async () => {
    const name = `${uniqueName("sdk-multi")}/a/b`
    const data = prngBytes(name, 1 * MB)
    const body = Stream.fromIterable([data.subarray(0, 1000), data.subarray(1000)])
    const [sent, first, second] = await run(Effect.gen(function*() {
      const c = yield* client
      return yield* Effect.all(
        [
          c.send(`/api/v1/pipe/${name}`, body, { n: 2 }),
          digestOf(c.receive(name, { n: 2 })),
          digestOf(c.receive(`/${name}`, { n: 2 }))
        ],
        { concurrency: "unbounded" }
      )
    }))
    expect([sent.bytes, first.hex(), second.hex()]).toEqual([data.length, sha256(data), sha256(data)])
    expect(sent.messages).toContain("Start sending to 2 receiver(s)!")
  })

  it("snapshot and health decode with the protocol's Schemas (through HttpApiClient)", async () => {
    const name = uniqueName("sdk-snapshot")
    const { snapshot, health } = await run(Effect.gen(function*() {
      const c = yield* client
      return { snapshot: yield* c.snapshot(`${name}/x`), health: yield* c.health }
    }))
    expect(snapshot).toMatchObject({ path: `/api/v1/pipe/${name}/x`, state: "idle", bytes: 0, done: null })
    expect(health).toMatchObject({ status: "ok" })
    expect(typeof health.uptimeSec).toBe("number")

    // A waiting sender shows in the snapshot.
    const sender = await holdSender(server(), pipePath(name))
    const waiting = await run(Effect.flatMap(client, (c) => c.snapshot(name)))
    expect(waiting).toMatchObject({ state: "waiting", sender: true, expectedReceivers: 1 })
    sender.req.destroy()
  })
})

describe("PipeClient: truncation", () => {
  const server = useServer(["--retention", "1s"])

  it.each([
    ["chunked (curl -T - from a pipe)", false],
    ["with Content-Length (curl -T file)", true]
  ])("receive fails with TransferBroken when the sender is killed mid-stream: %s", async (_, withLength) => {
    const name = uniqueName("sdk-cut")
    const path = pipePath(name)
    const sender = withLength
      ? (() => {
        const file = artifactPath("sdk-cut", "bin")
        writeFileSync(file, prngBytes(name, 50 * MB))
        return spawnCurl(["--limit-rate", "4M", "-T", file, `${server().url}${path}`])
      })()
      : curlSender(server(), path, new PrngSource(name, { size: Infinity }))
    const digest = new Digest()
    const received = runWith(server)(
      Effect.flip(Effect.flatMap(client, (c) => digestOf(c.receive(name), digest)))
    )
    await waitFor(() => digest.bytes >= 1 * MB, { what: "1 MB at the SDK receiver" })
    sender.kill("SIGKILL")
    const error = await within(received, 10_000, "the receive stream to fail")
    expect(error._tag).toBe("TransferBroken")
    if (error._tag === "TransferBroken") {
      expect(error.bytes).toBeGreaterThanOrEqual(1 * MB)
      expect(error.bytes).toBe(digest.bytes)
    }
  })
})

describe("PipeClient: watch", () => {
  const server = useServer(["--spectator-ttl", "2s", "--retention", "2s"])
  const run = runWith(server)

  it("decodes a full transfer: state waiting → streaming → progress… → done, then ends (untilDone)", async () => {
    const name = uniqueName("sdk-watch")
    const watch = startWatch(server, name, { untilDone: true })
    try {
      await watch.waitForEvent("the replayed idle state", (e) => e.event === "state" && e.state === "idle")
      const source = new PrngSource(name, { size: 6 * MB, holdAt: 1 * MB })
      const transfer = run(Effect.gen(function*() {
        const c = yield* client
        return yield* Effect.all([c.send(name, source, { total: 6 * MB }), digestOf(c.receive(name))], {
          concurrency: 2
        })
      }))
      await watch.waitForEvent("a progress event", (e) => e.event === "progress" && e.bytes >= 1 * MB)
      source.release()
      await transfer
      const exit = await within(watch.exit, 10_000, "the watch to end after done")
      expect(Exit.isSuccess(exit)).toBe(true)

      const names = watch.events.map((e) => (e.event === "state" ? `state:${e.state}` : e.event))
      const at = (n: string) => names.indexOf(n)
      expect(at("state:waiting")).toBeGreaterThan(at("state:idle"))
      expect(at("state:streaming")).toBeGreaterThan(at("state:waiting"))
      expect(at("progress")).toBeGreaterThan(at("state:streaming"))
      expect(names.at(-1)).toBe("done")
      expect(names.filter((n) => n === "done")).toHaveLength(1)

      const done = watch.events.at(-1)
      expect(done).toMatchObject({ event: "done", ok: true, bytes: 6 * MB, total: 6 * MB, error: null })
      const progress = watch.events.flatMap((e) => (e.event === "progress" ? [e] : []))
      expect(progress.map((p) => p.bytes)).toEqual([...progress.map((p) => p.bytes)].sort((a, b) => a - b))
      expect(progress.every((p) => p.total === 6 * MB && p.percent !== null)).toBe(true)
      const transferIds = new Set(watch.events.flatMap((e) => (e.transferId === null ? [] : [e.transferId])))
      expect(transferIds.size).toBe(1)
    } finally {
      await watch.stop()
    }
  })

  it("reconnects after the server ends the spectator connection (--spectator-ttl 2s) and goes on", async () => {
    const name = uniqueName("sdk-reconnect")
    const watch = startWatch(server, name, { untilDone: true })
    try {
      await watch.waitForEvent("the replayed idle state", (e) => e.event === "state")
      // The server ends each connection cleanly after 2 s: awaited, not slept. By the second end, the second
      // connection has come and gone, its replay (the same idle state) included: a repeat the stream drops.
      await waitFor(() => watch.reconnects.length >= 2, { what: "the server to end two spectator connections" })
      expect(watch.reconnects.slice(0, 2)).toMatchObject([
        { _tag: "ConnectionFailed", message: "The server ended the spectator connection." },
        { _tag: "ConnectionFailed", message: "The server ended the spectator connection." }
      ])
      expect(watch.events).toMatchObject([{ event: "state", state: "idle" }])
      const data = prngBytes(name, 1 * MB)
      const [, received] = await runWith(server)(Effect.gen(function*() {
        const c = yield* client
        return yield* Effect.all([c.send(name, Stream.make(data)), digestOf(c.receive(name))], { concurrency: 2 })
      }))
      expect(received.hex()).toBe(sha256(data))
      const exit = await within(watch.exit, 10_000, "the watch to end after done")
      expect(Exit.isSuccess(exit)).toBe(true)
      expect(watch.events.filter((e) => e.event === "state" && e.state === "idle")).toHaveLength(1)
      expect(watch.events.at(-1)).toMatchObject({ event: "done", ok: true, bytes: data.length })
    } finally {
      await watch.stop()
    }
  })

  it("a latecomer within the retention window gets the retained done once", async () => {
    const name = uniqueName("sdk-late")
    const data = prngBytes(name, 100_000)
    await run(Effect.gen(function*() {
      const c = yield* client
      return yield* Effect.all([c.send(name, Stream.make(data)), digestOf(c.receive(name))], { concurrency: 2 })
    }))
    const watch = startWatch(server, name)
    try {
      await watch.waitForEvent("the retained done", (e) => e.event === "done")
      expect(watch.events.map((e) => e.event)).toEqual(["state", "progress", "done"])
      expect(watch.events[0]).toMatchObject({ state: "complete" })
    } finally {
      await watch.stop()
    }
  })

  it("untilDone started within the retention window leaves the old transfer out and ends with the next one", async () => {
    const name = uniqueName("sdk-late-until")
    const transfer = (data: Uint8Array) =>
      run(Effect.gen(function*() {
        const c = yield* client
        return yield* Effect.all([c.send(name, Stream.make(data)), digestOf(c.receive(name))], { concurrency: 2 })
      }))
    await transfer(prngBytes(name, 100_000))
    const old = await run(Effect.flatMap(client, (c) => c.snapshot(name)))
    const watch = startWatch(server, name, { untilDone: true })
    try {
      // Connected while the old transfer was retained (it is still): its replay held the old done.
      await waitFor(async () => (await run(Effect.flatMap(client, (c) => c.snapshot(name)))).spectators === 1, {
        what: "the watch connected"
      })
      const now = await run(Effect.flatMap(client, (c) => c.snapshot(name)))
      expect(now.done?.transferId).toBe(old.done?.transferId)
      await transfer(prngBytes(`${name}/next`, 200_000))
      const exit = await within(watch.exit, 10_000, "the watch to end with the next transfer")
      expect(Exit.isSuccess(exit)).toBe(true)
      expect(watch.events.some((e) => e.transferId === old.done?.transferId)).toBe(false)
      expect(watch.events.at(-1)).toMatchObject({ event: "done", ok: true, bytes: 200_000 })
    } finally {
      await watch.stop()
    }
  })
})

/**
 * A stand-in for a server with protocol §10 (`?until=done`, 204 past the awaited done), which lands on the real
 * server separately: each spectator connection gets the next scripted answer, every request is recorded.
 */
const standIn = async (
  connections: ReadonlyArray<(res: ServerResponse) => void>,
  snapshotOf: () => object
) => {
  const requests: Array<{ readonly url: string; readonly lastEventId: string | undefined }> = []
  let next = 0
  const server = createServer((req, res) => {
    const url = req.url ?? ""
    if (url.includes("progress=json")) {
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(snapshotOf()))
      return
    }
    const lastEventId = req.headers["last-event-id"]
    requests.push({ url, lastEventId: Array.isArray(lastEventId) ? lastEventId[0] : lastEventId })
    const answer = connections[next++]
    if (answer === undefined) res.writeHead(500).end()
    else answer(res)
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  const address = server.address()
  const port = typeof address === "object" && address !== null ? address.port : 0
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve()))
  }
}

const at = 1_764_057_600_000
const stateData = (state: string, transferId: string | null) => ({
  state,
  transferId,
  sender: state === "streaming",
  receivers: state === "streaming" ? 1 : 0,
  expectedReceivers: 1,
  at
})
const doneData = (transferId: string, ok: boolean) => ({
  transferId,
  ok,
  bytes: 10,
  total: null,
  durationSec: 1,
  avgMbps: 0,
  error: ok ? null : "The sender aborted halfway.",
  at
})
const frame = (id: number, event: string, data: object) =>
  `event: ${event}\nid: ${id}\ndata: ${JSON.stringify(data)}\n\n`
const sse = (res: ServerResponse, text: string) => res.writeHead(200, { "content-type": "text/event-stream" }).end(text)
const snapshotWith = (state: string, done: object | null, last: object | null) => ({
  ...idleSnapshot("/api/v1/pipe/x", at),
  ...stateData(state, null),
  done,
  last
})

describe("PipeClient: watch untilDone against a protocol §10 server (a stand-in)", () => {
  const watchToEnd = (url: string) =>
    Effect.runPromise(
      Effect.flatMap(PipeClient, (c) =>
        c.watch("x", { untilDone: true, reconnect: Schedule.spaced("10 millis") }).pipe(
          Stream.runCollect,
          Effect.exit
        )).pipe(Effect.provide(NodePipeClient.layer({ baseUrl: url })))
    )

  it("asks for until=done, resumes with Last-Event-ID, and takes a 204 as 'ended': the result from the snapshot", async () => {
    const server = await standIn([
      (res) => sse(res, frame(7, "state", stateData("streaming", "t_1"))),
      (res) => res.writeHead(204).end()
    ], () => snapshotWith("complete", doneData("t_1", false), doneData("t_1", false)))
    try {
      const exit = await watchToEnd(server.url)
      expect(server.requests).toMatchObject([
        { url: expect.stringContaining("until=done"), lastEventId: undefined },
        { url: expect.stringContaining("until=done"), lastEventId: "7" }
      ])
      expect(Exit.isSuccess(exit) ? [...exit.value].at(-1) : exit).toMatchObject({
        event: "done",
        transferId: "t_1",
        ok: false
      })
    } finally {
      await server.close()
    }
  })

  it("a reconnection that finds the awaited transfer gone takes its result from `last`, or fails if none names it", async () => {
    const found = await standIn([
      (res) => sse(res, frame(3, "state", stateData("streaming", "t_2"))),
      (res) => sse(res, frame(9, "state", stateData("idle", null)))
    ], () => snapshotWith("idle", null, doneData("t_2", true)))
    const lost = await standIn([
      (res) => sse(res, frame(3, "state", stateData("streaming", "t_3"))),
      (res) => sse(res, frame(9, "state", stateData("idle", null)))
    ], () => snapshotWith("idle", null, doneData("t_other", true)))
    try {
      const ended = await watchToEnd(found.url)
      expect(Exit.isSuccess(ended) ? [...ended.value].at(-1) : ended).toMatchObject({
        event: "done",
        transferId: "t_2",
        ok: true
      })
      const failed = await watchToEnd(lost.url)
      expect(Exit.isFailure(failed) ? Cause.squash(failed.cause) : failed).toMatchObject({
        _tag: "ResultUnavailable",
        transferId: "t_3"
      })
    } finally {
      await Promise.all([found.close(), lost.close()])
    }
  })
})

describe("PipeClient: refusals map to tagged errors by status", () => {
  describe("default server", () => {
    const server = useServer(["--retention", "0s"])
    const run = runWith(server)

    it("409 second sender → PipeBusy with the server's message", async () => {
      const name = uniqueName("sdk-409")
      const first = await holdSender(server(), pipePath(name))
      try {
        const error = await failureOf(
          run,
          Effect.flatMap(client, (c) => c.send(name, new PrngSource(name, { size: 20 * MB })))
        )
        expect(error).toMatchObject({
          _tag: "PipeBusy",
          message: `Another sender has been connected on '/api/v1/pipe/${name}'.`
        })
      } finally {
        first.req.destroy()
      }
    })

    it("400 bad n → InvalidRequest, for a sender (even with a large body) and a receiver", async () => {
      const name = uniqueName("sdk-400")
      const send = await failureOf(
        run,
        Effect.flatMap(client, (c) => c.send(name, new PrngSource(name, { size: 20 * MB }), { n: 0 }))
      )
      expect(send).toMatchObject({ _tag: "InvalidRequest", message: "n must be between 1 and 256, but n = 0." })
      const receive = await failureOf(run, Effect.flatMap(client, (c) => Stream.runDrain(c.receive(name, { n: 1.5 }))))
      expect(receive).toMatchObject({ _tag: "InvalidRequest", message: "Invalid query parameter \"n\"." })
      // A name the server would refuse is refused before any request: URL parsing would resolve `..` first.
      const dots = await failureOf(run, Effect.flatMap(client, (c) => c.snapshot("a/../b")))
      expect(dots).toMatchObject({ _tag: "InvalidRequest", message: "Invalid pipe path." })
    })

    it("404 through HttpApiClient (a base URL under /api/) → NotFound", async () => {
      const error = await Effect.runPromise(
        Effect.flip(Effect.flatMap(client, (c) => c.health)).pipe(
          Effect.provide(NodePipeClient.layer({ baseUrl: `${server().url}/api/nothing` }))
        )
      )
      expect(error).toMatchObject({ _tag: "NotFound", message: "Not found." })
    })

    it("405 body decodes to MethodNotAllowed with the declared schema", async () => {
      const reply = await request(server().url, pipePath("x"), { method: "DELETE" })
      expect(reply.status).toBe(405)
      expect(decodeRejection(reply.status, reply.text)).toMatchObject({
        _tag: "MethodNotAllowed",
        message: "Unsupported method: DELETE."
      })
    })

    it("an unreachable server → ConnectionFailed (watch too: it restores connections, it does not wait for one)", async () => {
      const unreachable = runWith(() => ({ ...server(), url: "http://127.0.0.1:1" }))
      const errors = await unreachable(Effect.gen(function*() {
        const c = yield* client
        return [
          yield* Effect.flip(c.health),
          yield* Effect.flip(c.send("x", Stream.make(new Uint8Array(1)))),
          yield* Effect.flip(Stream.runDrain(c.receive("x"))),
          yield* Effect.flip(Stream.runDrain(c.watch("x")))
        ]
      }))
      expect(errors.map((e) => e._tag)).toEqual([
        "ConnectionFailed",
        "ConnectionFailed",
        "ConnectionFailed",
        "ConnectionFailed"
      ])
    })

    it("the sender's closing [ERROR] line → SendFailed with its message (its receiver aborted halfway)", async () => {
      const name = uniqueName("sdk-sendfail")
      const path = pipePath(name)
      const { req, response } = openRequest(server().url, path)
      req.end()
      await waitForReceivers(server(), path, 1)
      // The source stops at 1 MB: once the receiver has it all, no upload is in flight when the server gives
      // up. With one in flight, the server's close turns into a TCP reset that can destroy the line before
      // the client has read it (the client then fails with TransferBroken): a server-side issue.
      const source = new PrngSource(name, { size: Infinity, holdAt: 1 * MB })
      const sending = failureOf(run, Effect.flatMap(client, (c) => c.send(name, source)))
      const receiver = new BodyReader(await within(response, 5_000, "receiver head"), false)
      await receiver.waitForBytes(1 * MB)
      receiver.res.destroy()
      const error = await within(sending, 10_000, "the send to fail")
      expect(error).toMatchObject({ _tag: "SendFailed", message: "All receiver(s) aborted halfway." })
    })
  })

  describe("--wait-timeout 1s", () => {
    const server = useServer(["--wait-timeout", "1s", "--retention", "0s"])
    const run = runWith(server)

    it("408 → WaitTimedOut for a receiver, and for a sender (told in its 200 body)", async () => {
      const receive = await failureOf(
        run,
        Effect.flatMap(client, (c) => Stream.runDrain(c.receive(uniqueName("sdk-408r"))))
      )
      expect(receive).toMatchObject({ _tag: "WaitTimedOut", message: "Timed out waiting for the other side." })
      const send = await failureOf(
        run,
        Effect.flatMap(client, (c) => c.send(uniqueName("sdk-408s"), Stream.make(new Uint8Array(10))))
      )
      expect(send).toMatchObject({ _tag: "WaitTimedOut", message: "Timed out waiting for the other side." })
    })
  })

  describe("--max-spectators 1", () => {
    const server = useServer(["--max-spectators", "1", "--retention", "0s"])
    const run = runWith(server)

    it("429 → TooManySpectators (not retried by watch)", async () => {
      const name = uniqueName("sdk-429")
      const first = startWatch(server, name)
      try {
        await first.waitForEvent("the first spectator's replay", () => true)
        const error = await failureOf(run, Effect.flatMap(client, (c) => Stream.runDrain(c.watch(name))))
        expect(error).toMatchObject({
          _tag: "TooManySpectators",
          message: `Too many spectators on '/api/v1/pipe/${name}' (limit 1).`
        })
      } finally {
        await first.stop()
      }
    })
  })

  describe("--max-pipes 1", () => {
    const server = useServer(["--max-pipes", "1", "--retention", "0s"])
    const run = runWith(server)

    it("503 → ServerFull, for a sender and a receiver of a new path", async () => {
      const held = uniqueName("sdk-503-held")
      const sender = await holdSender(server(), pipePath(held))
      try {
        const name = uniqueName("sdk-503")
        const send = await failureOf(
          run,
          Effect.flatMap(client, (c) => c.send(name, new PrngSource(name, { size: 20 * MB })))
        )
        expect(send).toMatchObject({
          _tag: "ServerFull",
          message: "The server holds its limit of 1 pipes; try again later."
        })
        const receive = await failureOf(run, Effect.flatMap(client, (c) => Stream.runDrain(c.receive(name))))
        expect(receive).toMatchObject({ _tag: "ServerFull" })
      } finally {
        sender.req.destroy()
      }
    })
  })
})
