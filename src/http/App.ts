import { Cause, Effect } from "effect"
import * as HttpServerRequest from "effect/http/HttpServerRequest"
import * as HttpServerResponse from "effect/http/HttpServerResponse"
import { countRejected } from "../actors/PipeMetrics.js"
import {
  internalError,
  invalidPath,
  isPipeError,
  methodNotAllowed,
  notFound,
  reservedPath,
  serviceWorkerRejected
} from "../domain/PipeError.js"
import { AccessControl } from "./AccessControl.js"
import { ConnectionLimit } from "./ConnectionLimit.js"
import { handlePreflight } from "./Cors.js"
import { nodeExchange } from "./NodeExchange.js"
import { handleProbe } from "./ProbeHandler.js"
import { answeredDirectly } from "./RawResponse.js"
import { handleReceiver } from "./ReceiverHandler.js"
import { withoutToken } from "./RedactedUrl.js"
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
  const method: string = request.method
  const { path, query } = splitTarget(request.url)

  if (method === "OPTIONS") return yield* handlePreflight
  if (method !== "GET" && method !== "HEAD" && method !== "PUT" && method !== "POST") {
    return yield* methodNotAllowed(method)
  }
  const target = route(path)
  switch (target._tag) {
    case "NotFound":
      return yield* notFound()
    case "InvalidPath":
      return yield* invalidPath()
    case "ReservedName":
      return method === "PUT" || method === "POST" ? yield* reservedPath(target.path) : yield* notFound()
    case "Reserved":
      return method === "PUT" || method === "POST"
        ? yield* reservedPath(target.sent)
        : yield* handleReserved(target.path, query)
    case "Pipe": {
      const { name, path } = target
      // Access control (protocol §12): here, once, before any handler; an open server's answer is `Effect.void`.
      const role = method === "PUT" || method === "POST" ? "send" : query.has("progress") ? "watch" : "receive"
      yield* (yield* AccessControl).authorize(request, query, role, path, name)
      yield* (yield* ConnectionLimit).admit(request)
      if (method === "HEAD") return yield* handleProbe(name)
      yield* awaitSocketTurn(nodeExchange(request))
      if (method === "PUT" || method === "POST") return yield* handleSender(path, name, query)
      if (request.headers["service-worker"] === "script") return yield* serviceWorkerRejected()
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
    Effect.catchDefect((defect) =>
      Effect.andThen(
        Effect.logError("request defect").pipe(
          Effect.annotateLogs({
            method: request.method,
            url: withoutToken(request.url),
            defect: Cause.pretty(Cause.die(defect))
          })
        ),
        Effect.suspend(() => {
          const wire = nodeExchange(request)
          return wire.res.headersSent ? Effect.succeed(answeredDirectly(wire)) : Effect.fail(internalError())
        })
      )
    ),
    Effect.catchIf(isPipeError, (error) =>
      Effect.as(
        countRejected(error.reason),
        rejectionResponse(error, {
          accept: request.headers["accept"],
          method: request.method,
          path: splitTarget(request.url).path
        })
      ))
  )
  // A refused upload must not go on: without this Node would read and discard the rest of its body. (On h2
  // the platform drops the header, and Node resets a stream whose body it never read once the answer is out.)
  const unreadBody = response.status >= 400 && !nodeExchange(request).req.complete
  return response.pipe(
    HttpServerResponse.setHeader("access-control-allow-origin", "*"),
    unreadBody ? HttpServerResponse.setHeader("connection", "close") : (r) => r
  )
})
