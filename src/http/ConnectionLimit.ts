import * as NodeHttpServerRequest from "@effect/platform-node/NodeHttpServerRequest"
import { Context, Effect, Layer, Option } from "effect"
import type { HttpServerRequest } from "effect/http/HttpServerRequest"
import type { PipeError } from "../domain/PipeError.js"
import { tooManyConnections } from "../domain/PipeError.js"
import { ServerConfig } from "../ServerConfig.js"
import { countLimitHit } from "../transfer/LimitMetrics.js"
import { ClientAddress } from "./ClientAddress.js"

/**
 * `--max-connections-per-ip N` (protocol §12): at most N pipe requests (senders, receivers, spectators,
 * probes) open at once from one client address, the N+1th is a 429. Counted per request rather than per TCP
 * connection: behind a trusted proxy many clients share one connection, and the address that counts is the one
 * `ClientAddress` reads. A slot is given back when the response closes, however it ends.
 */
export class ConnectionLimit extends Context.Service<ConnectionLimit, {
  readonly admit: (request: HttpServerRequest) => Effect.Effect<void, PipeError>
}>()("pipe/http/ConnectionLimit") {
  static readonly layer = Layer.effect(
    ConnectionLimit,
    Effect.gen(function*() {
      const { maxConnectionsPerIp } = yield* ServerConfig
      if (Option.isNone(maxConnectionsPerIp)) return ConnectionLimit.of({ admit: () => Effect.void })
      const limit = maxConnectionsPerIp.value
      const clientAddress = yield* ClientAddress
      const open = new Map<string, number>()
      return ConnectionLimit.of({
        admit: (request) =>
          Effect.suspend(() => {
            const client = clientAddress.of(request).ip
            const count = open.get(client) ?? 0
            if (count >= limit) {
              return Effect.andThen(countLimitHit("max_connections_per_ip"), Effect.fail(tooManyConnections(limit)))
            }
            open.set(client, count + 1)
            NodeHttpServerRequest.toServerResponse(request).once("close", () => {
              const left = (open.get(client) ?? 1) - 1
              if (left <= 0) {
                open.delete(client)
              } else open.set(client, left)
            })
            return Effect.void
          })
      })
    })
  )
}
