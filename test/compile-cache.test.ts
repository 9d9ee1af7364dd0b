// The compile cache the build leaves in dist/compile-cache (src/CompileCache.ts): a server reads V8's bytecode
// for its bundle instead of parsing it (the parse's zone memory stayed resident: ~8 MB of idle RSS), and a
// cache that cannot be used changes nothing but the cost.
import { spawn, spawnSync } from "node:child_process"
import { once } from "node:events"
import { cpSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { repoRoot } from "./support/artifacts.js"

const debugEnv = { ...process.env, NODE_DEBUG_NATIVE: "COMPILE_CACHE" }
const copies: Array<string> = []
afterAll(() => copies.forEach((dir) => rmSync(dir, { recursive: true, force: true })))

/** Every file under `dir`, recursively. */
const filesUnder = (dir: string): Array<string> =>
  readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    return statSync(path).isDirectory() ? filesUnder(path) : [path]
  })

describe("compile cache", () => {
  it("a server started from the build reads every module of its start from the cache, none parsed anew", async () => {
    const server = spawn(process.execPath, [join(repoRoot, "dist", "main.js"), "server", "--host", "127.0.0.1"], {
      env: { ...debugEnv, PIPE_PORT: "0" },
      stdio: ["ignore", "pipe", "pipe"]
    })
    let log = ""
    server.stderr.on("data", (chunk: Buffer) => (log += chunk.toString()))
    let out = ""
    await new Promise<void>((resolve, reject) => {
      server.stdout.on("data", (chunk: Buffer) => {
        out += chunk.toString()
        if (out.includes("listening")) resolve()
      })
      server.once("exit", () => reject(new Error(`server exited before listening: ${log}`)))
    })
    server.kill("SIGTERM")
    await once(server, "exit")
    const accepted = log.match(/V8 code cache for ESM \S+ was accepted/g) ?? []
    expect(accepted.some((line) => /chunks\/Server-/.test(line))).toBe(true)
    expect(accepted.some((line) => /chunks\/Main-/.test(line))).toBe(true)
    expect(log).not.toMatch(/was rejected|no cache file found/)
  }, 30_000)

  it("a corrupt cache is not used: the program runs as without one", () => {
    const copy = mkdtempSync(join(tmpdir(), "pipe-dist-"))
    copies.push(copy)
    cpSync(join(repoRoot, "dist"), copy, { recursive: true })
    const entries = filesUnder(join(copy, "compile-cache"))
    expect(entries.length).toBeGreaterThan(0)
    entries.forEach((file) => writeFileSync(file, "not a V8 code cache"))
    const run = spawnSync(process.execPath, [join(copy, "main.js"), "--version"], { encoding: "utf8", env: debugEnv })
    expect(run.status).toBe(0)
    expect(run.stdout).toMatch(/^pipe \d+\.\d+\.\d+/)
    expect(run.stderr).not.toMatch(/was accepted/)
  })
})
