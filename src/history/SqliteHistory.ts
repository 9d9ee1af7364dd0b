import { Clock, Duration, Effect, Layer, Option, Schema } from "effect"
import { mkdirSync } from "node:fs"
import { join } from "node:path"
import { DatabaseSync } from "node:sqlite"
import { DoneData } from "../domain/TransferReport.js"
import { ServerConfig } from "../ServerConfig.js"
import type { Recorded } from "./TransferHistory.js"
import { HistoryUnavailable, sweepEvery, TransferHistory } from "./TransferHistory.js"

/**
 * `--data-dir DIR`: the history in `DIR/history.sqlite`, so the last results survive a restart. Only
 * `HistoryLayer.ts` imports this module, and only when the flag is given: `node:sqlite` and this code are a
 * separate chunk of the bundle that a server without the flag never loads.
 *
 * The layout is one table, the path as primary key, the `DoneData` as a JSON text, its finish time as an
 * indexed column, and the SSE id of its `done` event (`until=done` reconnections, src/domain/UntilDone.ts). A record is only ever read whole, by path, so columns per field would buy nothing but a
 * migration each time `DoneData` grows a field; the one field queried on its own is the finish time (expiry),
 * hence its own column and index. Insertion order is the rowid: a new result of a path deletes the old row
 * and inserts a new one, which gets the largest rowid, so `min(rowid)` is always the oldest record, the one
 * `--history-max` evicts first (as in the memory store).
 *
 * Reads and writes are synchronous (`DatabaseSync`) and each is one prepared statement on an indexed key: a
 * few microseconds for a read, one small transaction per finished transfer for a write (WAL and
 * `synchronous = NORMAL`: the commit appends to the log, no fsync per transfer). The whole table is never
 * held in memory; SQLite's own page cache is what it costs. Measured with bench/history-record.mjs (Node
 * 24.21, 100,000 records, 46-character paths, 2 busy cores): 308 bytes of file per record (296 before
 * `done_id`), a write 36 µs at the median and up to a few ms at the 99th percentile (a WAL checkpoint), a
 * read 27 µs at the median.
 */

/**
 * Bumped when the layout changes; a file from a newer layout is refused, not misread, and one from an older
 * layout is brought up to this one on open (`migrate`). 1: path, finished_at, done. 2: done_id added.
 */
const layoutVersion = 2

const layout = `
CREATE TABLE IF NOT EXISTS last_transfer (
  path TEXT PRIMARY KEY NOT NULL,
  finished_at INTEGER NOT NULL,
  done TEXT NOT NULL,
  done_id INTEGER
);
CREATE INDEX IF NOT EXISTS last_transfer_finished_at ON last_transfer (finished_at);
`

/**
 * A layout 1 file has the table without `done_id`: the column is added, null in the rows already there (their
 * ids were never kept: such a record still shows as `last`, it only cannot end an `until=done` stream). Read
 * from the table itself, not the version alone, so a file whose version write never happened is right too.
 */
const migrate = (db: DatabaseSync) => {
  const columns = db.prepare("PRAGMA table_info(last_transfer)").all().map((row) =>
    Schema.decodeUnknownSync(ColumnRow)(row).name
  )
  if (!columns.includes("done_id")) db.exec("ALTER TABLE last_transfer ADD COLUMN done_id INTEGER")
}

const CheckRow = Schema.Struct({ quick_check: Schema.String })
const VersionRow = Schema.Struct({ user_version: Schema.Int })
const CountRow = Schema.Struct({ n: Schema.Int })
const ColumnRow = Schema.Struct({ name: Schema.String })
const DoneRow = Schema.Struct({ done: Schema.fromJsonString(DoneData), done_id: Schema.NullOr(Schema.Int) })

const encodeDone = Schema.encodeSync(Schema.fromJsonString(DoneData))
const decodeDoneRow = Schema.decodeUnknownOption(DoneRow)

/** SQLite and the file system say what went wrong in `message`; nothing else of the error is shown. */
const reasonOf = (error: unknown): string =>
  (error instanceof Error ? error.message : String(error)).replace(/\s+/g, " ").trim()

const changesOf = (result: { readonly changes: number | bigint }): number => Number(result.changes)

const unusable = (dir: string) => (error: unknown) =>
  new HistoryUnavailable({ message: `--data-dir ${dir}: cannot keep the history there: ${reasonOf(error)}` })

/** Opens and checks the file; every way this can fail is a `HistoryUnavailable` with one line to say. */
const open = (dir: string) =>
  Effect.try({
    try: () => {
      const file = join(dir, "history.sqlite")
      mkdirSync(dir, { recursive: true })
      const db = new DatabaseSync(file)
      try {
        // EXCLUSIVE: this process alone writes the file (its record count lives in memory); a second
        // instance on the same directory fails here with "database is locked" instead of corrupting it.
        db.exec("PRAGMA locking_mode = EXCLUSIVE; PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;")
        // Garbage fails on the first read ("file is not a database"); damaged pages fail the quick check.
        const check = db.prepare("PRAGMA quick_check").all().map((row) => Schema.decodeUnknownSync(CheckRow)(row))
        if (check.length !== 1 || check[0]?.quick_check !== "ok") {
          throw new Error(`the file is damaged (${check.map((row) => row.quick_check).join("; ")})`)
        }
        const { user_version } = Schema.decodeUnknownSync(VersionRow)(db.prepare("PRAGMA user_version").get())
        if (user_version > layoutVersion) {
          throw new Error(`the file has layout ${user_version}, this server knows ${layoutVersion}`)
        }
        db.exec(layout)
        migrate(db)
        // A real write now, so that a directory or file we cannot write to fails at startup, not later.
        db.exec(`PRAGMA user_version = ${layoutVersion}`)
        return { db, file }
      } catch (error) {
        db.close()
        throw error
      }
    },
    catch: unusable(dir)
  })

