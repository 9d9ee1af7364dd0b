import { Clock, Effect } from "effect"

/**
 * Where every SSE event id comes from: one counter for the whole process, so a path's ids grow across its
 * actors' lifetimes (an actor made again for the same path never hands out an id the last one did, protocol
 * §10), and an id says when it was handed out, which `until=done` reconnections rely on (src/domain/UntilDone.ts).
 *
 * It starts at the boot time in milliseconds times 1000: a restarted server starts above where the last one
 * stopped unless that one handed out more than 1000 ids per millisecond of its whole life on average (a
 * transfer makes about 4 a second), so ids also keep growing across restarts in practice. Well below
 * `Number.MAX_SAFE_INTEGER` (9e15) until the year 2255.
 */
export interface EventIds {
  /** The next id: greater than every one handed out before in this process. */
  readonly next: () => number
  /**
   * The highest id handed out so far (the seed before any): no path, in this process or one before a
   * restart, has handed out a greater one, which `until=done` reads when the actor's own book is not enough.
   */
  readonly highest: () => number
}

export const makeEventIds: Effect.Effect<EventIds> = Effect.map(Clock.currentTimeMillis, (bootMs) => {
  let last = bootMs * 1000
  // Synchronous on purpose: it runs for every event published, inside the actor's step.
  return { next: () => ++last, highest: () => last }
})
