// What one history record (protocol §9) costs, measured on the real stores (src/history, bundled on the fly):
//   memory: heap used after a full GC, before and after 100,000 records, in a child with --expose-gc
//   sqlite: the file's size per record, the time of one write (a finished transfer's upsert) and of one read
// Records are what an actor makes: a fresh 40-character path and transfer id each, the numbers of a real done.
// Usage: node bench/history-record.mjs   (env HISTORY_RECORDS, default 100000)
import * as esbuild from "esbuild"
import { execFileSync } from "node:child_process"
import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"

const records = Number(process.env.HISTORY_RECORDS ?? 100_000)
const work = mkdtempSync(join(tmpdir(), "pipe-history-bench-"))

await esbuild.build({
  stdin: {
    contents: `export { makeMemoryStore, TransferHistory } from "./src/history/TransferHistory.ts"
export { layerSqlite } from "./src/history/SqliteHistory.ts"
export { ServerConfig, defaultSettings } from "./src/ServerConfig.ts"
export { Context, Duration, Effect, Layer } from "effect"
`,
    resolveDir: process.cwd(),
    loader: "ts"
  },
  outfile: join(work, "history.mjs"),
  bundle: true,
  format: "esm",
  platform: "node",
  logLevel: "warning"
})

const child = join(work, "child.mjs")
writeFileSync(
  child,
  `import * as H from ${JSON.stringify(join(work, "history.mjs"))}
const [mode, count, dir] = [process.argv[2], Number(process.argv[3]), process.argv[4]]
// A flat string, as a parsed request path is (a concatenation would be a rope, which costs more).
const flat = (s) => Buffer.from(s).toString()
const hex = (n, width) => n.toString(16).padStart(width, "0")
const name = (i) => flat("backups/host-" + hex(i, 8) + "/nightly-" + hex(i * 7919, 12) + ".tar")
const done = (i, at) => ({
  transferId: flat("t_" + hex(i * 104729, 12)),
  ok: i % 10 !== 0,
  bytes: 7_612_345_678 + i,
  total: i % 2 === 0 ? null : 7_700_000_000,
  durationSec: 28_920.37,
  avgMbps: 263.22,
  error: i % 10 !== 0 ? null : "The sender disconnected.",
  at
})
const heap = () => { globalThis.gc(); globalThis.gc(); return process.memoryUsage().heapUsed }
if (mode === "memory") {
  const store = H.makeMemoryStore({ ttl: H.Duration.hours(24), max: count })
  const now = Date.now()
  const before = heap()
  for (let i = 0; i < count; i++) store.record(name(i), { done: done(i, now), doneId: now * 1000 + i })
  const after = heap()
  if (store.size() !== count) throw new Error("not all records kept")
  console.log(JSON.stringify({ bytesPerRecord: (after - before) / count, nameLength: name(0).length }))
} else {
  const settings = { ...H.defaultSettings, historyMax: count }
  const layer = H.layerSqlite(dir).pipe(H.Layer.provide(H.Layer.succeed(H.ServerConfig, settings)))
  const result = await H.Effect.runPromise(H.Effect.scoped(H.Effect.gen(function*() {
    const context = yield* H.Layer.build(layer)
    const history = H.Context.get(context, H.TransferHistory)
    const now = Date.now()
    const writes = []
    for (let i = 0; i < count; i++) {
      const t = process.hrtime.bigint()
      yield* history.record(name(i), done(i, now), now * 1000 + i)
      writes.push(Number(process.hrtime.bigint() - t) / 1000)
    }
    const reads = []
    for (let i = 0; i < 10_000; i++) {
      const t = process.hrtime.bigint()
      yield* history.last(name((i * 7) % count))
      reads.push(Number(process.hrtime.bigint() - t) / 1000)
    }
    const p = (xs, q) => xs.sort((a, b) => a - b)[Math.floor(xs.length * q)]
    return { writeUsP50: p(writes, 0.5), writeUsP99: p(writes, 0.99), readUsP50: p(reads, 0.5), readUsP99: p(reads, 0.99) }
  })))
  console.log(JSON.stringify(result))
}
`
)

const run = (mode, dir = "") =>
  JSON.parse(execFileSync(process.execPath, ["--expose-gc", child, mode, String(records), dir], { encoding: "utf8" }))

const memory = run("memory")
const dataDir = join(work, "data")
const sqlite = run("sqlite", dataDir)
// The WAL is folded into the file when the store closes.
const fileBytes = statSync(join(dataDir, "history.sqlite")).size
console.log(JSON.stringify(
  {
    records,
    memory: { bytesPerRecord: Math.round(memory.bytesPerRecord), pathLength: memory.nameLength },
    sqlite: {
      fileBytesPerRecord: Math.round(fileBytes / records),
      writeMicros: { p50: sqlite.writeUsP50, p99: sqlite.writeUsP99 },
      readMicros: { p50: sqlite.readUsP50, p99: sqlite.readUsP99 }
    }
  },
  null,
  2
))
rmSync(work, { recursive: true, force: true })
