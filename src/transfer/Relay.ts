import type { EventEmitter } from "node:events"
import type { Readable, Writable } from "node:stream"
import type { ByteMeter } from "../domain/TransferStats.js"

/**
 * The data path, in one place: sender bytes → every receiver, counted, with real backpressure.
 *
 * Plain Node streams on purpose (the measured findings: an Effect `Stream` per chunk costs ~35% of the
 * throughput). Per chunk there is one addition and one `write` per receiver, nothing else. The source is
 * paused while any receiver's socket buffer is full, so the slowest receiver paces the sender.
 *
 * Failure is never hidden: when the sender goes away mid-stream every receiver's connection is broken (never
 * ended), so a client sees a truncated transfer as an error; a receiver that goes away is dropped, and when
 * none is left the relay stops. A receiver counts as served only once it has provably read the end (its
 * `readEnd`), not when the last byte sits in our kernel's send buffer.
 */

/** One receiver, as the relay needs it. */
export interface Sink {
  readonly stream: Writable
  /** Settles after the stream finished: `true` once the peer has read the end, `false` if it went away first. */
  readonly readEnd: Promise<boolean>
  /** Breaks the connection so that the peer cannot take what it got for the whole body. */
  readonly break: () => void
}

export interface RelayHooks {
  /** The sender's body ended: every byte has been handed to the receivers. */
  readonly onSourceEnd: () => void
  /** A receiver went away before the end; others are still being served. */
  readonly onSinkAbort: () => void
}

/** `limit-exceeded`: more bytes came than `--max-transfer-bytes` allows; the receivers were broken. */
export type RelayResult = "complete" | "source-aborted" | "sinks-aborted" | "limit-exceeded"

export interface Relay {
  /** Rejects only on a defect (a throw inside a stream callback), after everything was torn down. */
  readonly result: Promise<RelayResult>
  /** Breaks the receivers' side at once (interruption, shutdown, stall) and stops reading the source. */
  readonly abort: () => void
}

/**
 * `limit` is the most bytes the transfer may carry (`Infinity` for none): the chunk that goes past it is not
 * forwarded, every receiver is broken and the source paused, so nobody takes the cut transfer for a whole one.
 */
export const relay = (
  source: Readable,
  sinks: ReadonlyArray<Sink>,
  meter: ByteMeter,
  hooks: RelayHooks,
  limit = Infinity
): Relay => {
  const live = new Set<Sink>()
  const blocked = new Set<Writable>()
  const served = new Set<Sink>()
  const detach: Array<() => void> = []
  let sourceEnded = false
  let settled = false
  let resolveResult: (result: RelayResult) => void = () => {}
  let rejectResult: (defect: unknown) => void = () => {}
  const result = new Promise<RelayResult>((resolve, reject) => {
    resolveResult = resolve
    rejectResult = reject
  })
  const finish = (outcome: { readonly result: RelayResult } | { readonly defect: unknown }) => {
    if (settled) return
    settled = true
    for (const undo of detach) undo()
    if ("defect" in outcome) rejectResult(outcome.defect)
    else resolveResult(outcome.result)
  }
  const settle = (r: RelayResult) => finish({ result: r })

  const breakAll = () => {
    for (const sink of live) if (!served.has(sink)) sink.break()
  }

  /** Node calls these from its own callbacks, where a throw would end the process: a throw ends the relay. */
  const guarded = <A extends ReadonlyArray<unknown>>(listener: (...args: A) => void) => (...args: A) => {
    try {
      listener(...args)
    } catch (defect) {
      source.pause()
      breakAll()
      finish({ defect })
    }
  }

  const listen = <A extends ReadonlyArray<unknown>>(
    emitter: EventEmitter,
    event: string,
    listener: (...args: A) => void
  ) => {
    const safe = guarded(listener)
    emitter.on(event, safe)
    detach.push(() => emitter.off(event, safe))
  }

  const resumeIfClear = () => {
    if (blocked.size === 0 && !sourceEnded && !settled) source.resume()
  }

  const finishIfDone = () => {
    if (sourceEnded && [...live].every((s) => served.has(s))) settle("complete")
  }

  const dropSink = (sink: Sink) => {
    if (!live.delete(sink)) return
    blocked.delete(sink.stream)
    if (live.size === 0) {
      // Nobody is reading any more: stop pulling from the sender, whose own response says what happened.
      source.pause()
      settle("sinks-aborted")
      return
    }
    hooks.onSinkAbort()
    resumeIfClear()
    finishIfDone()
  }

  const abortSource = () => {
    if (sourceEnded || settled) return
    breakAll()
    settle("source-aborted")
  }

  const exceedLimit = () => {
    source.pause()
    breakAll()
    settle("limit-exceeded")
  }

  for (const sink of sinks) {
    const { stream } = sink
    if (stream.destroyed) continue
    live.add(sink)
    listen(stream, "drain", () => {
      blocked.delete(stream)
      resumeIfClear()
    })
    listen(stream, "close", () => {
      if (!stream.writableFinished) dropSink(sink)
    })
    sink.readEnd.then(
      guarded((read: boolean) => {
        if (settled) return
        if (!read) return dropSink(sink)
        served.add(sink)
        finishIfDone()
      }),
      guarded(() => dropSink(sink))
    )
  }

  listen(source, "data", (buffer: Buffer) => {
    meter.bytes += buffer.length
    // The one comparison per chunk that `--max-transfer-bytes` costs.
    if (meter.bytes > limit) return exceedLimit()
    for (const sink of live) if (!sink.stream.write(buffer)) blocked.add(sink.stream)
    if (blocked.size > 0) source.pause()
  })
  listen(source, "end", () => {
    sourceEnded = true
    hooks.onSourceEnd()
    for (const sink of live) sink.stream.end()
    finishIfDone()
  })
  listen(source, "error", abortSource)
  listen(source, "close", () => {
    if (!source.readableEnded) abortSource()
  })

  if (live.size === 0) {
    // Attaching `data` switched the source to flowing: without the pause it would be read and thrown away.
    source.pause()
    settle("sinks-aborted")
  } else if (source.destroyed && !source.readableEnded) abortSource()
  else source.resume()

  return {
    result,
    abort: () => {
      if (settled) return
      // The source is only paused: its owner may still want to answer on the same socket.
      source.pause()
      breakAll()
      settle("source-aborted")
    }
  }
}
