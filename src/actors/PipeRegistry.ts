import { Deferred, Effect, Exit, RcMap, Ref, Scope } from "effect"
import type { PipeName } from "../domain/PipeName.js"
import { ShuttingDown, TooManyPipes, TooManySpectatorsOnServer } from "../domain/PipeError.js"
import type { TransferId } from "../domain/TransferId.js"
import { ServerConfig } from "../ServerConfig.js"
import type { PipeActor, PipeView } from "./PipeActor.js"
import { idleView, makePipeActor } from "./PipeActor.js"
import { initPipeMetrics } from "./PipeMetrics.js"

/**
 * Path → actor. An actor exists while someone holds it: a handler for as long as its request runs, or the
 * retention window after a transfer ends; when the last holder lets go its scope closes and it is gone.
 * So an idle path costs nothing, and 100,000 distinct paths leave nothing behind.
 *
 * `--max-pipes` counts paths with a sender or a receiver, not actors: a retained result, a spectator or a
 * probe holds an actor too, but must never lock a newcomer out (333 tiny transfers a second would otherwise
 * fill 10,000 slots with results nobody is waiting on).
 */
export class PipeRegistry extends Effect.Service<PipeRegistry>()("pipe/PipeRegistry", {
  scoped: Effect.gen(function*() {
    const settings = yield* ServerConfig
    yield* initPipeMetrics
    const registryScope = yield* Effect.scope
    const self = yield* Deferred.make<RcMap.RcMap<PipeName, PipeActor>>()

    /**
     * Holds the path's actor for the retention window, then tells it the window is over. The hold is taken
     * before this returns, so the parties of the transfer may let go of the actor right after.
     */
    const retain = (name: PipeName) => (transferId: TransferId) =>
      Effect.gen(function*() {
        const actors = yield* Deferred.await(self)
        const hold = yield* Scope.make()
        const actor = yield* RcMap.get(actors, name).pipe(Scope.extend(hold), Effect.option)
        if (actor._tag === "None") return yield* Scope.close(hold, Exit.void)
        yield* Effect.sleep(settings.retention).pipe(
          Effect.zipRight(actor.value.endRetention(transferId)),
          Effect.ensuring(Scope.close(hold, Exit.void)),
          Effect.forkIn(registryScope)
        )
      })

    const actors = yield* RcMap.make({
      lookup: (name: PipeName) => makePipeActor(name, { settings, retain: retain(name) })
    })
    yield* Deferred.succeed(self, actors)

    /** Senders and receivers per path, for the paths that have any. */
    const parties = new Map<PipeName, number>()
    const admitParty = (name: PipeName) =>
      Effect.acquireRelease(
        Effect.suspend(() => {
          const present = parties.get(name) ?? 0
          if (present === 0 && parties.size >= settings.maxPipes) {
            return Effect.fail(new TooManyPipes({ limit: settings.maxPipes }))
          }
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

    return {
      /**
       * The path's actor, held until the caller's scope closes; 503 when the server is stopping or, for a
       * sender or receiver (`party`), when `--max-pipes` paths already have one and this path has none.
       */
      acquire: (
        name: PipeName,
        role: "party" | "spectator"
      ): Effect.Effect<PipeActor, TooManyPipes | ShuttingDown, Scope.Scope> =>
        Effect.gen(function*() {
          if (yield* Ref.get(draining)) return yield* new ShuttingDown()
          if (role === "party") yield* admitParty(name)
          return yield* RcMap.get(actors, name)
        }),
      /**
       * The path's current view without bringing an actor to life for it: probes and snapshot polls of
       * paths nobody uses cost nothing and leave nothing behind.
       */
      view: (name: PipeName): Effect.Effect<PipeView> =>
        Effect.gen(function*() {
          if (!(yield* RcMap.has(actors, name))) return idleView
          return yield* Effect.scoped(Effect.flatMap(RcMap.get(actors, name), (actor) => actor.view)).pipe(
            Effect.orElseSucceed(() => idleView)
          )
        }),
      /** A server-wide spectator slot for the caller's scope (each path also has its own limit). */
      admitSpectator: Effect.acquireRelease(
        Ref.modify(spectators, (n) => n < settings.maxSpectatorsTotal ? [true, n + 1] : [false, n]),
        (admitted) => admitted ? Ref.update(spectators, (n) => n - 1) : Effect.void
      ).pipe(
        Effect.flatMap((admitted) =>
          admitted ? Effect.void : Effect.fail(new TooManySpectatorsOnServer({ limit: settings.maxSpectatorsTotal }))
        )
      ),
      /** From now on new requests on pipes are refused; what runs goes on. */
      drain: Ref.set(draining, true),
      /** Ends every path: running transfers aborted visibly, waiting parties refused, spectators closed. */
      shutdown: RcMap.keys(actors).pipe(
        Effect.flatMap((names) =>
          Effect.forEach(
            names,
            (name) => Effect.scoped(Effect.flatMap(RcMap.get(actors, name), (actor) => actor.shutdown)).pipe(Effect.ignore),
            { concurrency: "unbounded", discard: true }
          )
        )
      ),
      /** Paths with a live actor right now. */
      size: Effect.map(RcMap.keys(actors), (names) => names.length)
    }
  })
}) {}
