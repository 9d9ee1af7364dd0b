import { Effect, Metric, Option, Schema } from "effect"
import * as HttpServerRequest from "effect/http/HttpServerRequest"
import * as HttpServerResponse from "effect/http/HttpServerResponse"
import { gaugeValue, PipeMetrics } from "../actors/PipeMetrics.js"
import { PipeRegistry } from "../actors/PipeRegistry.js"
import { Health } from "../schema/Health.js"
import { ServerConfig } from "../ServerConfig.js"
import { version } from "../Version.js"
import { helpText, homePage, noscriptPage } from "../web/index.js"
import { ClientAddress } from "./ClientAddress.js"
import { metricsText } from "./MetricsText.js"
import { pageResponse } from "./PageResponse.js"
import { publicBaseUrl } from "./PublicUrl.js"
import type { ReservedPath } from "./Route.js"

const startedAt = Date.now()

const encodeHealth = Schema.encodeEffect(Health)

export const health = Effect.gen(function*() {
  const registry = yield* PipeRegistry
  return yield* encodeHealth({
    status: (yield* registry.draining) ? "draining" : "ok",
    version,
    uptimeSec: Math.round((Date.now() - startedAt) / 100) / 10,
    pipes: yield* registry.size,
    transfers: yield* gaugeValue(PipeMetrics.gauges.transfersActive),
    spectators: yield* gaugeValue(PipeMetrics.gauges.spectatorsActive)
  }).pipe(Effect.orDie)
})

/** Pages that print this server's URL, built from the request's own headers: no cache may share them. */
const hostDependent = {
  "cache-control": "no-store",
  "vary": "Host, X-Forwarded-Host, X-Forwarded-Proto"
}

/** `GET`/`HEAD` on the server's own paths. */
export const handleReserved = (path: ReservedPath, query: URLSearchParams) =>
  Effect.gen(function*() {
    const request = yield* HttpServerRequest.HttpServerRequest
    const clientAddress = yield* ClientAddress
    // `--public-url` (issue 14): behind a balancer the URL users should type is the balancer's, not the Host.
    const { publicUrl, tlsCert } = yield* ServerConfig
    const ownScheme = Option.isSome(tlsCert) ? "https" : "http"
    const baseUrl = () =>
      Option.getOrElse(publicUrl, () => publicBaseUrl(request.headers, clientAddress.of(request), ownScheme))
    switch (path) {
      case "/":
        return HttpServerResponse.setHeaders(pageResponse(homePage(baseUrl())), hostDependent)
      case "/noscript":
        return pageResponse(noscriptPage(query))
      case "/help":
        return HttpServerResponse.text(helpText(baseUrl(), version), {
          contentType: "text/plain",
          headers: hostDependent
        })
      case "/version":
        return HttpServerResponse.text(`${version}\n`, { contentType: "text/plain" })
      case "/healthz":
      case "/api/v1/pipe/health":
        return yield* healthResponse
      case "/metrics":
        return yield* metricsResponse
      case "/favicon.ico":
        return HttpServerResponse.empty({ status: 204 })
      case "/robots.txt":
        return HttpServerResponse.text("User-agent: *\nDisallow: /\n", { contentType: "text/plain" })
    }
  })

/** A draining node fails its health check: that is how a balancer learns to send new paths elsewhere. */
export const healthResponse = Effect.map(health, (body) =>
  HttpServerResponse.jsonUnsafe(body, {
    status: body.status === "draining" ? 503 : 200,
    headers: { "cache-control": "no-store" }
  }))

export const metricsResponse = Effect.suspend(() => metricsWithPipes).pipe(
  Effect.map((text) => HttpServerResponse.text(text, { contentType: "text/plain; version=0.0.4" }))
)

/** Open pipes are a registry fact, not a counter: set it right before rendering. */
const metricsWithPipes = Effect.gen(function*() {
  const registry = yield* PipeRegistry
  yield* Metric.update(PipeMetrics.gauges.openPipes, yield* registry.size)
  return yield* metricsText
})
