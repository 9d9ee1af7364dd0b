import { type ChildProcess, spawn } from "node:child_process"
import type { Readable } from "node:stream"
import { Digest } from "./hash.js"
import { waitFor } from "./wait.js"

export interface ChildOptions {
  /** Data for stdin: a stream (piped, backpressure kept), bytes, or nothing (stdin is /dev/null). */
  readonly stdin?: Readable | Buffer | string
  /** Keep stdout in memory (default true); false for big transfers (hash and count only). */
  readonly keep?: boolean
  /** Run in its own process group, so kill() reaches a whole shell pipeline. */
  readonly group?: boolean
}

export interface ChildResult {
  /** Exit code, null when killed by a signal. */
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  readonly stdout: Buffer
  readonly stdoutText: string
  readonly bytes: number
  readonly sha256: string
  readonly stderr: string
}

const live = new Set<Tracked<ChildResult>>()

/** Spawns a tracked process whose result is the plain ChildResult. */
export const spawnTracked = (command: string, args: ReadonlyArray<string>, options: ChildOptions = {}): Tracked =>
  new Tracked(command, args, options, (result) => result)

/** Kills every tracked child still running (a safety net run after each test). */
export const killStrays = async (): Promise<number> => {
  const strays = [...live]
  strays.forEach((child) => child.kill("SIGKILL"))
  await Promise.all(strays.map((child) => child.result))
  return strays.length
}

/** A spawned process whose stdout is hashed and counted as it arrives, and whose exit is awaitable. */
export class Tracked<R extends ChildResult = ChildResult> {
  readonly child: ChildProcess
  readonly pid: number
  readonly digest = new Digest()
  /** Settles when the process has exited and its output is closed. */
  readonly result: Promise<R>
  readonly #chunks: Array<Buffer> = []
  readonly #stderr: Array<Buffer> = []
  readonly #group: boolean

  constructor(
    command: string,
    args: ReadonlyArray<string>,
    { stdin, keep = true, group = false }: ChildOptions,
    enrich: (result: ChildResult) => R
  ) {
    this.#group = group
    const child = spawn(command, args, {
      stdio: [stdin === undefined ? "ignore" : "pipe", "pipe", "pipe"],
      detached: group
    })
    if (child.pid === undefined) throw new Error(`could not spawn ${command}`)
    this.child = child
    this.pid = child.pid
    live.add(this)
    child.stdout?.on("data", (chunk: Buffer) => {
      this.digest.update(chunk)
      if (keep) this.#chunks.push(chunk)
    })
    child.stderr?.on("data", (chunk: Buffer) => this.#stderr.push(chunk))
    if (child.stdin) {
      child.stdin.on("error", () => {}) // EPIPE when the process dies first: its exit code tells the story
      if (typeof stdin === "string" || Buffer.isBuffer(stdin)) child.stdin.end(stdin)
      else if (stdin !== undefined) stdin.pipe(child.stdin)
    }
    this.result = new Promise((resolve) => {
      child.once("close", (code, signal) => {
        live.delete(this)
        const stdout = Buffer.concat(this.#chunks)
        resolve(enrich({
          code,
          signal,
          stdout,
          stdoutText: stdout.toString("utf8"),
          bytes: this.digest.bytes,
          sha256: this.digest.hex(),
          stderr: Buffer.concat(this.#stderr).toString("utf8")
        }))
      })
    })
  }

  /** Bytes received on stdout so far. */
  get bytes(): number {
    return this.digest.bytes
  }

  /** stdout so far (only when kept). */
  text(): string {
    return Buffer.concat(this.#chunks).toString("utf8")
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null
  }

  kill(signal: NodeJS.Signals = "SIGKILL"): void {
    if (!this.running) return
    if (this.#group) process.kill(-this.pid, signal)
    else this.child.kill(signal)
  }

  async waitForText(text: string, timeoutMs = 10_000): Promise<void> {
    await waitFor(() => this.text().includes(text), {
      what: `${JSON.stringify(text)} on stdout of pid ${this.pid}`,
      timeoutMs
    })
  }

  async waitForBytes(bytes: number, timeoutMs = 10_000): Promise<void> {
    await waitFor(() => this.bytes >= bytes, { what: `${bytes} bytes on stdout of pid ${this.pid}`, timeoutMs })
  }
}
