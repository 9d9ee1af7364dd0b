import { Effect } from "effect"
import * as HttpServerRequest from "effect/http/HttpServerRequest"
import * as HttpServerResponse from "effect/http/HttpServerResponse"
import { allowedMethods } from "../domain/PipeError.js"

/** `OPTIONS` on any path: the CORS preflight answer (protocol §7). */
export const handlePreflight = Effect.map(HttpServerRequest.HttpServerRequest, (request) =>
  HttpServerResponse.empty({
    status: 200,
    headers: {
      "access-control-allow-methods": allowedMethods,
      "access-control-allow-headers": "Content-Type, Content-Disposition, X-Piping",
      "access-control-expose-headers": "Access-Control-Allow-Headers",
      "access-control-max-age": "86400",
      "content-length": "0",
      ...(request.headers["access-control-request-private-network"] === "true"
        ? { "access-control-allow-private-network": "true" }
        : {})
    }
  }))
