import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as NodeHttpServerRequest from "@effect/platform-node/NodeHttpServerRequest"
import { Deferred, Effect, Either, Schedule } from "effect"
import { endSender, tellSender } from "../actors/Party.js"
import { PipeRegistry } from "../actors/PipeRegistry.js"
import { ContentRangeUnsupported, InvalidMultipart } from "../domain/PipeError.js"
import type { PipeName } from "../domain/PipeName.js"
import { SenderLine } from "../domain/SenderLine.js"
import { ServerConfig } from "../ServerConfig.js"
import { announcedTotal, receiverCount } from "./Query.js"
import { answeredDirectly } from "./RawResponse.js"
import { contentLengthOf, hasBoundary, isMultipart } from "./SenderBody.js"

/**
 * `PUT`/`POST` on a pipe: joins the path as its sender and stays until the transfer is over. The response is
 * written straight to the Node socket, line by line as the transfer goes (headers and the first line at once).
 */
export const handleSender = (path: string, name: PipeName, query: URLSearchParams) =>
  Effect.gen(function*() {
    const request = yield* HttpServerRequest.HttpServerRequest
    const req = NodeHttpServerRequest.toIncomingMessage(request)
    const res = NodeHttpServerRequest.toServerResponse(request)
    if (req.headers["content-range"] !== undefined) return yield* new ContentRangeUnsupported()
    const { maxReceivers } = yield* ServerConfig
    const n = yield* receiverCount(query, maxReceivers)
    const announced = yield* announcedTotal(query)
    const multipart = isMultipart(req)
    if (multipart && !hasBoundary(req)) return yield* new InvalidMultipart()
    const total = (multipart ? undefined : contentLengthOf(req)) ?? announced

    const registry = yield* PipeRegistry
    return yield* Effect.scoped(Effect.gen(function*() {
      const actor = yield* registry.acquire(name, "party")
      res.setHeader("content-type", "text/plain")
      res.setHeader("access-control-allow-origin", "*")
      const held = req.httpVersion === "1.0" ? [] : undefined
      const party = yield* actor.joinSender({ n, path, req, res, total, held })
      // A held (HTTP/1.0) response cannot carry a probe: nothing may be written before its end.
      yield* Effect.sync(() => {
        if (!req.complete && held === undefined) tellSender(party, SenderLine.probe)
      }).pipe(
        Effect.repeat(Schedule.spaced("1 second")),
        Effect.delay("1 second"),
        Effect.raceFirst(Deferred.await(party.started)),
        Effect.forkScoped
      )
      const waited = yield* Effect.either(Deferred.await(party.settled))
      if (Either.isLeft(waited)) {
        // Our 200 went out with the first line, so a timeout or a shutdown can only be said in the body.
        endSender(party, `${waited.left.body}\n`, true)
      }
      return answeredDirectly(res)
    }))
  })
