// The three servers under test. Each one runs as one child process bound to 127.0.0.1: node itself is spawned
// (never npm or a shell), so the child's pid is the process whose RSS and CPU we read.
// Output goes to a log file; stderr's tail is kept for the report.
// "ours" comes from `pipeDir` (BENCH_PIPE_DIR, default the repo root), so a bench can run against another build.
import { createWriteStream, existsSync } from "node:fs"
import net from "node:net"
import { join } from "node:path"
import { performance } from "node:perf_hooks"
import { exited, kill, rssMB, sleep, start } from "./proc.mjs"

const HOST = "127.0.0.1"

export const SERVERS = {
  raw: {
    label: "raw relay",
    command: ({ root }) => [process.execPath, [join(root, "bench/raw-relay.mjs"), "0"]],
    ready: /^listening (http:\/\/\S+)/,
    pipePath: (name) => `/${name}`
  },
  piping: {
    label: "piping-server 1.12.9",
    // Its CLI cannot report the port it got from --http-port 0, so we pick a free one first.
    needsPort: true,
    command: ({ root }, port) => [
      process.execPath,
      [join(root, "node_modules/.bin/piping-server"), "--host", HOST, "--http-port", String(port)]
    ],
    ready: /Listen HTTP on/,
    pipePath: (name) => `/${name}`
  },
  pipe: {
    label: "pipe (ours)",
    command: (
      { pipeDir }
    ) => [process.execPath, [join(pipeDir, "dist/main.js"), "server", "--host", HOST, "--port", "0"]],
    // Its own directory, so that it runs with its own node_modules and files.
    dir: ({ pipeDir }) => pipeDir,
    requires: "dist/main.js",
    ready: /^pipe listening on (https?:\/\/\S+)/,
    pipePath: (name) => `/api/v1/pipe/${name}`
  }
}

const dirOf = (def, dirs) => (def.dir ? def.dir(dirs) : dirs.root)

/** Throws before anything is started if a server's entry point is missing. dirs = { root, pipeDir }. */
export function checkPrerequisites(keys, dirs) {
  for (const key of keys) {
    const def = SERVERS[key]
    const file = def.requires && join(dirOf(def, dirs), def.requires)
    if (file && !existsSync(file)) {
      throw new Error(
        `${def.label}: ${file} is missing (run \`npm run build\` there, point BENCH_PIPE_DIR at a build, ` +
          "or set BENCH_SERVERS=raw,piping)"
      )
    }
  }
}

/** Asks the kernel for a free loopback port (tiny race with the server that will bind it; fine here). */
function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer()
    srv.once("error", reject)
    srv.listen(0, HOST, () => {
      const { port } = srv.address()
      srv.close(() => resolve(port))
    })
  })
}

/** Resolves once a TCP connection to host:port succeeds, retrying a bounded number of times. */
async function waitForTcp(port, attempts = 100) {
  for (let i = 0; i < attempts; i++) {
    const ok = await new Promise((resolve) => {
      const s = net.connect(port, HOST, () => {
        s.destroy()
        resolve(true)
      })
      s.on("error", () => resolve(false))
    })
    if (ok) return
    await sleep(100)
  }
  throw new Error(`nothing is listening on ${HOST}:${port}`)
}

/** Tees a child's output to a log file and calls onLine for every complete line. */
function watchOutput(stream, log, onLine) {
  let partial = ""
  stream.setEncoding("utf8")
  stream.on("data", (chunk) => {
    log.write(chunk)
    const lines = (partial + chunk).split("\n")
    partial = lines.pop()
    lines.forEach(onLine)
  })
}

const stripAnsi = (s) => s.replace(/\x1b\[[0-9;]*m/g, "")

/** Waits for the server's readiness line; returns the regex match. */
function waitForReady(child, def, stdoutLines, timeoutMs) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no readiness line within ${timeoutMs} ms`)), timeoutMs)
    stdoutLines.add((line) => {
      const m = def.ready.exec(stripAnsi(line))
      if (m) {
        clearTimeout(timer)
        resolve(m)
      }
    })
    child.once("exit", (code, signal) => {
      clearTimeout(timer)
      reject(new Error(`exited before it was ready (code ${code}, signal ${signal})`))
    })
  })
}

/**
 * Starts one server (extraArgs are appended to its command line; logName names its log file). Returns a handle:
 * { key, label, pid, args, startedAt, port, startRss, baseUrl, url(name, n), alive(), stderrTail, logFile, stop() }
 */
export async function startServer(
  key,
  { root, pipeDir = root, logDir, logName = key, timeoutMs = 20000, extraArgs = [] }
) {
  const def = SERVERS[key]
  const dirs = { root, pipeDir }
  checkPrerequisites([key], dirs)
  const port = def.needsPort ? await freePort() : undefined
  const [cmd, baseArgs] = def.command(dirs, port)
  const args = [...baseArgs, ...extraArgs]
  const startedAt = performance.now()
  const child = start(cmd, args, { cwd: dirOf(def, dirs), stdio: ["ignore", "pipe", "pipe"] })
  const logFile = join(logDir, `${logName}.log`)
  const log = createWriteStream(logFile)
  const stderrTail = []
  const stdoutLines = new Set()
  watchOutput(child.stdout, log, (line) => stdoutLines.forEach((f) => f(line)))
  watchOutput(child.stderr, log, (line) => {
    stderrTail.push(line)
    if (stderrTail.length > 20) stderrTail.shift()
  })
  let exit = null
  child.once("exit", (code, signal) => {
    exit = { code, signal }
  })

  const match = await waitForReady(child, def, stdoutLines, timeoutMs)
  const baseUrl = def.needsPort ? `http://${HOST}:${port}` : match[1].replace(/\/$/, "")
  const { hostname, port: actualPort } = new URL(baseUrl)
  if (hostname !== HOST) throw new Error(`${def.label} listens on ${hostname}, expected ${HOST}`)
  await waitForTcp(Number(actualPort))

  return {
    key,
    label: def.label,
    pid: child.pid,
    args,
    /** performance.now() just before the spawn: "time since start" for the idle section. */
    startedAt,
    port: Number(actualPort),
    startRss: rssMB(child.pid),
    baseUrl,
    logFile,
    stderrTail,
    url: (name, n) => `${baseUrl}${def.pipePath(name)}${n > 1 ? `?n=${n}` : ""}`,
    alive: () => exit === null,
    exitInfo: () => exit,
    /** SIGTERM, then SIGKILL after graceMs. Resolves with how it ended, e.g. "SIGTERM after 12 ms". */
    async stop(graceMs = 3000) {
      if (exit) return `had already exited (${JSON.stringify(exit)})`
      const t0 = Date.now()
      let how = "SIGTERM"
      kill(child)
      const timer = setTimeout(() => {
        how = `SIGKILL (still running ${graceMs} ms after SIGTERM)`
        kill(child, "SIGKILL")
      }, graceMs)
      await exited(child)
      clearTimeout(timer)
      await new Promise((r) => log.end(r))
      return `${how}, exited after ${Date.now() - t0} ms`
    }
  }
}
