import { afterAll, describe, expect, it } from "@effect/vitest"
import { Cause, Clock, Context, Duration, Effect, Exit, Layer, Option, Scope } from "effect"
import { TestClock } from "effect/testing"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { DatabaseSync } from "node:sqlite"
import { PipeName } from "../../src/domain/PipeName.js"
import type { DoneData } from "../../src/domain/TransferReport.js"
import { layerSqlite } from "../../src/history/SqliteHistory.js"
import { TransferHistory } from "../../src/history/TransferHistory.js"
import { ServerConfig } from "../../src/ServerConfig.js"
import { writeLayout1File } from "../support/history-files.js"
import { settingsWith } from "./support/fakes.js"

/**
 * The history store, memory and SQLite alike, on the `TestClock`: what it keeps, for how long, and which record
 * goes first when it is full. The SQLite one also across a "restart" (the layer built again on the same file).
 */

const ttl = Duration.hours(1)
const ttlMs = Duration.toMillis(ttl)

const config = (max: number) => Layer.succeed(ServerConfig, settingsWith({ historyTtl: ttl, historyMax: max }))

let sequence = 0
/** A result finished now (on the test clock), as an actor makes one. */
const finishedNow = (ok = true, bytes = 100) =>
  Effect.map(Clock.currentTimeMillis, (at): DoneData => ({
    transferId: `t_${(++sequence).toString(16).padStart(12, "0")}`,
    ok,
    bytes,
    total: null,
    durationSec: 1.5,
    avgMbps: 0.01,
    error: ok ? null : "The sender disconnected.",
    at
  }))

const a = PipeName("a")
const b = PipeName("b")
const c = PipeName("c")
const d = PipeName("d")

const dirs: Array<string> = []
const freshDir = () => {
  const dir = mkdtempSync(join(tmpdir(), "pipe-history-"))
  dirs.push(dir)
  return dir
}
afterAll(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })))

const stores: ReadonlyArray<{ readonly kind: string; readonly layer: (max: number) => Layer.Layer<TransferHistory> }> =
  [
    { kind: "memory", layer: (max) => TransferHistory.layerMemory.pipe(Layer.provide(config(max))) },
    {
      kind: "sqlite",
      layer: (max) => layerSqlite(freshDir()).pipe(Layer.provide(config(max)), Layer.orDie)
    }
  ]

const lastOf = (name: PipeName) => TransferHistory.use((history) => history.last(name))
/** An SSE id for a record's `done`, as the process-wide counter hands them out (src/actors/EventIds.ts). */
let lastDoneId = 1_764_057_600_000_000
const nextDoneId = () => ++lastDoneId
const record = (name: PipeName, done: DoneData, doneId = nextDoneId()) =>
  TransferHistory.use((history) => history.record(name, done, doneId))
const recallOf = (name: PipeName) => TransferHistory.use((history) => history.recall(name))
const size = TransferHistory.use((history) => history.size)

