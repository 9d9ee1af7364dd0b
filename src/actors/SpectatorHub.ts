import { Effect, Metric, Option, Queue, Ref, Scope } from "effect"
import { PipeMetrics } from "./PipeMetrics.js"
import type { PipeEvent } from "../schema/PipeEvent.js"

/** An event as published on a path: `id` increases per path and becomes the SSE `id:`. */
export interface Stamped {
  readonly id: number
  readonly event: PipeEvent
}

/** One spectator's view of the hub. */
export interface Subscription {
  /**
   * Waits for news, then returns everything pending in publication order; fails with `None` once the hub
   * is closed and everything published before was taken (the `Stream.repeatEffectOption` convention).
   */
  readonly take: Effect.Effect<ReadonlyArray<Stamped>, Option.Option<never>>
}

interface Subscriber {
  /** `state` and `done`: few per transfer, never dropped. */
  readonly lossless: Queue.Queue<Stamped>
  /** Only the newest `progress`: a spectator that reads slowly skips intermediate ones. */
  readonly latestProgress: Ref.Ref<Option.Option<Stamped>>
  /** A doorbell: at most one pending ring, so publishing never waits on a spectator. */
  readonly bell: Queue.Queue<void>
}



/**
 * Fans a path's events out to its spectators, out of the data path. Publishing costs O(spectators) and never
 * blocks; each spectator holds at most one `progress` plus the `state`/`done` events it has not read yet, so
 * a stalled spectator neither slows anyone nor grows memory with the transfer's length. (A plain sliding
 * `PubSub` would bound memory too, but could drop a `state` or `done` for a slow reader.)
 */
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
          (stamped.event.event === "progress"
            ? Ref.set(s.latestProgress, Option.some(stamped))
            : Queue.offer(s.lossless, stamped)).pipe(Effect.zipRight(Queue.offer(s.bell, undefined))),
        { discard: true }
      ))

  const subscribe = Effect.gen(function*() {
    const subscriber: Subscriber = {
      lossless: yield* Queue.unbounded<Stamped>(),
      latestProgress: yield* Ref.make(Option.none<Stamped>()),
      bell: yield* Queue.sliding<void>(1)
    }
    yield* Effect.acquireRelease(
      Ref.update(subscribers, (all) => new Set(all).add(subscriber)).pipe(
        Effect.zipRight(Metric.incrementBy(PipeMetrics.gauges.spectatorsActive, 1))
      ),
      () =>
        Ref.update(subscribers, (all) => {
          const rest = new Set(all)
          rest.delete(subscriber)
          return rest
        }).pipe(Effect.zipRight(Metric.incrementBy(PipeMetrics.gauges.spectatorsActive, -1)))
    )
    const take = Effect.gen(function*() {
      yield* Queue.take(subscriber.bell)
      if ((yield* Queue.isEmpty(subscriber.lossless)) && (yield* Ref.get(closed))) {
        return yield* Effect.fail(Option.none())
      }
      const events = [...(yield* Queue.takeAll(subscriber.lossless))]
      // Sorting by id puts the newest progress where it was published, even between a state and a done.
      const progress = yield* Ref.getAndSet(subscriber.latestProgress, Option.none())
      if (Option.isSome(progress)) events.push(progress.value)
      // Ring again so that a close that arrived with this batch ends the next take.
      if (yield* Ref.get(closed)) yield* Queue.offer(subscriber.bell, undefined)
      return events.sort(byId)
    })
    return { take } satisfies Subscription
  })

  return {
    publish,
    subscribe,
    size: Effect.map(Ref.get(subscribers), (all) => all.size),
    close: Ref.set(closed, true).pipe(
      Effect.zipRight(Ref.get(subscribers)),
      Effect.flatMap((all) => Effect.forEach(all, (s) => Queue.offer(s.bell, undefined), { discard: true }))
    )
  }
})
