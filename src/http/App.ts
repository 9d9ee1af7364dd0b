import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as NodeHttpServerRequest from "@effect/platform-node/NodeHttpServerRequest"
import { Effect, Metric } from "effect"
import { PipeMetrics } from "../actors/PipeMetrics.js"
import {
  InternalError,
  InvalidPath,
  isPipeError,
  MethodNotAllowed,
  NotFound,
  ReservedPath,
  ServiceWorkerRejected
} from "../domain/PipeError.js"
import { handlePreflight } from "./Cors.js"
import { handleProbe } from "./ProbeHandler.js"
import { handleReceiver } from "./ReceiverHandler.js"
import { answeredDirectly } from "./RawResponse.js"
import { rejectionResponse } from "./Rejection.js"
import { handleReserved } from "./ReservedPages.js"
import { route, splitTarget } from "./Route.js"
import { handleSender } from "./SenderHandler.js"
import { awaitSocketTurn } from "./SocketTurn.js"
import { handleSpectator } from "./SpectatorHandler.js"

/**
 * The whole server, read top to bottom: what the method and the path make of a request, and who answers it.
 */
const dispatch = Effect.gen(function*() {
  const request = yield* HttpServerRequest.HttpServerRequest
  const method = request.method as string
  const { path, query } = splitTarget(request.url)

  if (method === "OPTIONS") return yield* handlePreflight
  if (method !== "GET" && method !== "HEAD" && method !== "PUT" && method !== "POST") {
    return yield* new MethodNotAllowed({ method })
  }
  const target = route(path)
  switch (target._tag) {
    case "NotFound":
      return yield* new NotFound()
    case "InvalidPath":
      return yield* new InvalidPath()
    case "ReservedName":
      return method === "PUT" || method === "POST"
        ? yield* new ReservedPath({ path: target.path })
        : yield* new NotFound()
    case "Reserved":
      return method === "PUT" || method === "POST"
        ? yield* new ReservedPath({ path: target.sent })
        : yield* handleReserved(target.path, query)
    case "Pipe": {
      const { path, name } = target
      if (method === "HEAD") return yield* handleProbe(name)
      yield* awaitSocketTurn(
        NodeHttpServerRequest.toIncomingMessage(request),
        NodeHttpServerRequest.toServerResponse(request)
      )
      if (method === "PUT" || method === "POST") return yield* handleSender(path, name, query)
      if (request.headers["service-worker"] === "script") return yield* new ServiceWorkerRejected()
      return query.has("progress")
        ? yield* handleSpectator(path, name, query)
        : yield* handleReceiver(path, name, query)
    }
  }
})

export const pipeApp = Effect.gen(function*() {
  const request = yield* HttpServerRequest.HttpServerRequest
  // The platform runs every handler uninterruptibly; ours wait on other parties for hours and must be
  // interrupted when their client goes away (the platform does so on the response's `close`).
  const response = yield* dispatch.pipe(
    Effect.interruptible,
    // A defect is a bug of ours: this request fails visibly (a 500, or its connection broken if it was
    // already being answered) with a log line, and the server goes on.
    Effect.catchAllDefect((defect) =>
      Effect.zipRight(
        Effect.logError("request defect").pipe(
          Effect.annotateLogs({ method: request.method, url: request.url, defect: String(defect) })
        ),
        Effect.suspend(() => {
          const res = NodeHttpServerRequest.toServerResponse(request)
          return res.headersSent ? Effect.succeed(answeredDirectly(res)) : Effect.fail(new InternalError())
        })
      )
    ),
    Effect.catchIf(isPipeError, (error) =>
      Metric.increment(Metric.tagged(PipeMetrics.counters.rejected, "reason", error._tag)).pipe(
        Effect.as(rejectionResponse(error))
      ))
  )
  // A refused upload must not go on: without this Node would read and discard the rest of its body.
  const unreadBody = response.status >= 400 && !NodeHttpServerRequest.toIncomingMessage(request).complete
  return response.pipe(
    HttpServerResponse.setHeader("access-control-allow-origin", "*"),
    unreadBody ? HttpServerResponse.setHeader("connection", "close") : (r) => r
  )
})
