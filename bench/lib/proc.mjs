// Child-process bookkeeping: every process the bench starts is registered here,
// so that it is killed on normal exit, on error and on SIGINT/SIGTERM.
import { spawn } from "node:child_process"
import { readFileSync, readlinkSync, realpathSync } from "node:fs"

const children = new Set()

/** spawn() and remember the child until it exits. */
export function start(cmd, args, options = {}) {
  const child = spawn(cmd, args, options)
  children.add(child)
  child.on("exit", () => children.delete(child))
  child.on("error", () => children.delete(child))
  return child
}

/** Resolves with { code, signal } once the child has exited and its stdio is closed. */
export function exited(child) {
  if (child.exitCode !== null || child.signalCode !== null) {
    return Promise.resolve({ code: child.exitCode, signal: child.signalCode })
  }
  return new Promise((resolve) => {
    child.on("close", (code, signal) => resolve({ code, signal }))
    child.on("error", (err) => resolve({ code: null, signal: null, error: err }))
  })
}

/** Collects a child's stdout as a string (for curl -w output). */
export function collectStdout(child) {
  let out = ""
  child.stdout.setEncoding("utf8")
  child.stdout.on("data", (d) => {
    out += d
  })
  return () => out
}

export function kill(child, signal = "SIGTERM") {
  if (child.exitCode === null && child.signalCode === null) child.kill(signal)
}

/** Kills every child still running: SIGTERM, then SIGKILL for the ones that ignore it. */
export async function killAll(graceMs = 2000) {
  const alive = [...children]
  alive.forEach((c) => kill(c))
  const deadline = Date.now() + graceMs
  while (children.size > 0 && Date.now() < deadline) await sleep(50)
  children.forEach((c) => kill(c, "SIGKILL"))
}

/** Synchronous last resort for process 'exit'. */
function killAllNow() {
  children.forEach((c) => kill(c, "SIGKILL"))
}

export function installCleanup() {
  process.on("exit", killAllNow)
  for (const sig of ["SIGINT", "SIGTERM"]) {
    process.on(sig, async () => {
      console.error(`\n${sig}: stopping all child processes`)
      await killAll(1000)
      process.exit(130)
    })
  }
}

// Clamped at 0: callers pass "deadline - now", which is negative when they are already late.
export const sleep = (ms) => new Promise((r) => setTimeout(r, Math.max(0, ms)))

/** Resident set size of a process in bytes, from /proc/<pid>/status VmRSS (which counts in KiB). */
export function rssBytes(pid) {
  const status = readFileSync(`/proc/${pid}/status`, "utf8")
  return Number(/^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1]) * 1024
}

/** Resident set size of a process in MB (10^6 bytes). */
export const rssMB = (pid) => rssBytes(pid) / 1e6

/**
 * Throws unless pid runs the same node binary as this process: RSS read from an npm or sh wrapper
 * would be a few MB and mean nothing. Returns the executable's path.
 */
export function assertNodeProcess(pid) {
  const exe = readlinkSync(`/proc/${pid}/exe`)
  if (exe !== realpathSync(process.execPath)) throw new Error(`pid ${pid} runs ${exe}, not node (${process.execPath})`)
  return exe
}

/** CPU time (user + system) a process has used so far, in seconds, from /proc/<pid>/stat (assumes 100 ticks/s). */
export function cpuSeconds(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8")
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ") // fields from 3 (state) on
  return (Number(fields[11]) + Number(fields[12])) / 100 // utime (14) + stime (15)
}
