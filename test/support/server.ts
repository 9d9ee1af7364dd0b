import { type ChildProcess, spawn } from "node:child_process"
import { createWriteStream, existsSync } from "node:fs"
import { connect, createServer } from "node:net"
import { join } from "node:path"
import { createInterface } from "node:readline"
import { afterAll, afterEach, beforeAll, beforeEach } from "vitest"
import { artifactPath, repoRoot } from "./artifacts.js"
import { killStrays } from "./child.js"
import { destroyOpenRequests } from "./http.js"
import { socketCount } from "./proc.js"
import { waitFor } from "./wait.js"

export interface ServerHandle {
  /** `http://127.0.0.1:<port>`, or `https://…` for a server started with `--tls-cert` */
  readonly url: string
  readonly port: number
  readonly pid: number
  /** Open sockets of the server right after start (the listening socket included). */
  readonly baselineSockets: number
  /** The file receiving the server's stdout and stderr. */
  readonly logFile: string
  /** SIGTERM, then awaits exit; fails if the server does not exit within 10 s (it is then SIGKILLed). */
  readonly stop: () => Promise<void>
  /** Sends a signal to the server process. */
  readonly kill: (signal: NodeJS.Signals) => void
  /** Settles when the server process has exited. */
  readonly exited: Promise<{ readonly code: number | null; readonly signal: NodeJS.Signals | null }>
}

const mainJs = join(repoRoot, "dist", "main.js")
const LISTENING = /^pipe listening on (https?):\/\/127\.0\.0\.1:(\d+)$/
const live = new Set<ChildProcess>()
process.on("exit", () => live.forEach((child) => child.kill("SIGKILL")))

/**
 * Starts `node dist/main.js server --host 127.0.0.1 --port <port> <flags>` (port 0 picks a free one; a given port
 * is how a test restarts a server where its clients will reconnect) and reads the port from its first stdout line.
 * `env` is added to the test's own environment (e.g. a `NODE_DEBUG_NATIVE` whose lines land in `logFile`).
 * With PIPE_TEST_TARGET=piping-server it starts the reference piping-server instead (flags ignored; for
 * developing the harness only — it differs from the protocol on purpose in many places).
 */
export const startServer = async (
  flags: ReadonlyArray<string> = [],
  port = 0,
  env: Readonly<Record<string, string>> = {}
): Promise<ServerHandle> => {
  if (process.env["PIPE_TEST_TARGET"] === "piping-server") return startPipingServer()
  if (!existsSync(mainJs)) throw new Error(`${mainJs} is missing: run npm run build`)
  const child = spawn(process.execPath, [mainJs, "server", "--host", "127.0.0.1", "--port", String(port), ...flags], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, ...env }
  })
  const { pid, stdout, stderr } = child
  if (pid === undefined) throw new Error("could not spawn the server")
  const logFile = artifactPath("server", "log")
  const log = createWriteStream(logFile)
  log.write(`$ node dist/main.js server --host 127.0.0.1 --port ${port} ${flags.join(" ")}\n`)
  stderr.pipe(log)
  const lines = createInterface({ input: stdout })
  const exited = new Promise<string>((resolve) =>
    child.once("exit", (code, signal) => resolve(`server exited (code ${code}, signal ${signal}) before listening`))
  )
  live.add(child)
  const listening = await Promise.race([
    new Promise<{ readonly scheme: string; readonly port: number }>((resolve, reject) => {
      lines.once("line", (line) => {
        log.write(`${line}\n`)
        const match = LISTENING.exec(line)
        if (match?.[1] === undefined || match[2] === undefined) {
          reject(new Error(`unexpected first stdout line: ${line}`))
        } else resolve({ scheme: match[1], port: Number(match[2]) })
      })
    }),
    exited.then((why) => Promise.reject(new Error(`${why}; see ${logFile}`))),
    new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error(`no listening line within 15 s; see ${logFile}`)), 15_000).unref()
    )
  ]).catch((error: unknown) => {
    child.kill("SIGKILL")
    live.delete(child)
    throw error
  })
  lines.on("line", (line) => log.write(`${line}\n`)) // keep draining stdout: a full pipe would block the server
  return handleOf(child, listening.port, logFile, listening.scheme)
}

const handleOf = (child: ChildProcess, port: number, logFile: string, scheme = "http"): ServerHandle => {
  const pid = child.pid ?? -1
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) {
      resolve({ code: child.exitCode, signal: child.signalCode })
    } else child.once("exit", (code, signal) => resolve({ code, signal }))
  })
  return {
    url: `${scheme}://127.0.0.1:${port}`,
    port,
    pid,
    baselineSockets: socketCount(pid),
    logFile,
    stop: () => stopChild(child),
    kill: (signal) => child.kill(signal),
    exited
  }
}

const stopChild = async (child: ChildProcess): Promise<void> => {
  if (child.exitCode !== null || child.signalCode !== null) {
    live.delete(child)
    return
  }
  const exit = new Promise<void>((resolve) => child.once("exit", () => resolve()))
  child.kill("SIGTERM")
  const timer = new Promise<"timeout">((resolve) => setTimeout(() => resolve("timeout"), 10_000).unref())
  const outcome = await Promise.race([exit, timer])
  live.delete(child)
  if (outcome === "timeout") {
    child.kill("SIGKILL")
    await exit
    throw new Error(`server pid ${child.pid} did not exit within 10 s of SIGTERM`)
  }
}

/** Clients a failed test left open would hold the server's shutdown: end them first. */
const releaseClients = async (): Promise<void> => {
  destroyOpenRequests()
  await killStrays()
}

/** Registers beforeAll/afterAll for a server shared by the enclosing describe block. */
export const useServer = (flags: ReadonlyArray<string> = []): () => ServerHandle => {
  let handle: ServerHandle | undefined
  beforeAll(async () => {
    handle = await startServer(flags)
  }, 30_000)
  afterAll(async () => {
    await releaseClients()
    await handle?.stop()
  }, 20_000)
  return () => {
    if (handle === undefined) throw new Error("server not started")
    return handle
  }
}

/** Registers beforeEach/afterEach: a fresh server for every test, so one test's leftovers cannot fail the next. */
export const useServerPerTest = (flags: ReadonlyArray<string> = []): () => ServerHandle => {
  let handle: ServerHandle | undefined
  beforeEach(async () => {
    handle = await startServer(flags)
  }, 30_000)
  afterEach(async () => {
    const stopping = handle
    handle = undefined
    await releaseClients()
    await stopping?.stop()
  }, 20_000)
  return () => {
    if (handle === undefined) throw new Error("server not started")
    return handle
  }
}

const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer()
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      server.close(
        () => (typeof address === "object" && address !== null ? resolve(address.port) : reject(new Error("no port")))
      )
    })
  })

const startPipingServer = async (): Promise<ServerHandle> => {
  const port = await freePort()
  const bin = join(repoRoot, "node_modules", ".bin", "piping-server")
  const child = spawn(bin, ["--host", "127.0.0.1", "--http-port", String(port)], { stdio: ["ignore", "pipe", "pipe"] })
  if (child.pid === undefined) throw new Error("could not spawn piping-server")
  live.add(child)
  const logFile = artifactPath("piping-server", "log")
  const log = createWriteStream(logFile)
  child.stdout.pipe(log)
  child.stderr.pipe(log)
  await waitFor(
    () =>
      new Promise<boolean>((resolve) => {
        const socket = connect(port, "127.0.0.1", () => {
          socket.end()
          resolve(true)
        }).once("error", () => resolve(false))
      }),
    { what: "piping-server to listen" }
  )
  return handleOf(child, port, logFile)
}
