import { describe, expect, it } from "@effect/vitest"
import { Deferred, Effect, Exit, Fiber } from "effect"
import type { ClientRequest, IncomingMessage, Server, ServerResponse } from "node:http"
import { createServer, request as httpRequest } from "node:http"
import { PassThrough, Readable, Writable } from "node:stream"
import type { SenderParty } from "../../src/actors/Party.js"
import { PipeName } from "../../src/domain/PipeName.js"
import { SenderLine } from "../../src/domain/SenderLine.js"
import type { ByteMeter, TransferAbort } from "../../src/domain/TransferStats.js"
import { completed, failed } from "../../src/domain/TransferStats.js"
import { makeReceiverParty, makeSenderParty } from "../../src/transfer/NodeParty.js"
import { wireOf } from "../../src/transfer/NodeWire.js"
import type { RelayHooks, RelayResult, Sink } from "../../src/transfer/Relay.js"
import { relay } from "../../src/transfer/Relay.js"
import { runTransfer } from "../../src/transfer/Transfer.js"

/**
 * The relay on in-memory Node streams: a source `Readable` (the sender's body) and `Writable` sinks (the
 * receivers' responses). A sink's `readEnd` stands for "the peer read the end": here, the stream finished,
 * or whatever the test confirms by hand.
 */

// ---- data ----------------------------------------------------------------------------------------------

/** Chunk `i` of `size` bytes, each chunk different, so reordering or loss shows. */
const chunkOf = (i: number, size: number): Buffer => {
  const chunk = Buffer.alloc(size)
  for (let j = 0; j < size; j++) chunk[j] = (i * 31 + j * 7) % 256
  return chunk
}

const chunksOf = (count: number, size: number): Array<Buffer> =>
  Array.from({ length: count }, (_, i) => chunkOf(i, size))

/** A source that makes chunks on demand and counts how many bytes were pulled out of it. */
const countingSource = (count: number, size: number, highWaterMark = size) => {
  let next = 0
  let pulled = 0
  const source = new Readable({
    highWaterMark,
    read() {
      if (next === count) return void this.push(null)
      const chunk = chunkOf(next++, size)
      pulled += chunk.length
      this.push(chunk)
    }
  })
  return { source, pulled: () => pulled, expected: Buffer.concat(chunksOf(count, size)) }
}

// ---- sinks ---------------------------------------------------------------------------------------------

interface TestSink extends Sink {
  /** What reached the receiver (its write callback), in order, including a write it has not finished. */
  readonly received: () => Buffer
  /** Bytes the receiver has finished taking. */
  readonly taken: () => number
  /** Bytes written to the stream and not yet taken by the receiver (Node's `writableLength`). */
  readonly queued: () => number
  /** The receiver starts reading again (it was `stalled`). */
  readonly release: () => void
  /** Times the relay broke this sink. */
  readonly breaks: () => number
  /** For `readEnd: "manual"`: the peer says whether it read the end. */
  readonly confirm: (read: boolean) => void
}

interface SinkOptions {
  readonly highWaterMark?: number
  /** The receiver does not read: its first write never completes until `release`. */
  readonly stalled?: boolean
  readonly readEnd?: "finish" | "manual"
}

const testSink = (options: SinkOptions = {}): TestSink => {
  const chunks: Array<Buffer> = []
  const held: Array<() => void> = []
  let stalled = options.stalled ?? false
  let breaks = 0
  let taken = 0
  const stream = new Writable({
    highWaterMark: options.highWaterMark ?? 16 * 1024,
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk)
      const done = () => {
        taken += chunk.length
        callback()
      }
      if (stalled) held.push(done)
      else done()
    }
  })
  let confirm: (read: boolean) => void = () => {}
  const readEnd = new Promise<boolean>((resolve) => {
    confirm = resolve
    if (options.readEnd === "manual") return
    stream.once("finish", () => resolve(true))
    stream.once("close", () => resolve(stream.writableFinished))
  })
  return {
    stream,
    readEnd,
    break: () => {
      breaks++
      stream.destroy()
    },
    received: () => Buffer.concat(chunks),
    taken: () => taken,
    queued: () => stream.writableLength,
    release: () => {
      stalled = false
      for (const callback of held.splice(0)) callback()
    },
    breaks: () => breaks,
    confirm
  }
}

// ---- running ---------------------------------------------------------------------------------------------

