import { Cause, Deferred, Effect, Exit } from "effect"
import type { ReceiverParty, SenderParty } from "../actors/Party.js"
import { endSender, tellSender } from "../actors/Party.js"
import type { PipeName } from "../domain/PipeName.js"
import { SenderLine } from "../domain/SenderLine.js"
import type { TransferAbort, TransferOutcome, TransferStats } from "../domain/TransferStats.js"
import { injectedFault } from "../FaultInjection.js"
import { receiverHeaders } from "./ReceiverHeaders.js"
import { receiverSink } from "./ReceiverSink.js"
import { relay, type RelayResult, type Sink } from "./Relay.js"
import { openSenderBody } from "./SenderBody.js"

const completed: TransferOutcome = { ok: true }
const failed = (error: string): TransferOutcome => ({ ok: false, error })

/**
 * Runs one transfer whose parties are all present: answers the receivers, relays the body, and tells the
 * sender how it went. Never fails and never dies: a broken transfer, an `abort` (shutdown, stall) and a
 * defect anywhere in here are all outcomes, made visible to every party here — receivers' connections
 * broken, the sender told — so nobody mistakes part of a transfer for all of it.
 */
export const runTransfer = (
  name: PipeName,
  sender: SenderParty,
  receivers: ReadonlyArray<ReceiverParty>,
  stats: TransferStats,
  abort: Deferred.Deferred<TransferAbort>
): Effect.Effect<TransferOutcome> => {
  let sinks: ReadonlyArray<Sink> = []
  const breakReceivers = () => {
    for (const receiver of receivers) {
      if (receiver.res.writableFinished) continue
      const sink = sinks.find((s) => s.stream === receiver.res)
      if (sink === undefined) receiver.res.destroy()
      else sink.break()
    }
  }

  const transfer = Effect.gen(function*() {
    const body = yield* Effect.tryPromise(() => openSenderBody(sender.req)).pipe(Effect.option)
    if (body._tag === "None") {
      breakReceivers()
      endSender(sender, SenderLine.failed, true)
      return failed("The sender's body could not be read.")
    }
    if (injectedFault("relay", name)) yield* Effect.dieMessage(`injected relay defect on ${name}`)
    // The sender hears that its transfer starts before any receiver gets a byte (protocol §3: headers and
    // the first line at once), so the start line is in the kernel before the first receiver write.
    yield* Effect.async<void>((resume) => tellSender(sender, SenderLine.start(receivers.length), () => resume(Effect.void)))
      .pipe(Effect.timeout("1 second"), Effect.ignore)
    const fallbackName = name.slice(name.lastIndexOf("/") + 1)
    const xPiping = sender.req.headersDistinct["x-piping"] ?? []
    sinks = receivers.map((receiver) => {
      receiver.res.writeHead(200, receiverHeaders(body.value, xPiping, receiver.disposition, fallbackName))
      receiver.res.flushHeaders()
      const closeDelimited = receiver.http10 && body.value.contentLength === undefined
      return receiverSink(receiver.res, closeDelimited)
    })

    const result = yield* Effect.async<RelayResult>((resume) => {
      const running = relay(body.value.stream, sinks, stats.meter, {
        onSourceEnd: () => tellSender(sender, SenderLine.sent),
        onSinkAbort: () => tellSender(sender, SenderLine.receiverAborted)
      })
      running.result.then((r) => resume(Effect.succeed(r)), (defect) => resume(Effect.die(defect)))
      return Effect.sync(running.abort)
    })

    switch (result) {
      case "complete":
        endSender(sender, SenderLine.allReceived, false)
        return completed
      case "sinks-aborted":
        endSender(sender, SenderLine.allReceiversAborted, true)
        return failed("All receivers aborted halfway.")
      case "source-aborted":
        sender.res.destroy()
        return failed("The sender aborted halfway.")
    }
  })

  const aborted = Effect.map(Deferred.await(abort), (reason) => {
    breakReceivers()
    endSender(sender, reason.line, true)
    return failed(reason.error)
  })

  return transfer.pipe(
    Effect.raceFirst(aborted),
    Effect.exit,
    Effect.flatMap((exit) =>
      Exit.isSuccess(exit) ? Effect.succeed(exit.value) : Effect.gen(function*() {
        breakReceivers()
        endSender(sender, SenderLine.failed, true)
        yield* Effect.logError("transfer defect").pipe(Effect.annotateLogs({ path: name, cause: Cause.pretty(exit.cause) }))
        return failed("The transfer failed on an internal error.")
      })
    ),
    // Interrupted (the path's actor went away) at any step, even before the relay started.
    Effect.onInterrupt(() =>
      Effect.sync(() => {
        breakReceivers()
        endSender(sender, SenderLine.shuttingDown, true)
      })
    )
  )
}
