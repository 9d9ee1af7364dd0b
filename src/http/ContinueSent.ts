import { Effect } from "effect"
import type { NodeWire } from "../transfer/NodeWire.js"

const boundMs = 500

const expectsContinue = (wire: NodeWire) => /^\s*100-continue\s*$/i.test(wire.req.headers["expect"] ?? "")

/**
 * For a sender that sent `Expect: 100-continue`: waits until the first byte of its body is here (or its body
 * is over), which says the client has read Node's `100 Continue` (see `withoutUpgrades`).
 *
 * Why: our 200 goes out at once, and HAProxy 2.6 misparses a final response that reaches it in the same read
 * as the `100 Continue` before it: it takes the 100's "no body" framing for the 200 too, and ends the
 * sender's response after its first chunk (measured: 2 and 5 of 30 concurrent 3 MB `curl -T` senders through
 * HAProxy 2.6 were told only `Waiting for 1 receiver(s)...`, logged `----` after 250 ms, and their receivers
 * waited for ever; haproxy/haproxy#2587 is the same "no body" flag set on a 1xx). Once a body byte has arrived, the client has
 * the 100, so HAProxy parsed it alone: the 200 can never share its read.
 *
 * The wait is one round trip, and the request stays interruptible (a client that leaves ends it). A sender
 * with nothing to send yet (`tail -f log | curl -T -`) must still join, so the wait ends after `boundMs` anyway:
 * by then a proxy has long read the 100 on its own. It reads nothing: the `'readable'` listener is taken off
 * again, so the data path later starts the body as usual.
 *
 * Not on h2: there the 100 and the 200 are HEADERS frames of their own, which no proxy can run together.
 */
export const awaitContinueSent = (wire: NodeWire): Effect.Effect<void> => {
  if (wire.protocol === "h2" || !expectsContinue(wire)) return Effect.void
  const req = wire.req
  return req.complete || req.readableLength > 0 || req.destroyed
    ? Effect.void
    : Effect.callback<void>((resume) => {
      const arrived = () => {
        forget()
        resume(Effect.void)
      }
      const bound = setTimeout(arrived, boundMs)
      const forget = () => {
        clearTimeout(bound)
        req.off("readable", arrived)
        req.off("end", arrived)
        req.off("close", arrived)
      }
      req.once("readable", arrived)
      req.once("end", arrived)
      req.once("close", arrived)
      return Effect.sync(forget)
    })
}
