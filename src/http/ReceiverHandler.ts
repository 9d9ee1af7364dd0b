import { Deferred, Effect } from "effect"
import * as HttpServerRequest from "effect/http/HttpServerRequest"
import { PipeRegistry } from "../actors/PipeRegistry.js"
import type { PipeName } from "../domain/PipeName.js"
import { ServerConfig } from "../ServerConfig.js"
import { makeReceiverParty } from "../transfer/NodeParty.js"
import { ClientAddress } from "./ClientAddress.js"
import { nodeExchange } from "./NodeExchange.js"
import { disposition, receiverCount } from "./Query.js"
import { answeredDirectly } from "./RawResponse.js"

/**
 * `GET` on a pipe: joins the path as a receiver. Nothing is written until the transfer starts; then the
 * transfer answers on the Node socket directly. A receiver that waited too long gets a plain 408.
 */
export const handleReceiver = (path: string, name: PipeName, query: URLSearchParams) =>
  Effect.gen(function*() {
    const request = yield* HttpServerRequest.HttpServerRequest
    const wire = nodeExchange(request)
    const { maxReceivers } = yield* ServerConfig
    const n = yield* receiverCount(query, maxReceivers)

    const registry = yield* PipeRegistry
    return yield* Effect.scoped(Effect.gen(function*() {
      const actor = yield* registry.acquire(name, "party")
      // nginx (and ingress-nginx) would buffer the body otherwise; the transfer's `writeHead` keeps it.
      wire.res.setHeader("x-accel-buffering", "no")
      const party = makeReceiverParty({
        wire,
        disposition: disposition(query),
        http10: wire.req.httpVersion === "1.0",
        // Only a peer `--trust-proxy` names is a proxy: a client's own `X-Forwarded-For` must not make its early
        // close count as a receipt (protocol §11: from anyone else these headers are ignored).
        proxied: (yield* ClientAddress).of(request).viaProxy
      })
      const ticket = yield* actor.joinReceiver({ party, n, path })
      yield* Deferred.await(ticket.settled)
      return answeredDirectly(wire)
    }))
  })
