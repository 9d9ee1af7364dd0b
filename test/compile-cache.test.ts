// The compile cache the build leaves in dist/compile-cache (src/CompileCache.ts): a server reads V8's bytecode
// for its bundle instead of parsing it (the parse's zone memory stayed resident: ~8 MB of idle RSS), and a
// cache that cannot be used changes nothing but the cost.
import { spawnSync } from "node:child_process"
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { repoRoot } from "./support/artifacts.js"
import { startServer } from "./support/server.js"
import { waitFor } from "./support/wait.js"

const debug = { NODE_DEBUG_NATIVE: "COMPILE_CACHE" }
const copies: Array<string> = []
afterAll(() => copies.forEach((dir) => rmSync(dir, { recursive: true, force: true })))

const accepted = (chunk: string) => new RegExp(`V8 code cache for ESM \\S+/chunks/${chunk}-\\S+ was accepted`)

describe("compile cache", () => {
  it("a server started from the build reads every module of its start from the cache, none parsed anew", async () => {
    const server = await startServer([], 0, debug)
    await server.stop()
    // The server's stderr reaches its log file through a pipe: await the lines rather than the exit alone.
    const log = await waitFor(() => {
      const text = readFileSync(server.logFile, "utf8")
      return accepted("Server").test(text) && accepted("Main").test(text) && text
    }, { what: "the Server and Main chunks read from the cache" })
    expect(log).not.toMatch(/was rejected|no cache file found/)
  }, 30_000)

  it("a corrupt cache is not used: the program runs as without one", () => {
    const copy = mkdtempSync(join(tmpdir(), "pipe-dist-"))
    copies.push(copy)
    cpSync(join(repoRoot, "dist"), copy, { recursive: true })
    const entries = readdirSync(join(copy, "compile-cache"), { recursive: true, withFileTypes: true })
      .filter((entry) => entry.isFile())
    expect(entries.length).toBeGreaterThan(0)
    entries.forEach((entry) => writeFileSync(join(entry.parentPath, entry.name), "not a V8 code cache"))
    const run = spawnSync(process.execPath, [join(copy, "main.js"), "--version"], {
      encoding: "utf8",
      env: { ...process.env, ...debug }
    })
    expect(run.status).toBe(0)
    expect(run.stdout).toMatch(/^pipe \d+\.\d+\.\d+/)
    expect(run.stderr).not.toMatch(/was accepted/)
  })
})