export const layerSqlite = (dir: string) =>
  Layer.effect(
    TransferHistory,
    Effect.gen(function*() {
      const { historyMax, historyTtl } = yield* ServerConfig
      const ttlMs = Duration.toMillis(historyTtl)
      const { db } = yield* Effect.acquireRelease(open(dir), ({ db }) => Effect.sync(() => db.close()))

      const select = db.prepare("SELECT done, done_id FROM last_transfer WHERE path = ? AND finished_at > ?")
      const remove = db.prepare("DELETE FROM last_transfer WHERE path = ?")
      const insert = db.prepare(
        "INSERT INTO last_transfer (path, finished_at, done, done_id) VALUES (?, ?, ?, ?)"
      )
      const evictOldest = db.prepare(
        "DELETE FROM last_transfer WHERE rowid = (SELECT min(rowid) FROM last_transfer)"
      )
      const expire = db.prepare("DELETE FROM last_transfer WHERE finished_at <= ?")
      const begin = db.prepare("BEGIN")
      const commit = db.prepare("COMMIT")
      const rollback = db.prepare("ROLLBACK")

      /** Rows in the table, kept here so that eviction needs no `count(*)` per write. */
      let count = 0
      const dropExpired = (now: number) => {
        count -= changesOf(expire.run(now - ttlMs))
      }

      /** Deletes the oldest rows while there are more than `--history-max`; returns the count left. */
      const evict = (rows: number) => {
        let left = rows
        while (left > Math.max(0, historyMax) && changesOf(evictOldest.run()) > 0) left--
        return left
      }

      // On startup, before anything is served: expired records are dropped, and with a smaller --history-max
      // than the file was written with, the oldest go at once.
      const startedAt = yield* Clock.currentTimeMillis
      yield* Effect.try({
        try: () => {
          dropExpired(startedAt)
          count = evict(
            Schema.decodeUnknownSync(CountRow)(db.prepare("SELECT count(*) AS n FROM last_transfer").get()).n
          )
        },
        catch: unusable(dir)
      })

      /** After startup a failing statement (disk full, say) is logged; the server goes on without it. */
      const guarded = <A>(what: string, run: () => A, fallback: A) =>
        Effect.suspend(() =>
          db.isOpen
            ? Effect.try({ try: run, catch: reasonOf }).pipe(
              Effect.catch((error) =>
                Effect.as(
                  Effect.logError("history store failed").pipe(Effect.annotateLogs({ operation: what, dir, error })),
                  fallback
                )
              )
            )
            // Closed: the server is past its shutdown, nothing is left to record.
            : Effect.succeed(fallback)
        )

      /** One transaction; `count` changes only once it is committed, so a failed write leaves it right. */
      const write = (name: string, finishedAt: number, json: string, doneId: number) => {
        begin.run()
        try {
          const replaced = changesOf(remove.run(name)) > 0
          insert.run(name, finishedAt, json, doneId)
          const left = evict(replaced ? count : count + 1)
          commit.run()
          count = left
        } catch (error) {
          if (db.isTransaction) rollback.run()
          throw error
        }
      }

      yield* sweepEvery(
        historyTtl,
        Effect.flatMap(Clock.currentTimeMillis, (now) => guarded("sweep", () => dropExpired(now), undefined))
      )

      const recall = (name: string) =>
        Clock.currentTimeMillis.pipe(
          Effect.flatMap((now) =>
            guarded("read", () => Option.fromNullishOr(select.get(name, now - ttlMs)), Option.none())
          ),
          Effect.flatMap(Option.match({
            onNone: () => Effect.succeed(Option.none<Recorded>()),
            onSome: (row) =>
              Option.match(decodeDoneRow(row), {
                onSome: ({ done, done_id }) => Effect.succeed(Option.some({ done, doneId: done_id ?? undefined })),
                // Written by this code, so only a hand-edited file gets here: say so, and treat it as absent.
                onNone: () =>
                  Effect.as(
                    Effect.logWarning("history record unreadable").pipe(Effect.annotateLogs({ path: name, dir })),
                    Option.none<Recorded>()
                  )
              })
          }))
        )

      return TransferHistory.of({
        record: (name, done, doneId) =>
          historyMax <= 0 || ttlMs <= 0
            ? Effect.void
            : guarded("record", () => write(name, done.at, encodeDone(done), doneId), undefined),
        last: (name) => Effect.map(recall(name), Option.map((recorded) => recorded.done)),
        recall,
        size: Effect.sync(() => count)
      })
    })
  )