interface Hooks extends RelayHooks {
  readonly sourceEnds: () => number
  readonly sinkAborts: () => number
}

const countingHooks = (): Hooks => {
  let sourceEnds = 0
  let sinkAborts = 0
  return {
    onSourceEnd: () => void sourceEnds++,
    onSinkAbort: () => void sinkAborts++,
    sourceEnds: () => sourceEnds,
    sinkAborts: () => sinkAborts
  }
}

/** Lets Node run its queued stream callbacks: enough turns of the event loop for a relay to settle down. */
const turns = (n = 20) =>
  Effect.promise(async () => {
    for (let i = 0; i < n; i++) await new Promise<void>((resolve) => setImmediate(resolve))
  })

/** The relay's result once it settles. */
const resultOf = (running: { readonly result: Promise<RelayResult> }) => Effect.promise(() => running.result)

/** The relay's result if it has settled by now, else `"pending"`. */
const settledYet = (running: { readonly result: Promise<RelayResult> }) =>
  Effect.promise(() =>
    Promise.race([
      running.result,
      new Promise<"pending">((resolve) => setImmediate(() => resolve("pending")))
    ])
  )

const write = (stream: PassThrough, chunk: Buffer) =>
  Effect.promise(() => new Promise<void>((resolve) => stream.write(chunk, () => resolve())))

// ---- the tests -------------------------------------------------------------------------------------------

