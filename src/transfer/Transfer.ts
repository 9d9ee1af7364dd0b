import { Cause, Deferred, Effect, Exit, Layer, Option } from "effect"
import type { ReceiverParty, SenderParty } from "../actors/Party.js"
import { TransferRunner } from "../actors/Party.js"
import type { PipeName } from "../domain/PipeName.js"
import { SenderLine } from "../domain/SenderLine.js"
import type { ByteMeter, TransferAbort, TransferOutcome } from "../domain/TransferStats.js"
import { completed, failed, failedInternally } from "../domain/TransferStats.js"
import { injectedFault } from "../FaultInjection.js"
import { ServerConfig } from "../ServerConfig.js"
import { countLimitHit } from "./LimitMetrics.js"
import type { NodeReceiver } from "./NodeParty.js"
import { endSender, nodeReceiver, nodeSender, tellSender } from "./NodeParty.js"
import { breakResponse, headerValues, isGone, sendHead } from "./NodeWire.js"
import { receiverHeaders } from "./ReceiverHeaders.js"
import { receiverSink } from "./ReceiverSink.js"
import type { RelayResult, Sink } from "./Relay.js"
import { relay } from "./Relay.js"
import { openSenderBody } from "./SenderBody.js"

const startLineWaitMs = 1_000

/**
 * Runs one transfer whose parties are all present: answers the receivers, relays the body, and tells the
 * sender how it went. Never fails and never dies: a broken transfer, an `abort` (shutdown, stall) and a
 * defect anywhere in here are all outcomes, made visible to every party here — receivers' connections
 * broken, the sender told — so nobody mistakes part of a transfer for all of it.
 */
export const runTransfer = (
  name: PipeName,
  senderParty: SenderParty,
  receiverParties: ReadonlyArray<ReceiverParty>,
  meter: ByteMeter,
  abort: Deferred.Deferred<TransferAbort>,
  /** `--max-transfer-bytes`, `Infinity` for none. */
  maxBytes = Infinity
): Effect.Effect<TransferOutcome> => {
  let sinks: ReadonlyArray<Sink> = []
  let receivers: ReadonlyArray<NodeReceiver> = []
  const sender = Effect.sync(() => nodeSender(senderParty))
  const breakReceivers = () => {
    for (const receiver of receivers) {
      if (receiver.wire.res.writableFinished) continue
      const sink = sinks.find((s) => s.stream === receiver.wire.res)
      if (sink === undefined) breakResponse(receiver.wire)
      else sink.break()
    }
  }
  const endSenderSafely = (line: string) =>
    Effect.sync(() => {
      try {
        endSender(nodeSender(senderParty), line, true)
      } catch {
        // A party we cannot map back has no connection of ours to end.
      }
    })

  const transfer = Effect.gen(function*() {
    const node = yield* sender
    const { req } = node.wire
    receivers = receiverParties.map(nodeReceiver)
    const body = yield* Effect.tryPromise(() => openSenderBody(req)).pipe(Effect.option)
    if (body._tag === "None") {
      breakReceivers()
      endSender(node, SenderLine.failed, true)
      return failed("The sender's body could not be read.")
    }
    if (injectedFault("relay", name)) return yield* Effect.die(new Error(`injected relay defect on ${name}`))
    // The sender hears that its transfer starts before any receiver gets a byte (protocol §3: headers and
    // the first line at once), so the start line is in the kernel before the first receiver write.
    // At most a second: a sender that reads nothing must not hold its receivers back. One Node timer, not
    // `Effect.timeout` (a race of two fibers and a sleep, per transfer).
    yield* Effect.callback<void>((resume) => {
      const limit = setTimeout(() => resume(Effect.void), startLineWaitMs)
      tellSender(node, SenderLine.start(receivers.length), () => {
        clearTimeout(limit)
        resume(Effect.void)
      })
      return Effect.sync(() => clearTimeout(limit))
    })
    const fallbackName = name.slice(name.lastIndexOf("/") + 1)
    const xPiping = headerValues(node.wire, "x-piping")
    sinks = receivers.map((receiver) => {
      const h2 = receiver.wire.protocol === "h2"
      sendHead(receiver.wire, 200, receiverHeaders(body.value, xPiping, receiver.disposition, fallbackName, h2))
      const closeDelimited = receiver.http10 && body.value.contentLength === undefined
      return receiverSink(receiver.wire, closeDelimited, receiver.proxied)
    })

    const result = yield* Effect.callback<RelayResult>((resume) => {
      // A sender that left during the start line's wait is gone for good: an h2 request whose stream closed
      // is ended, not destroyed, and said 'close' before the relay could hear it (it would wait for its stall
      // timeout). Nothing has yielded to the event loop since this check.
      if (isGone(node.wire)) {
        breakReceivers()
        return resume(Effect.succeed("source-aborted"))
      }
      const running = relay(body.value.stream, sinks, meter, {
        onSourceEnd: () => tellSender(node, SenderLine.sent),
        onSinkAbort: () => tellSender(node, SenderLine.receiverAborted)
      }, maxBytes)
      running.result.then((r) => resume(Effect.succeed(r)), (defect) => resume(Effect.die(defect)))
      return Effect.sync(running.abort)
    })

    switch (result) {
      case "complete":
        endSender(node, SenderLine.allReceived, false)
        return completed
      case "sinks-aborted":
        endSender(node, SenderLine.allReceiversAborted, true)
        return failed("All receivers aborted halfway.")
      case "source-aborted":
        breakResponse(node.wire)
        return failed("The sender aborted halfway.")
      case "limit-exceeded": {
        const error = transferTooLarge(maxBytes)
        endSender(node, SenderLine.stalled(error), true)
        yield* countLimitHit("max_transfer_bytes")
        return failed(error)
      }
    }
  })

  const aborted = Effect.flatMap(Deferred.await(abort), (reason) =>
    Effect.andThen(
      Effect.sync(breakReceivers),
      Effect.as(endSenderSafely(reason.line), failed(reason.error))
    ))

  return transfer.pipe(
    Effect.raceFirst(aborted),
    Effect.exit,
    Effect.flatMap((exit) =>
      Exit.isSuccess(exit) ? Effect.succeed(exit.value) : Effect.gen(function*() {
        breakReceivers()
        yield* endSenderSafely(SenderLine.failed)
        yield* Effect.logError("transfer defect").pipe(
          Effect.annotateLogs({ path: name, cause: Cause.pretty(exit.cause) })
        )
        return failedInternally
      })
    ),
    // Interrupted (the path's actor went away) at any step, even before the relay started.
    Effect.onInterrupt(() => Effect.andThen(Effect.sync(breakReceivers), endSenderSafely(SenderLine.shuttingDown)))
  )
}

/** The message of a transfer cut by `--max-transfer-bytes` (protocol §12), for the sender and `done.error`. */
export const transferTooLarge = (limit: number) => `The transfer exceeded the limit of ${limit} bytes.`

/** The data path as the actors see it. */
export const TransferRunnerLive = Layer.effect(
  TransferRunner,
  Effect.gen(function*() {
    const { maxTransferBytes } = yield* ServerConfig
    const maxBytes = Option.getOrElse(maxTransferBytes, () => Infinity)
    return TransferRunner.of({
      run: (name, sender, receivers, meter, abort) => runTransfer(name, sender, receivers, meter, abort, maxBytes)
    })
  })
)
