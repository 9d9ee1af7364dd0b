import { Effect, Option } from "effect"
import * as HttpServerRequest from "effect/http/HttpServerRequest"
import * as HttpServerResponse from "effect/http/HttpServerResponse"
import { allowedMethods } from "../domain/PipeError.js"
import { ServerConfig } from "../ServerConfig.js"

const openHeaders = "Content-Type, Content-Disposition, X-Piping"
/**
 * With access control on (protocol §12) a page on another origin presents its token as `Authorization: Bearer`,
 * which its browser sends only if the preflight allows it; an open server answers exactly as §7 says.
 */
const guardedHeaders = `${openHeaders}, Authorization`

/** `OPTIONS` on any path: the CORS preflight answer (protocol §7). */
export const handlePreflight = Effect.gen(function*() {
  const request = yield* HttpServerRequest.HttpServerRequest
  const { tokenSecret, tokensFile } = yield* ServerConfig
  const guarded = Option.isSome(tokensFile) || Option.isSome(tokenSecret)
  return HttpServerResponse.empty({
    status: 200,
    headers: {
      "access-control-allow-methods": allowedMethods,
      "access-control-allow-headers": guarded ? guardedHeaders : openHeaders,
      "access-control-expose-headers": "Access-Control-Allow-Headers",
      "access-control-max-age": "86400",
      "content-length": "0",
      ...(request.headers["access-control-request-private-network"] === "true"
        ? { "access-control-allow-private-network": "true" }
        : {})
    }
  })
})