describe("relay", () => {
  describe("bytes arrive intact and in order", () => {
    it.live("one receiver gets every byte; the meter counts them", () =>
      Effect.gen(function*() {
        const { expected, source } = countingSource(64, 1_000)
        const sink = testSink()
        const meter: ByteMeter = { bytes: 0 }
        const hooks = countingHooks()
        const running = relay(source, [sink], meter, hooks)
        expect(yield* resultOf(running)).toBe("complete")
        expect(sink.received().equals(expected)).toBe(true)
        expect(meter.bytes).toBe(64_000)
        expect(sink.stream.writableFinished).toBe(true)
        expect(sink.breaks()).toBe(0)
        expect(hooks.sourceEnds()).toBe(1)
        expect(hooks.sinkAborts()).toBe(0)
      }))

    it.live("every receiver of a fan-out gets the same bytes, small buffers or not; bytes are counted once", () =>
      Effect.gen(function*() {
        const chunks = chunksOf(200, 997)
        const source = Readable.from(chunks)
        const sinks = [testSink({ highWaterMark: 1 }), testSink({ highWaterMark: 1_024 }), testSink()]
        const meter: ByteMeter = { bytes: 0 }
        const running = relay(source, sinks, meter, countingHooks())
        expect(yield* resultOf(running)).toBe("complete")
        const expected = Buffer.concat(chunks)
        for (const sink of sinks) {
          expect(sink.received().length).toBe(199_400)
          expect(sink.received().equals(expected)).toBe(true)
        }
        expect(meter.bytes).toBe(199_400)
      }))

    it.live("an empty body completes with nothing written", () =>
      Effect.gen(function*() {
        const sink = testSink()
        const meter: ByteMeter = { bytes: 0 }
        const running = relay(Readable.from([]), [sink], meter, countingHooks())
        expect(yield* resultOf(running)).toBe("complete")
        expect(sink.received().length).toBe(0)
        expect(sink.stream.writableFinished).toBe(true)
        expect(meter.bytes).toBe(0)
      }))

    it.live("the meter adds to what it already holds", () =>
      Effect.gen(function*() {
        const meter: ByteMeter = { bytes: 10 }
        const running = relay(Readable.from([Buffer.alloc(5), Buffer.alloc(7)]), [testSink()], meter, countingHooks())
        expect(yield* resultOf(running)).toBe("complete")
        expect(meter.bytes).toBe(22)
      }))
  })

  describe("backpressure", () => {
    it.live("a receiver that does not read stops the sender being read beyond bounded buffering", () =>
      Effect.gen(function*() {
        // 1 MB offered in 1 KB chunks; the receiver takes its first chunk and then nothing.
        const { expected, pulled, source } = countingSource(1_024, 1_024, 1_024)
        const sink = testSink({ highWaterMark: 4_096, stalled: true })
        const meter: ByteMeter = { bytes: 0 }
        const running = relay(source, [sink], meter, countingHooks())
        yield* turns()
        const consumed = meter.bytes
        const read = pulled()
        // The sink's buffer (4 KB) plus a chunk in flight; the source buffers at most its own 1 KB beyond that.
        expect(consumed).toBeGreaterThan(0)
        expect(consumed).toBeLessThanOrEqual(4_096 + 1_024)
        expect(read).toBeLessThanOrEqual(consumed + 2 * 1_024)
        expect(source.isPaused()).toBe(true)
        expect(sink.taken() + sink.queued()).toBe(consumed)
        // And it stays there: nothing more is read while the receiver is stuck.
        yield* turns()
        expect(meter.bytes).toBe(consumed)
        expect(pulled()).toBe(read)
        expect(yield* settledYet(running)).toBe("pending")

        sink.release()
        expect(yield* resultOf(running)).toBe("complete")
        expect(sink.received().equals(expected)).toBe(true)
        expect(meter.bytes).toBe(1_024 * 1_024)
      }))

    it.live("the slowest receiver paces the others", () =>
      Effect.gen(function*() {
        const { expected, source } = countingSource(512, 1_024, 1_024)
        const fast = testSink({ highWaterMark: 1_024 })
        const slow = testSink({ highWaterMark: 2_048, stalled: true })
        const meter: ByteMeter = { bytes: 0 }
        const running = relay(source, [fast, slow], meter, countingHooks())
        yield* turns()
        expect(meter.bytes).toBeLessThanOrEqual(2_048 + 1_024)
        // The fast receiver got everything consumed so far, and no more than that.
        expect(fast.received().length).toBe(meter.bytes)
        expect(slow.taken() + slow.queued()).toBe(meter.bytes)

        slow.release()
        expect(yield* resultOf(running)).toBe("complete")
        expect(fast.received().equals(expected)).toBe(true)
        expect(slow.received().equals(expected)).toBe(true)
      }))
  })

  describe("the sender aborts", () => {
    it.live("a source that errors mid-way breaks every receiver: source-aborted, nobody ended cleanly", () =>
      Effect.gen(function*() {
        const source = new PassThrough()
        const sinks = [testSink(), testSink(), testSink()]
        const meter: ByteMeter = { bytes: 0 }
        const hooks = countingHooks()
        const running = relay(source, sinks, meter, hooks)
        const first = chunkOf(1, 3_000)
        yield* write(source, first)
        yield* turns(3)
        source.destroy(new Error("sender went away"))
        expect(yield* resultOf(running)).toBe("source-aborted")
        for (const sink of sinks) {
          expect(sink.breaks()).toBe(1)
          expect(sink.stream.destroyed).toBe(true)
          expect(sink.stream.writableFinished).toBe(false)
          expect(sink.received().equals(first)).toBe(true)
        }
        expect(meter.bytes).toBe(3_000)
        expect(hooks.sourceEnds()).toBe(0)
      }))

    it.live("a source destroyed without an error is an abort too", () =>
      Effect.gen(function*() {
        const source = new PassThrough()
        const sink = testSink()
        const running = relay(source, [sink], { bytes: 0 }, countingHooks())
        yield* write(source, chunkOf(0, 100))
        source.destroy()
        expect(yield* resultOf(running)).toBe("source-aborted")
        expect(sink.stream.destroyed).toBe(true)
        expect(sink.stream.writableFinished).toBe(false)
      }))

    it.live("a source already destroyed before the relay starts is an abort", () =>
      Effect.gen(function*() {
        const source = new PassThrough()
        source.destroy()
        const sink = testSink()
        const running = relay(source, [sink], { bytes: 0 }, countingHooks())
        expect(yield* resultOf(running)).toBe("source-aborted")
        expect(sink.breaks()).toBe(1)
      }))
  })

  describe("a receiver goes away", () => {
    it.live("the only receiver gone: sinks-aborted, the source is paused but left to its owner", () =>
      Effect.gen(function*() {
        const source = new PassThrough()
        const sink = testSink()
        const hooks = countingHooks()
        const running = relay(source, [sink], { bytes: 0 }, hooks)
        yield* write(source, chunkOf(0, 500))
        yield* turns(3)
        sink.stream.destroy()
        expect(yield* resultOf(running)).toBe("sinks-aborted")
        expect(source.isPaused()).toBe(true)
        expect(source.destroyed).toBe(false)
        // The last receiver's loss is the result itself, not an extra "a receiver aborted" line.
        expect(hooks.sinkAborts()).toBe(0)
        expect(hooks.sourceEnds()).toBe(0)
      }))

    it.live("with n > 1 the others go on and get every byte (protocol §3)", () =>
      Effect.gen(function*() {
        const source = new PassThrough()
        const [gone, a, b] = [testSink(), testSink(), testSink()]
        const hooks = countingHooks()
        const meter: ByteMeter = { bytes: 0 }
        const running = relay(source, [gone, a, b], meter, hooks)
        const chunks = chunksOf(10, 1_000)
        yield* write(source, chunks[0] ?? Buffer.alloc(0))
        yield* turns(3)
        gone.stream.destroy()
        yield* turns(3)
        expect(hooks.sinkAborts()).toBe(1)
        for (const chunk of chunks.slice(1)) yield* write(source, chunk)
        source.end()
        expect(yield* resultOf(running)).toBe("complete")
        const expected = Buffer.concat(chunks)
        expect(a.received().equals(expected)).toBe(true)
        expect(b.received().equals(expected)).toBe(true)
        expect(gone.received().equals(chunks[0] ?? Buffer.alloc(1))).toBe(true)
        expect(gone.breaks()).toBe(0)
        expect(meter.bytes).toBe(10_000)
      }))

    it.live("a stuck receiver that goes away releases the backpressure on the others", () =>
      Effect.gen(function*() {
        const { expected, source } = countingSource(256, 1_024, 1_024)
        const fast = testSink()
        const stuck = testSink({ highWaterMark: 1_024, stalled: true })
        const meter: ByteMeter = { bytes: 0 }
        const running = relay(source, [fast, stuck], meter, countingHooks())
        yield* turns()
        expect(meter.bytes).toBeLessThan(256 * 1_024)
        stuck.stream.destroy()
        expect(yield* resultOf(running)).toBe("complete")
        expect(fast.received().equals(expected)).toBe(true)
      }))

    it.live("the transfer fails only when all receivers are gone", () =>
      Effect.gen(function*() {
        const source = new PassThrough()
        const sinks = [testSink(), testSink(), testSink()]
        const hooks = countingHooks()
        const running = relay(source, sinks, { bytes: 0 }, hooks)
        yield* write(source, chunkOf(0, 10))
        for (const sink of sinks.slice(0, 2)) {
          sink.stream.destroy()
          yield* turns(3)
          expect(yield* settledYet(running)).toBe("pending")
        }
        sinks[2]?.stream.destroy()
        expect(yield* resultOf(running)).toBe("sinks-aborted")
        expect(hooks.sinkAborts()).toBe(2)
        expect(source.destroyed).toBe(false)
      }))

    it.live("no receiver left before the start: sinks-aborted at once", () =>
      Effect.gen(function*() {
        const { source } = countingSource(10, 100)
        const sink = testSink()
        sink.stream.destroy()
        const meter: ByteMeter = { bytes: 0 }
        const running = relay(source, [sink], meter, countingHooks())
        expect(yield* settledYet(running)).toBe("sinks-aborted")
        expect(meter.bytes).toBe(0)
      }))

    // The relay pauses the source before it settles. Node's Readable still fills its own buffer up to its
    // highWaterMark (its prefill, not the relay reading), so the test asserts what the relay controls: the
    // source stays paused, nothing is counted, and no chunk is pulled beyond that prefill.
    it.live("no receiver left before the start: the sender is not read", () =>
      Effect.gen(function*() {
        // 100 chunks of 100 bytes behind a 1_000-byte highWaterMark: reading it through would pull 10_000.
        const { pulled, source } = countingSource(100, 100, 1_000)
        const sink = testSink()
        sink.stream.destroy()
        const meter: ByteMeter = { bytes: 0 }
        const running = relay(source, [sink], meter, countingHooks())
        expect(yield* resultOf(running)).toBe("sinks-aborted")
        yield* turns()
        expect(source.readableFlowing).toBe(false)
        expect(source.isPaused()).toBe(true)
        expect(source.readableEnded).toBe(false)
        expect(source.destroyed).toBe(false)
        expect(meter.bytes).toBe(0)
        const prefill = pulled()
        expect(prefill).toBeLessThanOrEqual(1_000)
        yield* turns()
        expect(pulled()).toBe(prefill)
        expect(source.listenerCount("data")).toBe(0)
        expect(meter.bytes).toBe(0)
      }))
  })

  describe("a receiver counts as served only once it read the end", () => {
    it.live("complete waits for every readEnd", () =>
      Effect.gen(function*() {
        const a = testSink({ readEnd: "manual" })
        const b = testSink({ readEnd: "manual" })
        const running = relay(Readable.from([Buffer.from("hello")]), [a, b], { bytes: 0 }, countingHooks())
        yield* turns()
        expect(a.stream.writableFinished).toBe(true)
        expect(yield* settledYet(running)).toBe("pending")
        a.confirm(true)
        yield* turns(3)
        expect(yield* settledYet(running)).toBe("pending")
        b.confirm(true)
        expect(yield* resultOf(running)).toBe("complete")
      }))

    it.live("the only receiver gone after our last byte but before reading it: sinks-aborted", () =>
      Effect.gen(function*() {
        const sink = testSink({ readEnd: "manual" })
        const running = relay(Readable.from([Buffer.from("hello")]), [sink], { bytes: 0 }, countingHooks())
        yield* turns()
        sink.confirm(false)
        expect(yield* resultOf(running)).toBe("sinks-aborted")
      }))

    it.live("one of two receivers not reading the end still completes for the other", () =>
      Effect.gen(function*() {
        const a = testSink({ readEnd: "manual" })
        const b = testSink({ readEnd: "manual" })
        const hooks = countingHooks()
        const running = relay(Readable.from([Buffer.from("hello")]), [a, b], { bytes: 0 }, hooks)
        yield* turns()
        a.confirm(false)
        b.confirm(true)
        expect(yield* resultOf(running)).toBe("complete")
        expect(hooks.sinkAborts()).toBe(1)
      }))
  })

  describe("abort()", () => {
    it.live("cuts a running transfer: receivers broken, the source paused and not destroyed", () =>
      Effect.gen(function*() {
        const { pulled, source } = countingSource(1_000, 1_024)
        const sinks = [testSink({ stalled: true, highWaterMark: 2_048 }), testSink()]
        const meter: ByteMeter = { bytes: 0 }
        const running = relay(source, sinks, meter, countingHooks())
        yield* turns()
        running.abort()
        expect(yield* resultOf(running)).toBe("source-aborted")
        for (const sink of sinks) {
          expect(sink.breaks()).toBe(1)
          expect(sink.stream.writableFinished).toBe(false)
        }
        expect(source.destroyed).toBe(false)
        expect(source.isPaused()).toBe(true)
        const read = pulled()
        yield* turns()
        expect(pulled()).toBe(read)
        running.abort()
        expect(sinks.map((s) => s.breaks())).toEqual([1, 1])
      }))

    it.live("after the end it changes nothing", () =>
      Effect.gen(function*() {
        const sink = testSink()
        const running = relay(Readable.from([Buffer.from("x")]), [sink], { bytes: 0 }, countingHooks())
        expect(yield* resultOf(running)).toBe("complete")
        running.abort()
        expect(yield* resultOf(running)).toBe("complete")
        expect(sink.breaks()).toBe(0)
        expect(sink.stream.writableFinished).toBe(true)
      }))
  })

  it.live("a throw inside a stream callback rejects the result and breaks the receivers", () =>
    Effect.gen(function*() {
      const sinks = [testSink(), testSink()]
      const defect = new Error("hook defect")
      const running = relay(Readable.from([Buffer.from("abc")]), sinks, { bytes: 0 }, {
        onSourceEnd: () => {
          throw defect
        },
        onSinkAbort: () => {}
      })
      const outcome = yield* Effect.promise(() => running.result.then(() => "resolved", (error: unknown) => error))
      expect(outcome).toBe(defect)
      expect(sinks.map((s) => s.breaks())).toEqual([1, 1])
    }))
})

