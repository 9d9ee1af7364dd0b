import { Context, Effect, Layer, Semaphore } from "effect"
import type { Scope } from "effect"

/**
 * SIGHUP, the operator's "read your files again" (protocol §11-§12): the tokens file, the token secret, the
 * certificate. One process listener for all of them, installed only once something wants to hear it, so a
 * server that has nothing to reload keeps Node's default (SIGHUP ends it, as before). Reloads run one at a
 * time, in the order the signals came; none touches a running transfer.
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

/** What one file's reload needs: how to read it, how to put it in force, and what to log either way. */
export interface FileReload<A> {
  readonly read: Effect.Effect<A, { readonly message: string }>
  readonly replace: (next: A) => void
  readonly reloaded: (next: A) => Effect.Effect<void>
  /** The warning when the file no longer reads: what was in force stays (a typo must not lock anyone out). */
  readonly kept: string
}

/** Reads a file again on every SIGHUP; a file that no longer reads keeps what is in force and says why. */
export const reloadOnHangup = <A>(reload: FileReload<A>) =>
  Effect.gen(function*() {
    const once = Effect.gen(function*() {
      const next = yield* Effect.result(reload.read)
      if (next._tag === "Success") {
        reload.replace(next.success)
        yield* reload.reloaded(next.success)
      } else {
        yield* Effect.logWarning(reload.kept).pipe(Effect.annotateLogs({ error: next.failure.message }))
      }
    })
    yield* (yield* Hangup).onHangup(once)
  })
