import { Effect, Layer, Option } from "effect"
import { ServerConfig } from "../ServerConfig.js"
import { TransferHistory } from "./TransferHistory.js"

/**
 * The history the server runs with: in memory, or with `--data-dir` in a SQLite file. The SQLite store is
 * imported here, dynamically, and only then: `node:sqlite` (and the store's code, a chunk of its own in the
 * bundle) costs a server without the flag nothing at boot.
 */
export const historyLayer = Layer.unwrap(
  Effect.gen(function*() {
    const { dataDir } = yield* ServerConfig
    if (Option.isNone(dataDir)) return TransferHistory.layerMemory
    const { layerSqlite } = yield* Effect.promise(() => import("./SqliteHistory.js"))
    return layerSqlite(dataDir.value)
  })
)