// ---- the whole data path over loopback sockets ------------------------------------------------------------

/**
 * `runTransfer` reads real requests and answers real responses, and "a receiver read the end" is a TCP fact
 * (`receiverSink`): a loopback socket is the honest way to drive it. One server per test, on port 0.
 */

interface Exchange {
  readonly req: IncomingMessage
  readonly res: ServerResponse
}

interface Loopback {
  readonly port: number
  /** The next request the server gets on `path`. */
  readonly exchange: (path: string) => Promise<Exchange>
}

const loopback = Effect.acquireRelease(
  Effect.promise(() =>
    new Promise<{ readonly server: Server; readonly loopback: Loopback }>((resolve, reject) => {
      const waiting = new Map<string, (exchange: Exchange) => void>()
      const arrived = new Map<string, Exchange>()
      const server = createServer((req, res) => {
        const path = req.url ?? ""
        const waiter = waiting.get(path)
        waiting.delete(path)
        if (waiter === undefined) arrived.set(path, { req, res })
        else waiter({ req, res })
      })
      server.on("error", reject)
      server.listen(0, "127.0.0.1", () => {
        const address = server.address()
        if (address === null || typeof address === "string") return reject(new Error("no port"))
        resolve({
          server,
          loopback: {
            port: address.port,
            exchange: (path) => {
              const early = arrived.get(path)
              arrived.delete(path)
              return early !== undefined
                ? Promise.resolve(early)
                : new Promise((found) => void waiting.set(path, found))
            }
          }
        })
      })
    })
  ),
  ({ server }) =>
    Effect.promise(() =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      })
    )
).pipe(Effect.map(({ loopback }) => loopback))

