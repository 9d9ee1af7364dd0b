import { Clock, Context, Deferred, Duration, Effect, Exit, Layer, Option, Queue, RcMap, Ref, Scope } from "effect"
import type { PipeError } from "../domain/PipeError.js"
import { shuttingDown, tooManyPipes, tooManySpectatorsOnServer } from "../domain/PipeError.js"
import type { PipeName } from "../domain/PipeName.js"
import { PipeState } from "../domain/PipeState.js"
import type { DoneData } from "../domain/TransferReport.js"
import { TransferHistory } from "../history/TransferHistory.js"
import { ServerConfig } from "../ServerConfig.js"
import { makeEventIds } from "./EventIds.js"
import type { PipeActor, PipeView, Retention } from "./PipeActor.js"
import { idleView, makePipeActor, pathView } from "./PipeActor.js"
import { initPipeMetrics } from "./PipeMetrics.js"

/** A path as `HEAD` and the JSON snapshot show it: its actor's view, and its last result from the history. */
export interface PathView extends PipeView {
  /** The path's last finished transfer (protocol §9): the retained `done` while there is one. */
  readonly last: DoneData | undefined
}

/**
 * Path → actor. An actor exists while someone holds it: a handler for as long as its request runs, or the
 * retention window after a transfer ends; when the last holder lets go its scope closes and it is gone.
 * So an idle path costs nothing, and 100,000 distinct paths leave nothing behind.
 *
 * `--max-pipes` counts paths with a sender or a receiver, not actors: a retained result, a spectator or a
 * probe holds an actor too, but must never lock a newcomer out (333 tiny transfers a second would otherwise
 * fill 10,000 slots with results nobody is waiting on).
 */
