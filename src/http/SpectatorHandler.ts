import { Clock, Effect, Schedule, Schema } from "effect"
import * as HttpServerRequest from "effect/http/HttpServerRequest"
import * as HttpServerResponse from "effect/http/HttpServerResponse"
import type { ServerResponse } from "node:http"
import { PipeRegistry } from "../actors/PipeRegistry.js"
import type { Stamped } from "../actors/SpectatorHub.js"
import type { PipeName } from "../domain/PipeName.js"
import { Snapshot } from "../schema/Snapshot.js"
import { encodeSse, sseKeepalive } from "../schema/Sse.js"
import { ServerConfig } from "../ServerConfig.js"
import { dashboardPage } from "../web/index.js"
import { nodeExchange } from "./NodeExchange.js"
import { pageResponse } from "./PageResponse.js"
import { spectatorFormat } from "./Query.js"
import { answeredDirectly } from "./RawResponse.js"
import { snapshotOf } from "./SnapshotOf.js"

const encodeSnapshot = Schema.encodeEffect(Snapshot)

/** The current snapshot of a path, holding its actor only while reading it. */
const currentSnapshot = (name: PipeName) =>
  Effect.gen(function*() {
    const registry = yield* PipeRegistry
    const view = yield* registry.view(name)
    return yield* encodeSnapshot(snapshotOf(name, view, yield* Clock.currentTimeMillis)).pipe(Effect.orDie)
  })

/**
 * `GET …?progress`: a spectator. Never a receiver, never in the data path. JSON gets one snapshot, a browser
 * the dashboard, everything else the SSE stream.
 */
export const handleSpectator = (path: string, name: PipeName, query: URLSearchParams) =>
  Effect.gen(function*() {
    const request = yield* HttpServerRequest.HttpServerRequest
    const format = spectatorFormat(query, request.headers["accept"])
    if (format === "json") {
      return HttpServerResponse.jsonUnsafe(yield* currentSnapshot(name), { headers: { "cache-control": "no-store" } })
    }
    if (format === "html") return pageResponse(dashboardPage(path, yield* currentSnapshot(name)))
    return yield* streamEvents(path, name, nodeExchange(request).res)
  })

/**
 * The SSE stream of one spectator: the replayed snapshot, then live events, a keepalive every 15 s, until
 * the spectator leaves (the handler is interrupted), the path shuts down, or the time-to-live ends it
 * cleanly. Frames go straight to the socket, one write per batch: this runs for every spectator on every
 * tick, and a `Stream` pipeline per connection cost ~0.4 ms of CPU per event delivered.
 */
const streamEvents = (path: string, name: PipeName, res: ServerResponse) =>
  Effect.scoped(Effect.gen(function*() {
    const { spectatorTtl } = yield* ServerConfig
    const registry = yield* PipeRegistry
    yield* registry.admitSpectator
    const actor = yield* registry.acquire(name, "spectator")
    const watch = yield* actor.watch(path)
    res.writeHead(200, {
      "content-type": "text/event-stream",
      "cache-control": "no-cache",
      "x-accel-buffering": "no",
      "access-control-allow-origin": "*"
    })
    // When the time-to-live ends a stream, EventSource should come back in a second, not its default 3.
    yield* send(res, `retry: 1000\n\n${frames(watch.replay)}`)
    yield* send(res, sseKeepalive).pipe(
      Effect.repeat(Schedule.spaced("15 seconds")),
      Effect.delay("15 seconds"),
      Effect.forkScoped
    )
    yield* watch.subscription.take.pipe(
      Effect.flatMap((batch) => send(res, frames(batch))),
      Effect.forever,
      // The hub closed: the path is shutting down.
      Effect.catchTag("HubClosed", () => Effect.void),
      Effect.raceFirst(Effect.sleep(spectatorTtl))
    )
    res.end()
    return answeredDirectly(res)
  }))

/** Each event is framed once, however many spectators it goes to. */
const framed = new WeakMap<Stamped, string>()
const frames = (events: ReadonlyArray<Stamped>) =>
  events.map((e) => {
    let frame = framed.get(e)
    if (frame === undefined) framed.set(e, frame = encodeSse(e.id, e.event))
    return frame
  }).join("")

/** Writes to a spectator's socket and waits for it to drain when its buffer is full (a slow reader). */
const send = (res: ServerResponse, text: string): Effect.Effect<void> =>
  Effect.callback<void>((resume) => {
    if (res.write(text)) return resume(Effect.void)
    const drained = () => resume(Effect.void)
    res.once("drain", drained)
    return Effect.sync(() => res.off("drain", drained))
  })