/** What a client read: the body so far, and once the response closed whether it was whole. */
interface Reading {
  readonly status: Promise<number>
  readonly body: () => Buffer
  /** Resolves once `n` bytes of body have arrived. */
  readonly until: (n: number) => Promise<void>
  /** `true` for a body read to its end, `false` for a broken one. */
  readonly whole: Promise<boolean>
}

const reading = (request: ClientRequest): Reading => {
  const chunks: Array<Buffer> = []
  let length = 0
  const waiters: Array<{ readonly n: number; readonly resolve: () => void }> = []
  let resolveStatus: (status: number) => void = () => {}
  const status = new Promise<number>((resolve) => {
    resolveStatus = resolve
  })
  const whole = new Promise<boolean>((resolve) => {
    request.on("error", () => resolve(false))
    request.on("response", (response) => {
      resolveStatus(response.statusCode ?? 0)
      response.on("data", (chunk: Buffer) => {
        chunks.push(chunk)
        length += chunk.length
        for (const waiter of waiters.filter((w) => w.n <= length)) {
          waiters.splice(waiters.indexOf(waiter), 1)
          waiter.resolve()
        }
      })
      response.on("error", () => resolve(false))
      response.on("close", () => resolve(response.complete))
    })
  })
  return {
    status,
    body: () => Buffer.concat(chunks),
    until: (n) => length >= n ? Promise.resolve() : new Promise((resolve) => void waiters.push({ n, resolve })),
    whole
  }
}