for (const store of stores) {
  describe(`TransferHistory (${store.kind})`, () => {
    it.effect("a path never used has no last result", () =>
      Effect.gen(function*() {
        expect(yield* lastOf(a)).toEqual(Option.none())
        expect(yield* size).toBe(0)
      }).pipe(Effect.provide(store.layer(10))))

    it.effect("keeps a result for exactly the time-to-live after its transfer finished", () =>
      Effect.gen(function*() {
        const done = yield* finishedNow(false, 42)
        yield* record(a, done)
        expect(yield* lastOf(a)).toEqual(Option.some(done))
        yield* TestClock.adjust(ttlMs - 1)
        expect(yield* lastOf(a)).toEqual(Option.some(done))
        yield* TestClock.adjust(1)
        expect(yield* lastOf(a)).toEqual(Option.none())
      }).pipe(Effect.provide(store.layer(10))))

    it.effect("recall gives the record with its done's event id, replaced with the next result, gone with it", () =>
      Effect.gen(function*() {
        expect(yield* recallOf(a)).toEqual(Option.none())
        const first = yield* finishedNow(true, 1)
        yield* record(a, first, 1_764_057_600_000_007)
        expect(yield* recallOf(a)).toEqual(Option.some({ done: first, doneId: 1_764_057_600_000_007 }))
        const second = yield* finishedNow(false, 2)
        yield* record(a, second, 1_764_057_600_000_019)
        expect(yield* recallOf(a)).toEqual(Option.some({ done: second, doneId: 1_764_057_600_000_019 }))
        expect(yield* recallOf(b)).toEqual(Option.none())
        yield* TestClock.adjust(ttlMs)
        expect(yield* recallOf(a)).toEqual(Option.none())
      }).pipe(Effect.provide(store.layer(10))))

    it.effect("a new transfer of the same path replaces its result and restarts its time-to-live", () =>
      Effect.gen(function*() {
        const first = yield* finishedNow(true, 1)
        yield* record(a, first)
        yield* TestClock.adjust(ttlMs / 2)
        const second = yield* finishedNow(false, 2)
        yield* record(a, second)
        expect(yield* lastOf(a)).toEqual(Option.some(second))
        expect(yield* size).toBe(1)
        yield* TestClock.adjust(ttlMs / 2)
        expect(yield* lastOf(a)).toEqual(Option.some(second))
        yield* TestClock.adjust(ttlMs / 2)
        expect(yield* lastOf(a)).toEqual(Option.none())
      }).pipe(Effect.provide(store.layer(10))))

    it.effect("beyond --history-max the record written longest ago goes first; a replaced one counts as new", () =>
      Effect.gen(function*() {
        const [da, db, dc, db2, dd] = yield* Effect.all(Array.from({ length: 5 }, () => finishedNow()))
        if (da === undefined || db === undefined || dc === undefined || db2 === undefined || dd === undefined) {
          return expect.fail("five results")
        }
        yield* record(a, da)
        yield* record(b, db)
        yield* record(c, dc)
        expect(yield* lastOf(a)).toEqual(Option.none())
        expect([yield* lastOf(b), yield* lastOf(c)]).toEqual([Option.some(db), Option.some(dc)])
        // b again: now c is the oldest, and d evicts it, not b.
        yield* record(b, db2)
        yield* record(d, dd)
        expect(yield* lastOf(c)).toEqual(Option.none())
        expect([yield* lastOf(b), yield* lastOf(d)]).toEqual([Option.some(db2), Option.some(dd)])
        expect(yield* size).toBe(2)
      }).pipe(Effect.provide(store.layer(2))))

    it.effect("the sweep gives expired records back without anyone reading them", () =>
      Effect.gen(function*() {
        yield* record(a, yield* finishedNow())
        yield* TestClock.adjust(ttlMs / 2)
        yield* record(b, yield* finishedNow())
        expect(yield* size).toBe(2)
        // One sweep interval (a minute at most) after a's time-to-live: a is gone, b is not.
        yield* TestClock.adjust(ttlMs / 2 + 60_000)
        expect(yield* size).toBe(1)
        yield* TestClock.adjust(ttlMs / 2)
        expect(yield* size).toBe(0)
      }).pipe(Effect.provide(store.layer(10))))

    it.effect("--history-max 0 keeps nothing", () =>
      Effect.gen(function*() {
        yield* record(a, yield* finishedNow())
        expect(yield* lastOf(a)).toEqual(Option.none())
        expect(yield* size).toBe(0)
      }).pipe(Effect.provide(store.layer(0))))
  })
}

