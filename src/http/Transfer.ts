import { Effect } from "effect"
import type { ReceiverParty, SenderParty } from "../actors/Party.js"
import { endSender, tellSender } from "../actors/Party.js"
import type { PipeName } from "../domain/PipeName.js"
import { SenderLine } from "../domain/SenderLine.js"
import type { TransferOutcome, TransferStats } from "../domain/TransferStats.js"
import { receiverHeaders } from "./ReceiverHeaders.js"
import { relay, type RelayResult } from "./Relay.js"
import { openSenderBody } from "./SenderBody.js"

const completed: TransferOutcome = { ok: true }
const failed = (error: string): TransferOutcome => ({ ok: false, error })

/**
 * Runs one transfer whose parties are all present: answers the receivers, relays the body, and tells the
 * sender how it went. Never fails: a broken transfer is an outcome, made visible to every party here.
 * Interrupting it (shutdown) tears every socket down, so nobody mistakes it for a complete transfer.
 */
export const runTransfer = (
  name: PipeName,
  sender: SenderParty,
  receivers: ReadonlyArray<ReceiverParty>,
  stats: TransferStats
): Effect.Effect<TransferOutcome> =>
  Effect.gen(function*() {
    const body = yield* Effect.tryPromise(() => openSenderBody(sender.req)).pipe(Effect.option)
    if (body._tag === "None") {
      for (const receiver of receivers) receiver.res.destroy()
      endSender(sender, SenderLine.failed, true)
      return failed("The sender's body could not be read.")
    }
    const fallbackName = name.slice(name.lastIndexOf("/") + 1)
    const xPiping = sender.req.headersDistinct["x-piping"] ?? []
    for (const receiver of receivers) {
      receiver.res.writeHead(200, receiverHeaders(body.value, xPiping, receiver.disposition, fallbackName))
      receiver.res.flushHeaders()
    }
    tellSender(sender, SenderLine.start(receivers.length))

    const result = yield* Effect.async<RelayResult>((resume) => {
      const running = relay(body.value.stream, receivers.map((r) => r.res), stats.meter, {
        onSourceEnd: () => tellSender(sender, SenderLine.sent),
        onSinkAbort: () => tellSender(sender, SenderLine.receiverAborted)
      })
      running.result.then((r) => resume(Effect.succeed(r)))
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
  }).pipe(
    // Interrupted (shutdown, or every party gone) at any step, even before the relay started: nobody
    // may take what was sent so far for a whole transfer.
    Effect.onInterrupt(() =>
      Effect.sync(() => {
        for (const receiver of receivers) if (!receiver.res.writableFinished) receiver.res.destroy()
        endSender(sender, SenderLine.shuttingDown, true)
      })
    )
  )
