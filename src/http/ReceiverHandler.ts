import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as NodeHttpServerRequest from "@effect/platform-node/NodeHttpServerRequest"
import { Deferred, Effect } from "effect"
import { PipeRegistry } from "../actors/PipeRegistry.js"
import type { PipeName } from "../domain/PipeName.js"
import { ServerConfig } from "../ServerConfig.js"
import { disposition, receiverCount } from "./Query.js"
import { answeredDirectly } from "./RawResponse.js"

/**
 * `GET` on a pipe: joins the path as a receiver. Nothing is written until the transfer starts; then the
 * transfer answers on the Node socket directly. A receiver that waited too long gets a plain 408.
 */
export const handleReceiver = (path: string, name: PipeName, query: URLSearchParams) =>
  Effect.gen(function*() {
    const request = yield* HttpServerRequest.HttpServerRequest
    const { maxReceivers } = yield* ServerConfig
    const n = yield* receiverCount(query, maxReceivers)
    const res = NodeHttpServerRequest.toServerResponse(request)

    const registry = yield* PipeRegistry
    return yield* Effect.scoped(Effect.gen(function*() {
      const actor = yield* registry.acquire(name, "party")
      const http10 = NodeHttpServerRequest.toIncomingMessage(request).httpVersion === "1.0"
      const party = yield* actor.joinReceiver({ n, path, res, disposition: disposition(query), http10 })
      yield* Deferred.await(party.settled)
      return answeredDirectly(res)
    }))
  })