describe("TransferHistory (sqlite file)", () => {
  /** The store on `dir`, built in a scope of its own: closing it is the server stopping. */
  const open = (dir: string, max = 10) =>
    Effect.gen(function*() {
      const scope = yield* Scope.make()
      const context = yield* Layer.buildWithScope(layerSqlite(dir).pipe(Layer.provide(config(max))), scope)
      return { history: Context.get(context, TransferHistory), scope }
    })

  it.effect("records survive a restart; those expired meanwhile are dropped on startup", () =>
    Effect.gen(function*() {
      const dir = freshDir()
      const first = yield* open(dir)
      const early = yield* finishedNow(true, 7)
      yield* first.history.record(a, early, 1_764_057_600_000_042)
      yield* TestClock.adjust(ttlMs / 2)
      const later = yield* finishedNow(false, 8)
      yield* first.history.record(b, later, nextDoneId())
      yield* Scope.close(first.scope, Exit.void)

      const second = yield* open(dir)
      expect(yield* second.history.last(a)).toEqual(Option.some(early))
      expect(yield* second.history.last(b)).toEqual(Option.some(later))
      // The done's event id is kept with it: until=done reconnections after a restart are judged by it.
      expect(yield* second.history.recall(a)).toEqual(Option.some({ done: early, doneId: 1_764_057_600_000_042 }))
      yield* Scope.close(second.scope, Exit.void)

      yield* TestClock.adjust(ttlMs / 2)
      const third = yield* open(dir)
      expect(yield* third.history.size).toBe(1)
      expect(yield* third.history.last(a)).toEqual(Option.none())
      expect(yield* third.history.last(b)).toEqual(Option.some(later))
      yield* Scope.close(third.scope, Exit.void)
    }))

  it.effect("restarted with a smaller --history-max, the oldest records go at once", () =>
    Effect.gen(function*() {
      const dir = freshDir()
      const first = yield* open(dir, 10)
      const results = yield* Effect.forEach([a, b, c, d], (name) =>
        Effect.flatMap(finishedNow(), (done) => Effect.as(first.history.record(name, done, nextDoneId()), done)))
      yield* Scope.close(first.scope, Exit.void)

      const second = yield* open(dir, 2)
      expect(yield* second.history.size).toBe(2)
      expect(yield* Effect.forEach([a, b, c, d], second.history.last)).toEqual([
        Option.none(),
        Option.none(),
        Option.some(results[2]),
        Option.some(results[3])
      ])
      yield* Scope.close(second.scope, Exit.void)
    }))

  it.effect("a layout 1 file is migrated: its records are kept without a done id, new ones have one", () =>
    Effect.gen(function*() {
      const dir = freshDir()
      const old = yield* finishedNow(true, 11)
      // The file as the previous version of the store wrote it.
      writeLayout1File(dir, a, old)

      const first = yield* open(dir)
      expect(yield* first.history.recall(a)).toEqual(Option.some({ done: old, doneId: undefined }))
      expect(yield* first.history.last(a)).toEqual(Option.some(old))
      const fresh = yield* finishedNow(false, 12)
      yield* first.history.record(b, fresh, 1_764_057_600_000_099)
      yield* Scope.close(first.scope, Exit.void)

      const second = yield* open(dir)
      expect(yield* second.history.size).toBe(2)
      expect(yield* second.history.recall(b)).toEqual(Option.some({ done: fresh, doneId: 1_764_057_600_000_099 }))
      yield* Scope.close(second.scope, Exit.void)
      const reopened = new DatabaseSync(join(dir, "history.sqlite"))
      expect(reopened.prepare("PRAGMA user_version").get()).toEqual({ user_version: 2 })
      reopened.close()
    }))

  it.effect("a file of a newer layout is refused at startup, not misread", () =>
    Effect.gen(function*() {
      const dir = freshDir()
      const newer = new DatabaseSync(join(dir, "history.sqlite"))
      newer.exec("PRAGMA user_version = 3")
      newer.close()
      const exit = yield* Effect.exit(open(dir))
      const error = Exit.isFailure(exit) ? Option.getOrUndefined(Cause.findErrorOption(exit.cause)) : undefined
      expect(error).toMatchObject({
        _tag: "HistoryUnavailable",
        message: `--data-dir ${dir}: cannot keep the history there: the file has layout 3, this server knows 2`
      })
    }))

  it.effect("a file that is not a database is refused at startup, with the reason", () =>
    Effect.gen(function*() {
      const dir = freshDir()
      writeFileSync(
        join(dir, "history.sqlite"),
        "this is not a database, just some text that is long enough ".repeat(80)
      )
      const exit = yield* Effect.exit(open(dir))
      expect(Exit.isFailure(exit)).toBe(true)
      const error = Exit.isFailure(exit) ? Option.getOrUndefined(Cause.findErrorOption(exit.cause)) : undefined
      expect(error).toMatchObject({
        _tag: "HistoryUnavailable",
        message: `--data-dir ${dir}: cannot keep the history there: file is not a database`
      })
    }))
})