const openSender = (port: number) => {
  const request = httpRequest({
    host: "127.0.0.1",
    port,
    path: "/send",
    method: "POST",
    agent: false,
    headers: { "content-type": "application/octet-stream", "transfer-encoding": "chunked" }
  })
  request.flushHeaders()
  return { request, reading: reading(request) }
}

const openReceiver = (port: number) => {
  const request = httpRequest({ host: "127.0.0.1", port, path: "/recv", agent: false })
  request.end()
  return { request, reading: reading(request) }
}

const noDisposition = { download: undefined, filename: undefined }

/** Both clients connected and both parties made, as the handlers would make them. */
const pairOver = (server: Loopback) =>
  Effect.promise(async () => {
    const sender = openSender(server.port)
    const receiver = openReceiver(server.port)
    const [sent, received] = await Promise.all([server.exchange("/send"), server.exchange("/recv")])
    sent.res.setHeader("content-type", "text/plain")
    return {
      sender,
      receiver,
      senderParty: makeSenderParty({ wire: wireOf(sent.req, sent.res), held: undefined, report: undefined }),
      receiverParty: makeReceiverParty({
        wire: wireOf(received.req, received.res),
        disposition: noDisposition,
        http10: false,
        proxied: false
      })
    }
  })

const textOf = (r: Reading) => Effect.promise(() => r.whole.then(() => r.body().toString("utf8")))
const wholeOf = (r: Reading) => Effect.promise(() => r.whole)
const writeTo = (request: ClientRequest, chunk: Buffer) =>
  Effect.promise(() => new Promise<void>((resolve) => request.write(chunk, () => resolve())))

const pipeName = PipeName("p")

