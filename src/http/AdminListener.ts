import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import { Effect, Scope } from "effect"
import * as HttpServerRequest from "effect/http/HttpServerRequest"
import type { Server } from "node:http"
import { notFound } from "../domain/PipeError.js"
import { rejectionResponse } from "./Rejection.js"
import { healthResponse, metricsResponse } from "./ReservedPages.js"
import { splitTarget } from "./Route.js"

const { createServer } = process.getBuiltinModule("node:http")

/**
 * `/healthz` and `/metrics` alone. Behind a balancer that hashes the pipe name, `/healthz` on the public port
 * lands on whichever node owns the key `healthz`; this port reaches each node itself, for health checks and
 * scrapes, and can stay off the public network.
 */
const adminApp = Effect.gen(function*() {
  const request = yield* HttpServerRequest.HttpServerRequest
  const { path } = splitTarget(request.url)
  if (request.method === "GET" || request.method === "HEAD") {
    if (path === "/healthz" || path === "/api/v1/pipe/health") return yield* healthResponse
    if (path === "/metrics") return yield* metricsResponse
  }
  return rejectionResponse(notFound())
})

/**
 * Listens on `host:port` for the scope's lifetime (closed last, so a balancer still reads `draining` while the
 * node drains). Its listen error is a defect, as the main listener's is.
 */
export const serveAdmin = (host: string, port: number, nodeName: string) =>
  Effect.gen(function*() {
    const scope = yield* Effect.scope
    const handler = yield* NodeHttpServer.makeHandler(adminApp, { scope })
    const server: Server = createServer({ headersTimeout: 20_000, maxHeaderSize: 16 * 1024 }, (req, res) => {
      res.setHeader("x-pipe-node", nodeName)
      handler(req, res)
    })
    yield* Effect.callback<void>((resume) => {
      server.once("error", (error) => resume(Effect.die(error)))
      server.listen(port, host, () => resume(Effect.void))
    })
    yield* Scope.addFinalizer(
      scope,
      Effect.callback<void>((resume) => {
        server.close(() => resume(Effect.void))
        server.closeAllConnections()
      })
    )
    return server
  })
