import type { Scope } from "effect"
import { Data, Effect, Queue, Ref } from "effect"
import type { Event } from "../domain/PipeState.js"
import { PipeMetrics, shift } from "./PipeMetrics.js"

/** An event as published on a path: `id` increases per path and becomes the SSE `id:`. */
export interface Stamped {
  readonly id: number
  readonly event: Event
}

/** The hub closed (the path shuts down) and everything published before was taken. */
export class HubClosed extends Data.TaggedError("HubClosed")<{}> {}

/** One spectator's view of the hub. */
export interface Subscription {
  /**
   * Waits for news, then returns everything pending in publication order; fails once the hub is closed and
   * everything published before was taken.
   */
  readonly take: Effect.Effect<ReadonlyArray<Stamped>, HubClosed>
}

interface Subscriber {
  /** Only the newest `progress`: a spectator that reads slowly skips intermediate ones (protocol §4). */
  progress: Stamped | undefined
  /** `state` and `done` events, never coalesced (protocol §4), at most `maxPendingKept`. */
  readonly kept: Array<Stamped>
  /** A doorbell: at most one pending ring, so publishing never waits on a spectator. */
  readonly bell: Queue.Queue<void>
}

/**
 * A transfer makes a handful of `state` events and one `done`. A spectator that has not read this many is
 * not reading at all: it keeps the newest ones, so its memory stays bounded.
 */
const maxPendingKept = 32

export interface SpectatorHub {
  readonly publish: (stamped: Stamped) => Effect.Effect<void>
  readonly subscribe: Effect.Effect<Subscription, never, Scope.Scope>
  readonly size: Effect.Effect<number>
  /** Ends every subscription once it has read what was published before. */
  readonly close: Effect.Effect<void>
}

const byId = (a: Stamped, b: Stamped) => a.id - b.id

export const makeSpectatorHub: Effect.Effect<SpectatorHub> = Effect.gen(function*() {
  const subscribers = yield* Ref.make<ReadonlySet<Subscriber>>(new Set())
  const closed = yield* Ref.make(false)

  const publish = (stamped: Stamped) =>
    Effect.flatMap(Ref.get(subscribers), (all) =>
      Effect.forEach(
        all,
        (s) =>
          Effect.suspend(() => {
            if (stamped.event.event === "progress") s.progress = stamped
            else if (s.kept.push(stamped) > maxPendingKept) s.kept.shift()
            return Queue.offer(s.bell, undefined)
          }),
        { discard: true }
      ))

  const subscribe = Effect.gen(function*() {
    const subscriber: Subscriber = {
      progress: undefined,
      kept: [],
      bell: yield* Queue.sliding<void>(1)
    }
    yield* Effect.acquireRelease(
      Ref.update(subscribers, (all) => new Set(all).add(subscriber)).pipe(
        Effect.andThen(shift(PipeMetrics.gauges.spectatorsActive, 1))
      ),
      () =>
        Ref.update(subscribers, (all) => {
          const rest = new Set(all)
          rest.delete(subscriber)
          return rest
        }).pipe(Effect.andThen(shift(PipeMetrics.gauges.spectatorsActive, -1)))
    )
    // A subscription that arrives after the close (queued behind the shutdown) must end as well.
    if (yield* Ref.get(closed)) yield* Queue.offer(subscriber.bell, undefined)
    const pending = (): Array<Stamped> => {
      const events = subscriber.kept.splice(0)
      if (subscriber.progress !== undefined) events.push(subscriber.progress)
      subscriber.progress = undefined
      // By id: each event where it was published, a progress between the state and the done around it.
      return events.sort(byId)
    }
    const take = Effect.gen(function*() {
      yield* Queue.take(subscriber.bell)
      const events = pending()
      if (yield* Ref.get(closed)) {
        if (events.length === 0) return yield* new HubClosed()
        // Ring again so that the close that arrived with this batch ends the next take.
        yield* Queue.offer(subscriber.bell, undefined)
      }
      return events
    })
    return { take } satisfies Subscription
  })

  return {
    publish,
    subscribe,
    size: Effect.map(Ref.get(subscribers), (all) => all.size),
    close: Ref.set(closed, true).pipe(
      Effect.andThen(Ref.get(subscribers)),
      Effect.flatMap((all) => Effect.forEach(all, (s) => Queue.offer(s.bell, undefined), { discard: true }))
    )
  }
})
