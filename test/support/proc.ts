import { readdirSync, readFileSync, readlinkSync } from "node:fs"

/** Open sockets of a process: the `socket:[…]` entries of /proc/<pid>/fd (as `ls -l | grep -c socket`). */
export const socketCount = (pid: number): number => {
  let count = 0
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      if (readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith("socket:")) count++
    } catch {
      // the fd closed between readdir and readlink
    }
  }
  return count
}

const statusKb = (pid: number, field: "VmRSS" | "VmHWM"): number => {
  const line = readFileSync(`/proc/${pid}/status`, "utf8")
    .split("\n")
    .find((l) => l.startsWith(`${field}:`))
  const kb = line === undefined ? undefined : /(\d+)\s*kB/.exec(line)?.[1]
  if (kb === undefined) throw new Error(`no ${field} in /proc/${pid}/status`)
  return Number(kb)
}

/** Resident set size of a process in bytes (/proc/<pid>/status VmRSS). */
export const rssBytes = (pid: number): number => statusKb(pid, "VmRSS") * 1024

/** Peak resident set size of a process in bytes (/proc/<pid>/status VmHWM). */
export const peakRssBytes = (pid: number): number => statusKb(pid, "VmHWM") * 1024
