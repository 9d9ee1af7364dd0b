import { join } from "node:path"
import { DatabaseSync } from "node:sqlite"
import type { DoneData } from "../../src/domain/TransferReport.js"

/** A `--data-dir` history file as the layout-1 store wrote it (no `done_id` column), holding one record. */
export const writeLayout1File = (dir: string, path: string, done: DoneData): void => {
  const v1 = new DatabaseSync(join(dir, "history.sqlite"))
  v1.exec(`
    CREATE TABLE last_transfer (path TEXT PRIMARY KEY NOT NULL, finished_at INTEGER NOT NULL, done TEXT NOT NULL);
    CREATE INDEX last_transfer_finished_at ON last_transfer (finished_at);
    PRAGMA user_version = 1;
  `)
  v1.prepare("INSERT INTO last_transfer (path, finished_at, done) VALUES (?, ?, ?)").run(
    path,
    done.at,
    JSON.stringify(done)
  )
  v1.close()
}