describe("runTransfer (loopback sockets)", () => {
  it.live("relays the body whole and tells the sender each step", () =>
    Effect.gen(function*() {
      const server = yield* loopback
      const { receiver, receiverParty, sender, senderParty } = yield* pairOver(server)
      const meter: ByteMeter = { bytes: 0 }
      const abort = yield* Deferred.make<TransferAbort>()
      const fiber = yield* Effect.forkChild(runTransfer(pipeName, senderParty, [receiverParty], meter, abort))
      const chunks = chunksOf(20, 4_096)
      for (const chunk of chunks) yield* writeTo(sender.request, chunk)
      sender.request.end()
      expect(yield* Fiber.join(fiber)).toEqual(completed)
      expect(yield* wholeOf(receiver.reading)).toBe(true)
      expect(yield* Effect.promise(() => receiver.reading.status)).toBe(200)
      expect(receiver.reading.body().equals(Buffer.concat(chunks))).toBe(true)
      expect(meter.bytes).toBe(20 * 4_096)
      expect(yield* textOf(sender.reading)).toBe(SenderLine.start(1) + SenderLine.sent + SenderLine.allReceived)
    }))

  it.live("the TransferAbort ends it: receivers broken, the sender told the abort's line", () =>
    Effect.gen(function*() {
      const server = yield* loopback
      const { receiver, receiverParty, sender, senderParty } = yield* pairOver(server)
      const meter: ByteMeter = { bytes: 0 }
      const abort = yield* Deferred.make<TransferAbort>()
      const fiber = yield* Effect.forkChild(runTransfer(pipeName, senderParty, [receiverParty], meter, abort))
      yield* writeTo(sender.request, chunkOf(0, 1_000))
      yield* Effect.promise(() => receiver.reading.until(1_000))
      const reason: TransferAbort = { error: "cut for the test", line: "[ERROR] cut for the test\n" }
      yield* Deferred.succeed(abort, reason)
      expect(yield* Fiber.join(fiber)).toEqual(failed("cut for the test"))
      expect(yield* wholeOf(receiver.reading)).toBe(false)
      expect(receiver.reading.body().equals(chunkOf(0, 1_000))).toBe(true)
      expect(meter.bytes).toBe(1_000)
      expect(yield* textOf(sender.reading)).toBe(SenderLine.start(1) + reason.line)
    }))

  it.live("the sender going away mid-way breaks the receiver: failed, never a clean end", () =>
    Effect.gen(function*() {
      const server = yield* loopback
      const { receiver, receiverParty, sender, senderParty } = yield* pairOver(server)
      const abort = yield* Deferred.make<TransferAbort>()
      const fiber = yield* Effect.forkChild(runTransfer(pipeName, senderParty, [receiverParty], { bytes: 0 }, abort))
      yield* writeTo(sender.request, chunkOf(0, 2_000))
      yield* Effect.promise(() => receiver.reading.until(2_000))
      sender.request.destroy()
      expect(yield* Fiber.join(fiber)).toEqual(failed("The sender aborted halfway."))
      expect(yield* wholeOf(receiver.reading)).toBe(false)
    }))

  it.live("the only receiver going away fails it and tells the sender (protocol §3)", () =>
    Effect.gen(function*() {
      const server = yield* loopback
      const { receiver, receiverParty, sender, senderParty } = yield* pairOver(server)
      const abort = yield* Deferred.make<TransferAbort>()
      const fiber = yield* Effect.forkChild(runTransfer(pipeName, senderParty, [receiverParty], { bytes: 0 }, abort))
      yield* writeTo(sender.request, chunkOf(0, 2_000))
      yield* Effect.promise(() => receiver.reading.until(2_000))
      receiver.request.destroy()
      expect(yield* Fiber.join(fiber)).toEqual(failed("All receivers aborted halfway."))
      expect(yield* textOf(sender.reading)).toBe(SenderLine.start(1) + SenderLine.allReceiversAborted)
    }))

  it.live("a defect inside the runner is a failed outcome, never a failure or a defect of its own", () =>
    Effect.gen(function*() {
      // A party the data path did not make: looking up its connection throws inside the transfer.
      const stranger: SenderParty = { role: "sender", notify: () => {}, gone: () => false }
      const abort = yield* Deferred.make<TransferAbort>()
      const exit = yield* Effect.exit(runTransfer(pipeName, stranger, [], { bytes: 0 }, abort))
      expect(exit).toEqual(Exit.succeed(failed("The transfer failed on an internal error.")))
    }))
})
