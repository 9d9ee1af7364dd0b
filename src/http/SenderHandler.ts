import { Deferred, Effect, Result } from "effect"
import * as HttpServerRequest from "effect/http/HttpServerRequest"
import { PipeRegistry } from "../actors/PipeRegistry.js"
import { bodyOf, contentRangeUnsupported, invalidMultipart } from "../domain/PipeError.js"
import type { PipeName } from "../domain/PipeName.js"
import { SenderLine } from "../domain/SenderLine.js"
import { ServerConfig } from "../ServerConfig.js"
import { endSender, makeSenderParty, tellSender } from "../transfer/NodeParty.js"
import type { WireResponse } from "../transfer/NodeWire.js"
import { contentLengthOf, hasBoundary, isMultipart } from "../transfer/SenderBody.js"
import { senderReportPage } from "../web/index.js"
import { ClientAddress } from "./ClientAddress.js"
import { awaitContinueSent } from "./ContinueSent.js"
import { nodeExchange } from "./NodeExchange.js"
import { announcedTotal, receiverCount, wantsHtml } from "./Query.js"
import { answeredDirectly } from "./RawResponse.js"

const probeEveryMs = 1_000

/**
 * `PUT`/`POST` on a pipe: joins the path as its sender and stays until the transfer is over. The response is
 * written straight to the Node socket, line by line as the transfer goes (headers and the first line at once).
 */
export const handleSender = (path: string, name: PipeName, query: URLSearchParams) =>
  Effect.gen(function*() {
    const request = yield* HttpServerRequest.HttpServerRequest
    const wire = nodeExchange(request)
    const req = wire.req
    const res: WireResponse = wire.res
    const client = (yield* ClientAddress).of(request).ip
    if (req.headers["content-range"] !== undefined) return yield* contentRangeUnsupported()
    const { maxReceivers, senderStatus } = yield* ServerConfig
    const n = yield* receiverCount(query, maxReceivers)
    const announced = yield* announcedTotal(query)
    const multipart = isMultipart(req)
    if (multipart && !hasBoundary(req)) return yield* invalidMultipart()
    const total = (multipart ? undefined : contentLengthOf(req)) ?? announced

    yield* awaitContinueSent(wire)
    const registry = yield* PipeRegistry
    return yield* Effect.scoped(Effect.gen(function*() {
      const actor = yield* registry.acquire(name, "party")
      res.setHeader("access-control-allow-origin", "*")
      // nginx (and ingress-nginx) would buffer the lines otherwise.
      res.setHeader("x-accel-buffering", "no")
      // A browser's form (`/noscript`) gets its lines as a page a phone can read; everyone else plain text.
      const report = multipart && wantsHtml(req.headers["accept"]) ? senderReportPage(path) : undefined
      // `--sender-status late` holds the lines as HTTP/1.0 needs them held: nginx stops forwarding a request
      // body once the response has begun and the upstream blocked once, so nothing may go before the body.
      const held = req.httpVersion === "1.0" || senderStatus === "late"
        ? report === undefined ? [] : [report.head]
        : undefined
      if (report === undefined) res.setHeader("content-type", "text/plain")
      else {
        res.setHeader("content-type", report.contentType)
        for (const [header, value] of Object.entries(report.headers)) res.setHeader(header, value)
        if (held === undefined) res.write(report.head)
      }
      const sender = { wire, held, report }
      const ticket = yield* actor.joinSender({ party: makeSenderParty(sender, client), n, path, total })
      // A held (HTTP/1.0, `late`) response cannot carry a probe: nothing may be written before its end.
      // Every second until the transfer starts, whether the body is still unread (the probe that finds a dead
      // sender) or already all here (a small upload): either way the line is what keeps a proxy's idle
      // timeout from cutting a sender that waits (nginx's 60 s cut a 6-byte sender). A Node interval, not a forked `repeat` raced against `started`
      // (three fibers and a sleep per waiting sender): it only writes, and the scope's end clears it.
      yield* Effect.acquireRelease(
        Effect.sync(() => {
          const probe = setInterval(() => {
            if (Deferred.isDoneUnsafe(ticket.started)) clearInterval(probe)
            else if (sender.held === undefined) tellSender(sender, SenderLine.probe)
          }, probeEveryMs)
          return probe
        }),
        (probe) => Effect.sync(() => clearInterval(probe))
      )
      const waited = yield* Effect.result(Deferred.await(ticket.settled))
      if (Result.isFailure(waited)) {
        // A held response has said nothing yet: the refusal gets its own status (a drain's 503, a 408).
        if (senderStatus === "late" && !res.headersSent) return yield* Effect.fail(waited.failure)
        // Our 200 went out with the first line, so a timeout or a shutdown can only be said in the body.
        endSender(sender, bodyOf(waited.failure), true)
      }
      return answeredDirectly(wire)
    }))
  })
