import { Effect } from "effect"
import * as HttpServerResponse from "effect/http/HttpServerResponse"
import { PipeRegistry } from "../actors/PipeRegistry.js"
import type { PipeName } from "../domain/PipeName.js"

/**
 * `HEAD` on a pipe: its state and receiver count in headers, and how its last transfer ended if the history
 * has it (protocol §9); takes no slot, starts nothing.
 */
export const handleProbe = (name: PipeName) =>
  Effect.gen(function*() {
    const registry = yield* PipeRegistry
    const view = yield* registry.view(name)
    return HttpServerResponse.empty({
      status: 200,
      headers: {
        "x-pipe-state": view.state,
        "x-pipe-receivers": `${view.receivers}/${view.expectedReceivers}`,
        ...(view.last === undefined ? {} : { "x-pipe-last": view.last.ok ? "complete" : "aborted" })
      }
    })
  })
