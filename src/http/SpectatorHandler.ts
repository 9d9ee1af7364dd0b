import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import { Chunk, Clock, Effect, Exit, Schedule, Schema, Scope, Stream } from "effect"
import { PipeRegistry } from "../actors/PipeRegistry.js"
import type { PipeName } from "../domain/PipeName.js"
import { Snapshot } from "../schema/Snapshot.js"
import { encodeSse, sseKeepalive } from "../schema/Sse.js"
import { ServerConfig } from "../ServerConfig.js"
import { dashboardPage } from "./Dashboard.js"
import { spectatorFormat } from "./Query.js"
import { snapshotOf } from "./Snapshot.js"

const encodeSnapshot = Schema.encode(Snapshot)

/** The current snapshot of a path, holding its actor only while reading it. */
const currentSnapshot = (name: PipeName) =>
  Effect.gen(function*() {
    const registry = yield* PipeRegistry
    const view = yield* registry.view(name)
    return yield* encodeSnapshot(snapshotOf(name, view, yield* Clock.currentTimeMillis))
  })

/**
 * `GET …?progress`: a spectator. Never a receiver, never in the data path. JSON gets one snapshot, a browser
 * the dashboard, everything else the SSE stream: the replayed snapshot, then live events, a keepalive every
 * 15 s, until the spectator leaves or its time-to-live ends the response cleanly.
 */
export const handleSpectator = (path: string, name: PipeName, query: URLSearchParams) =>
  Effect.gen(function*() {
    const request = yield* HttpServerRequest.HttpServerRequest
    const format = spectatorFormat(query, request.headers["accept"])
    if (format === "json") {
      return yield* HttpServerResponse.json(yield* currentSnapshot(name), { headers: { "cache-control": "no-store" } })
    }
    if (format === "html") return dashboardPage(path, yield* currentSnapshot(name))

    const { spectatorTtl } = yield* ServerConfig
    const registry = yield* PipeRegistry
    // The subscription outlives this handler's body: it lives exactly as long as the response stream.
    const scope = yield* Scope.make()
    const watch = yield* registry.admitSpectator.pipe(
      Effect.zipRight(registry.acquire(name)),
      Effect.flatMap((actor) => actor.watch(path)),
      Scope.extend(scope),
      Effect.onError((cause) => Scope.close(scope, Exit.failCause(cause)))
    )
    const live = Stream.repeatEffectOption(watch.subscription.take).pipe(Stream.flattenIterables)
    const events = Stream.concat(Stream.fromIterable(watch.replay), live).pipe(
      Stream.map((stamped) => encodeSse(stamped.id, stamped.event)),
      // When the time-to-live ends a stream, EventSource should come back in a second, not its default 3.
      Stream.prepend(Chunk.of("retry: 1000\n\n"))
    )
    const keepalive = Stream.fromSchedule(Schedule.spaced("15 seconds")).pipe(Stream.as(sseKeepalive))
    // The keepalive never ends by itself: the events decide when the response is over.
    const body = Stream.merge(events, keepalive, { haltStrategy: "left" }).pipe(
      Stream.interruptWhen(Effect.sleep(spectatorTtl)),
      Stream.encodeText,
      Stream.ensuring(Scope.close(scope, Exit.void))
    )
    return HttpServerResponse.stream(body, {
      contentType: "text/event-stream",
      headers: { "cache-control": "no-cache", "x-accel-buffering": "no" }
    })
  })
