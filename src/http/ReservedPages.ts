import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import { Effect, Metric, Schema } from "effect"
import { PipeMetrics } from "../actors/PipeMetrics.js"
import { PipeRegistry } from "../actors/PipeRegistry.js"
import { Health } from "../schema/Health.js"
import { version } from "../Version.js"
import { helpText, publicBaseUrl } from "./HelpText.js"
import type { ReservedPath } from "./Route.js"

const startedAt = Date.now()

const encodeHealth = Schema.encode(Health)

export const health = Effect.gen(function*() {
  const registry = yield* PipeRegistry
  return yield* encodeHealth({
    status: "ok",
    version,
    uptimeSec: Math.round((Date.now() - startedAt) / 100) / 10,
    pipes: yield* registry.size,
    transfers: (yield* Metric.value(PipeMetrics.gauges.transfersActive)).value,
    spectators: (yield* Metric.value(PipeMetrics.gauges.spectatorsActive)).value
  })
})

const home = (base: string) =>
  `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>pipe</title></head>
<body><h1>pipe</h1><p>Stream bytes from a sender to receivers through a URL. Nothing is stored.</p>
<pre>curl -T myfile ${base}/api/v1/pipe/mypath
curl ${base}/api/v1/pipe/mypath &gt; myfile</pre>
<p>More: <a href="/help">/help</a>, <a href="/noscript">send without JavaScript</a>.</p></body></html>
`

const noscript = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>pipe: send</title></head>
<body><h1>Send a file</h1>
<form method="post" enctype="multipart/form-data" id="send">
<p><label>Path <input name="path" required pattern="[A-Za-z0-9._~/-]+"></label></p>
<p><input type="file" name="input_file"></p>
<p>Set the form's target path in the address: POST goes to the pipe named in the URL you post to.</p>
</form></body></html>
`

/** `GET`/`HEAD` on the server's own paths. */
export const handleReserved = (path: ReservedPath) =>
  Effect.gen(function*() {
    const request = yield* HttpServerRequest.HttpServerRequest
    switch (path) {
      case "/":
        return HttpServerResponse.html(home(publicBaseUrl(request.headers)))
      case "/noscript":
        return HttpServerResponse.html(noscript)
      case "/help":
        return HttpServerResponse.text(helpText(publicBaseUrl(request.headers), version), { contentType: "text/plain" })
      case "/version":
        return HttpServerResponse.text(`${version}\n`, { contentType: "text/plain" })
      case "/healthz":
      case "/api/v1/pipe/health":
        return yield* HttpServerResponse.json(yield* health, { headers: { "cache-control": "no-store" } })
      case "/metrics":
        return HttpServerResponse.text(yield* metricsText, { contentType: "text/plain; version=0.0.4" })
      case "/favicon.ico":
        return HttpServerResponse.empty({ status: 204 })
      case "/robots.txt":
        return HttpServerResponse.text("User-agent: *\nDisallow: /\n", { contentType: "text/plain" })
    }
  })

/** Prometheus text format of `PipeMetrics`. */
const metricsText = Effect.gen(function*() {
  const lines: Array<string> = []
  const describe = (name: string, type: string, value: number) =>
    lines.push(`# TYPE ${name} ${type}`, `${name} ${value}`)
  for (const metric of Object.values(PipeMetrics.counters)) {
    describe(metric.name, "counter", (yield* Metric.value(metric)).count)
  }
  for (const metric of Object.values(PipeMetrics.gauges)) {
    describe(metric.name, "gauge", (yield* Metric.value(metric)).value)
  }
  describe("pipe_open_pipes", "gauge", yield* (yield* PipeRegistry).size)
  return `${lines.join("\n")}\n`
})
