import { Context, Effect, Layer, Semaphore } from "effect"
import type { Scope } from "effect"

/**
 * SIGHUP, the operator's "read your files again" (protocol §11-§12): the tokens file, the certificate. One
 * process listener for all of them, installed only once something wants to hear it, so a server that has
 * nothing to reload keeps Node's default (SIGHUP ends it, as before). Each reload runs on its own; none
 * touches a running transfer.
 */
export class Hangup extends Context.Service<Hangup, {
  /** Runs `reload` on every SIGHUP for as long as the scope lasts. */
  readonly onHangup: (reload: Effect.Effect<void>) => Effect.Effect<void, never, Scope.Scope>
}>()("pipe/http/Hangup") {
  static readonly layer = Layer.effect(
    Hangup,
    Effect.gen(function*() {
      const context = yield* Effect.context<never>()
      const run = Effect.runForkWith(context)
      const reloads = new Set<Effect.Effect<void>>()
      // One SIGHUP's reloads at a time, in order: two quick signals must not apply the older file last.
      const oneAtATime = Semaphore.makeUnsafe(1)
      const heard = () => {
        for (const reload of reloads) run(oneAtATime.withPermit(reload))
      }
      yield* Effect.addFinalizer(() => Effect.sync(() => process.off("SIGHUP", heard)))
      return Hangup.of({
        onHangup: (reload) =>
          Effect.acquireRelease(
            Effect.sync(() => {
              if (reloads.size === 0) process.on("SIGHUP", heard)
              reloads.add(reload)
            }),
            () =>
              Effect.sync(() => {
                reloads.delete(reload)
                if (reloads.size === 0) process.off("SIGHUP", heard)
              })
          ).pipe(Effect.asVoid)
      })
    })
  )
}