export class PipeRegistry extends Context.Service<PipeRegistry, {
  /**
   * The path's actor, held until the caller's scope closes; 503 when the server is stopping or, for a
   * sender or receiver (`party`), when `--max-pipes` paths already have one and this path has none.
   */
  readonly acquire: (name: PipeName, role: "party" | "spectator") => Effect.Effect<PipeActor, PipeError, Scope.Scope>
  /**
   * The path's current view without bringing an actor to life for it: probes and snapshot polls of paths
   * nobody uses cost nothing and leave nothing behind.
   */
  readonly view: (name: PipeName) => Effect.Effect<PathView>
  /** A server-wide spectator slot for the caller's scope (each path also has its own limit). */
  readonly admitSpectator: Effect.Effect<void, PipeError, Scope.Scope>
  /**
   * From now on new requests on pipes are refused, and waiting parties are turned away (503); running
   * transfers go on.
   */
  readonly drain: Effect.Effect<void>
  /** The drain has begun (`/healthz` then says `draining`). */
  readonly draining: Effect.Effect<boolean>
  /** Ends every path: running transfers aborted visibly, waiting parties refused, spectators closed. */
  readonly shutdown: Effect.Effect<void>
  /** Paths with a live actor right now. */
  readonly size: Effect.Effect<number>
}>()("pipe/actors/PipeRegistry") {
  static readonly layer = Layer.effect(
    PipeRegistry,
    Effect.gen(function*() {
      const settings = yield* ServerConfig
      const history = yield* TransferHistory
      yield* initPipeMetrics
      const registryScope = yield* Effect.scope
      const self = yield* Deferred.make<RcMap.RcMap<PipeName, PipeActor>>()

      /** The path's actor, held (kept alive) until `release` runs. */
      const holdActor = (name: PipeName) =>
        Effect.gen(function*() {
          const actors = yield* Deferred.await(self)
          const held = yield* Scope.make()
          const actor = yield* RcMap.get(actors, name).pipe(Scope.provide(held))
          return { actor, release: Scope.close(held, Exit.void) }
        })

      /**
       * Holds the path's actor until the returned effect runs (see `PipeActorOptions.hold`). The actor runs
       * that effect itself: the letting go is forked here, for the last holder closes the actor's scope,
       * which must not happen inside the actor's own fiber.
       */
      const hold = (name: PipeName) =>
        Effect.map(holdActor(name), ({ release }) => Effect.asVoid(Effect.forkIn(release, registryScope)))

      /**
       * Each path's retained result and when its window ends, in the order the windows end: they all last
       * `--retention`, so a window that starts later ends later, and a path's newer result replaces its older
       * one at the back. A record instead of an actor held for the window (a sleeping fiber, a scope and an
       * actor per transfer of the last 30 s: 16 pairs of 1 KiB transfers made tens of thousands).
       */
      const retentions = new Map<PipeName, { readonly retention: Retention; readonly endsAt: number }>()
      const retentionMs = Duration.toMillis(settings.retention)
      /** Rung when the first window opens while none was open. */
      const windowOpened = yield* Queue.sliding<void>(1)

      const retain = (name: PipeName) => (retention: Retention) =>
        Effect.flatMap(Clock.currentTimeMillis, (now) => {
          const wasEmpty = retentions.size === 0
          retentions.delete(name)
          retentions.set(name, { retention, endsAt: now + retentionMs })
          return wasEmpty ? Queue.offer(windowOpened, undefined) : Effect.void
        })

      /** The window of `name` is over: the record goes, and an actor the path has now is told. */
      const endWindow = (name: PipeName, retention: Retention) =>
        Effect.gen(function*() {
          if (retentions.get(name)?.retention !== retention) return
          retentions.delete(name)
          const actors = yield* Deferred.await(self)
          if (!(yield* RcMap.has(actors, name))) return
          yield* Effect.scoped(
            Effect.flatMap(RcMap.get(actors, name), (actor) => actor.endRetention(retention.last.stats.transferId))
          )
        })

      // One fiber ends every window, each at its time.
      yield* Effect.gen(function*() {
        while (true) {
          const first = retentions.entries().next()
          if (first.done === true) {
            yield* Queue.take(windowOpened)
            continue
          }
          const [name, { endsAt, retention }] = first.value
          const now = yield* Clock.currentTimeMillis
          if (endsAt > now) yield* Effect.sleep(Duration.millis(endsAt - now))
          // A defect here must not stop every later window from ending: the record is gone by then, go on.
          else {
            yield* endWindow(name, retention).pipe(
              Effect.catchDefect((defect) =>
                Effect.logError("retention window end failed").pipe(
                  Effect.annotateLogs({ path: name, defect: String(defect) })
                )
              )
            )
          }
        }
      }).pipe(Effect.forkIn(registryScope))

      // One counter for every path and every actor a path will have: see EventIds.
      const eventIds = yield* makeEventIds
      const actors = yield* RcMap.make({
        lookup: (name: PipeName) =>
          makePipeActor(name, {
            settings,
            retain: retain(name),
            retained: retentions.get(name)?.retention,
            hold: hold(name),
            record: (done, doneId) => history.record(name, done, doneId),
            recall: history.recall(name),
            eventIds
          })
      })
      yield* Deferred.succeed(self, actors)

      /** Senders and receivers per path, for the paths that have any. */
      const parties = new Map<PipeName, number>()
      const admitParty = (name: PipeName) =>
        Effect.acquireRelease(
          Effect.suspend(() => {
            const present = parties.get(name) ?? 0
            if (present === 0 && parties.size >= settings.maxPipes) return Effect.fail(tooManyPipes(settings.maxPipes))
            parties.set(name, present + 1)
            return Effect.void
          }),
          () =>
            Effect.sync(() => {
              const left = (parties.get(name) ?? 1) - 1
              if (left === 0) parties.delete(name)
              else parties.set(name, left)
            })
        )

      const draining = yield* Ref.make(false)
      const spectators = yield* Ref.make(0)
      const names = Effect.map(RcMap.keys(actors), (keys) => Array.from(keys))
      const eachActor = (tell: (actor: PipeActor) => Effect.Effect<void>) =>
        names.pipe(
          Effect.flatMap((all) =>
            Effect.forEach(
              all,
              (name) => Effect.scoped(Effect.flatMap(RcMap.get(actors, name), tell)).pipe(Effect.ignore),
              { concurrency: "unbounded", discard: true }
            )
          )
        )

      return PipeRegistry.of({
        acquire: (name, role) =>
          Effect.gen(function*() {
            if (yield* Ref.get(draining)) return yield* shuttingDown()
            if (role === "party") yield* admitParty(name)
            return yield* RcMap.get(actors, name)
          }),
        view: (name) =>
          Effect.gen(function*() {
            // The history first: a transfer ending between the two reads then shows as `streaming` with the
            // previous `last`, never as `streaming` with its own result already `last`.
            const recorded = yield* history.last(name)
            const retained = retentions.get(name)?.retention
            const view = (yield* RcMap.has(actors, name))
              ? yield* Effect.scoped(Effect.flatMap(RcMap.get(actors, name), (actor) => actor.view))
              : retained === undefined
              ? idleView
              : { ...pathView(PipeState.Retained({ last: retained.last }), 0, 0), spectators: 0 }
            return { ...view, last: view.done ?? Option.getOrUndefined(recorded) }
          }),
        admitSpectator: Effect.acquireRelease(
          Ref.modify(spectators, (n) => n < settings.maxSpectatorsTotal ? [true, n + 1] : [false, n]),
          (admitted) => admitted ? Ref.update(spectators, (n) => n - 1) : Effect.void
        ).pipe(
          Effect.flatMap((admitted) =>
            admitted ? Effect.void : Effect.fail(tooManySpectatorsOnServer(settings.maxSpectatorsTotal))
          )
        ),
        drain: Effect.andThen(Ref.set(draining, true), eachActor((actor) => actor.drain)),
        draining: Ref.get(draining),
        shutdown: eachActor((actor) => actor.shutdown),
        size: Effect.map(names, (all) => all.length)
      })
    })
  )
}
