import { Clock, Effect, Option, Schedule, Schema } from "effect"
import * as HttpServerRequest from "effect/http/HttpServerRequest"
import * as HttpServerResponse from "effect/http/HttpServerResponse"
import { PipeRegistry } from "../actors/PipeRegistry.js"
import type { Stamped } from "../actors/SpectatorHub.js"
import type { PipeName } from "../domain/PipeName.js"
import { parseLastEventId } from "../domain/UntilDone.js"
import { Snapshot } from "../schema/Snapshot.js"
import { encodeSse, sseKeepalive } from "../schema/Sse.js"
import { ServerConfig } from "../ServerConfig.js"
import type { NodeWire, WireResponse } from "../transfer/NodeWire.js"
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
    return yield* streamEvents(path, name, query, nodeExchange(request))
  })

/**
 * The SSE stream of one spectator: the replayed snapshot, then live events, a keepalive every 15 s, until
 * the spectator leaves (the handler is interrupted), the path shuts down, `until=done` is satisfied (right
 * after its `done`, src/domain/UntilDone.ts), or the time-to-live ends it cleanly, announced by a `ttl` event.
 * Frames go straight to the socket, one write per batch: this runs for every spectator on every tick, and a
 * `Stream` pipeline per connection cost ~0.4 ms of CPU per event delivered.
 */
const streamEvents = (path: string, name: PipeName, query: URLSearchParams, wire: NodeWire) =>
  Effect.scoped(Effect.gen(function*() {
    const res: WireResponse = wire.res
    const request = yield* HttpServerRequest.HttpServerRequest
    const { spectatorTtl } = yield* ServerConfig
    const registry = yield* PipeRegistry
    yield* registry.admitSpectator
    const actor = yield* registry.acquire(name, "spectator")
    const untilDone = query.get("until") === "done"
    const watch = yield* actor.watch(path, {
      untilDone,
      lastEventId: parseLastEventId(request.headers["last-event-id"])
    })
    // The `done` this stream waited for was already read by this spectator: EventSource stops on a 204.
    if (watch.start === "over") return HttpServerResponse.empty({ status: 204 })
    res.writeHead(200, {
      "content-type": "text/event-stream",
      // `no-transform`: a proxy that compresses or rewrites would buffer the stream it is meant to pass on.
      "cache-control": "no-cache, no-transform",
      "x-accel-buffering": "no",
      "access-control-allow-origin": "*"
    })
    // When the time-to-live ends a stream, EventSource should come back in a second, not its default 3.
    yield* send(res, `retry: 1000\n\n${frames(watch.replay)}`)
    // It was away when its transfer ended: the replay just sent ends with that transfer's `done`.
    if (watch.start === "missed") return endStream(wire)
    yield* send(res, sseKeepalive).pipe(
      Effect.repeat(Schedule.spaced("15 seconds")),
      Effect.delay("15 seconds"),
      Effect.forkScoped
    )
    const follow = Effect.gen(function*() {
      while (true) {
        const batch = yield* watch.subscription.take
        // Live events only: the replay's `done`, if any, is an earlier transfer's and never ends the stream.
        const cut = untilDone ? batch.findIndex((e) => e.event.event === "done") : -1
        yield* send(res, frames(cut === -1 ? batch : batch.slice(0, cut + 1)))
        if (cut !== -1) return
      }
    }).pipe(
      // The hub closed: the path is shutting down.
      Effect.catchTag("HubClosed", () => Effect.void)
    )
    const ended = yield* Effect.timeoutOption(follow, spectatorTtl)
    if (Option.isNone(ended)) {
      // Not through `send`: a spectator that stopped reading must not hold its connection past its end.
      res.write(encodeSse(undefined, { event: "ttl", reconnect: true, at: yield* Clock.currentTimeMillis }))
    }
    return endStream(wire)
  }))

const endStream = (wire: NodeWire) => {
  const res: WireResponse = wire.res
  res.end()
  return answeredDirectly(wire)
}

/** Each event is framed once, however many spectators it goes to. */
const framed = new WeakMap<Stamped, string>()
const frames = (events: ReadonlyArray<Stamped>) =>
  events.map((e) => {
    let frame = framed.get(e)
    if (frame === undefined) framed.set(e, frame = encodeSse(e.id, e.event))
    return frame
  }).join("")

/** Writes to a spectator's socket and waits for it to drain when its buffer is full (a slow reader). */
const send = (res: WireResponse, text: string): Effect.Effect<void> =>
  Effect.callback<void>((resume) => {
    if (res.write(text)) return resume(Effect.void)
    const drained = () => resume(Effect.void)
    res.once("drain", drained)
    return Effect.sync(() => res.off("drain", drained))
  })
