import { Clock, Context, Data, Duration, Effect, Layer, Option, Runtime, Schedule } from "effect"
import type { PipeName } from "../domain/PipeName.js"
import type { DoneData } from "../domain/TransferReport.js"
import { ServerConfig } from "../ServerConfig.js"

/**
 * A path's last result as the history keeps it: its `DoneData`, and the SSE id its live `done` event had,
 * which `?progress&until=done` reconnections are judged by after the actor is gone (src/domain/UntilDone.ts).
 * `doneId` is undefined for a record written before records kept it (an older `--data-dir` file).
 */
export interface Recorded {
  readonly done: DoneData
  readonly doneId: number | undefined
}

/**
 * The last finished transfer of every path (protocol §9), kept `--history-ttl` for at most `--history-max`
 * paths after the actor and its 30 s retention are gone. It holds no actor, no pipe slot and no `--max-pipes`
 * capacity: a record is the path's `DoneData` and its `done`'s event id, nothing else.
 *
 * This is the interface the actors see; they never know whether it is memory or a file. The SQLite version
 * (`SqliteHistory.ts`) is loaded only for `--data-dir`, by `HistoryLayer.ts`, never by the actors.
 */
export class TransferHistory extends Context.Service<TransferHistory, {
  /**
   * The path's transfer ended, and its live `done` went out as event `doneId`: its result replaces the
   * path's previous one. Never fails.
   */
  readonly record: (name: PipeName, done: DoneData, doneId: number) => Effect.Effect<void>
  /** The path's last result, unless it is older than the time-to-live or was evicted. */
  readonly last: (name: PipeName) => Effect.Effect<Option.Option<DoneData>>
  /** The same record with its `done`'s event id. */
  readonly recall: (name: PipeName) => Effect.Effect<Option.Option<Recorded>>
  /** Records kept now (expired ones may linger until the next sweep). */
  readonly size: Effect.Effect<number>
}>()("pipe/history/TransferHistory") {
  /** Records in this process's memory only: gone with it. */
  static readonly layerMemory = Layer.effect(
    TransferHistory,
    Effect.gen(function*() {
      const { historyMax, historyTtl } = yield* ServerConfig
      const store = makeMemoryStore({ ttl: historyTtl, max: historyMax })
      yield* sweepEvery(
        historyTtl,
        Effect.flatMap(Clock.currentTimeMillis, (now) => Effect.sync(() => store.sweep(now)))
      )
      return TransferHistory.of({
        record: (name, done, doneId) => Effect.sync(() => store.record(name, { done, doneId })),
        last: (name) =>
          Effect.map(Clock.currentTimeMillis, (now) => Option.map(store.last(name, now), (kept) => kept.done)),
        recall: (name) => Effect.map(Clock.currentTimeMillis, (now) => store.last(name, now)),
        size: Effect.sync(() => store.size())
      })
    })
  )
}

/**
 * `--data-dir` cannot be used (unwritable, corrupt, locked by another instance): found at startup, said in one
 * line, exit 1. The markers keep `runMain` from logging it again with a stack.
 */
export class HistoryUnavailable extends Data.TaggedError("HistoryUnavailable")<{ readonly message: string }> {
  override readonly [Runtime.errorReported] = false
  override readonly [Runtime.errorExitCode] = 1
}

export interface HistoryLimits {
  readonly ttl: Duration.Duration
  readonly max: number
}

/** A record has expired once `ttl` has passed since its transfer finished (`done.at`, the actors' clock). */
export const isExpired = (done: DoneData, ttlMs: number, now: number): boolean => done.at + ttlMs <= now

/**
 * Expired records are dropped lazily on read (so a read is always right) and by one sweep fiber, never by a
 * timer per record: the sweep only gives the memory back. Every minute at most, more often for short TTLs.
 */
export const sweepEvery = <R>(ttl: Duration.Duration, sweep: Effect.Effect<void, never, R>) =>
  sweep.pipe(
    Effect.repeat(Schedule.spaced(sweepInterval(ttl))),
    Effect.delay(sweepInterval(ttl)),
    Effect.forkScoped,
    Effect.asVoid
  )

const sweepInterval = (ttl: Duration.Duration): Duration.Duration =>
  Duration.clamp(ttl, { minimum: Duration.seconds(1), maximum: Duration.minutes(1) })

export interface MemoryStore {
  readonly record: (name: PipeName, recorded: Recorded) => void
  readonly last: (name: PipeName, now: number) => Option.Option<Recorded>
  /** Drops the expired records at the front; returns how many. */
  readonly sweep: (now: number) => number
  readonly size: () => number
}

/**
 * A `Map` in insertion order is the whole structure: a new result of a path is deleted and set again, so it
 * moves to the end, and the first entry is always the record written longest ago. So eviction (`--history-max`)
 * takes the first key, and since every record lives the same `ttl`, the expired records are a prefix: the
 * sweep stops at the first live one. (Two actors finishing in the same millisecond may land in either order;
 * a record the sweep stops short of is still expired on read.)
 *
 * The value holds the actor's own `DoneData` object (during retention it is the same object as `done`), so a
 * record costs the map entry, a two-field wrapper (the `done`'s event id beside it), that object and the key.
 * Measured with bench/history-record.mjs (Node 24.21, 100,000 records, 46-character paths, heap used after a
 * full GC, before and after): 341 bytes per record (285 before the wrapper),
 * the path's own string included; a longer path adds its length (at most 512 bytes, the longest name).
 */
export const makeMemoryStore = (limits: HistoryLimits): MemoryStore => {
  const ttlMs = Duration.toMillis(limits.ttl)
  const records = new Map<PipeName, Recorded>()
  return {
    record: (name, recorded) => {
      if (limits.max <= 0 || ttlMs <= 0) return
      records.delete(name)
      records.set(name, recorded)
      for (const oldest of records.keys()) {
        if (records.size <= limits.max) break
        records.delete(oldest)
      }
    },
    last: (name, now) => {
      const recorded = records.get(name)
      if (recorded === undefined) return Option.none()
      if (!isExpired(recorded.done, ttlMs, now)) return Option.some(recorded)
      records.delete(name)
      return Option.none()
    },
    sweep: (now) => {
      let dropped = 0
      for (const [name, { done }] of records) {
        if (!isExpired(done, ttlMs, now)) break
        records.delete(name)
        dropped++
      }
      return dropped
    },
    size: () => records.size
  }
}
