/** Numbers and times for humans, the same on the server and in every browser locale. */

const units = ["kB", "MB", "GB", "TB", "PB", "EB"] as const

/** Bytes in SI units with three significant digits: `512 B`, `12.3 MB`, `1.23 GB` (MB = 10^6). */
export const formatBytes = (bytes: number): string => {
  if (!Number.isFinite(bytes) || bytes < 0) return "—"
  if (bytes < 1000) return `${Math.round(bytes)} B`
  let value = bytes / 1000
  let unit = 0
  while (value >= 999.5 && unit < units.length - 1) {
    value /= 1000
    unit++
  }
  return `${value.toPrecision(3)} ${units[unit] ?? "EB"}`
}

/** A rate given in MB/s, in the most readable unit: `118 MB/s`, `5.42 MB/s`, `640 kB/s`, `1.20 GB/s`. */
export const formatRate = (mbps: number): string => `${formatBytes(mbps * 1_000_000)}/s`

/** `10,000,000`: an exact byte count, the same on every locale. */
export const groupDigits = (n: number): string => String(Math.round(n)).replace(/\B(?=(\d{3})+(?!\d))/g, ",")

const pad2 = (n: number): string => String(n).padStart(2, "0")

/** `0.09 s`, `0.4 s`, `8.2 s`, `42 s`, `4m 05s`, `1h 05m`. */
export const formatDuration = (seconds: number): string => {
  if (!Number.isFinite(seconds) || seconds < 0) return "—"
  if (seconds < 0.1) return `${seconds.toFixed(2)} s`
  if (seconds < 10) return `${(Math.floor(seconds * 10) / 10).toFixed(1)} s`
  const whole = Math.floor(seconds)
  if (whole < 60) return `${whole} s`
  if (whole < 3600) return `${Math.floor(whole / 60)}m ${pad2(whole % 60)}s`
  return `${Math.floor(whole / 3600)}h ${pad2(Math.floor((whole % 3600) / 60))}m`
}

/** `61.8%` (one decimal below 100, never `100.0%` before the end). */
export const formatPercent = (percent: number): string =>
  percent >= 100 ? "100%" : `${(Math.floor(percent * 10) / 10).toFixed(1)}%`

/** `14:03:27`, local time in the browser; `14:03:27 UTC` on the server (the browser re-renders it at once). */
export const formatClock = (at: number, utc: boolean): string => {
  const date = new Date(at)
  return utc
    ? `${pad2(date.getUTCHours())}:${pad2(date.getUTCMinutes())}:${pad2(date.getUTCSeconds())} UTC`
    : `${pad2(date.getHours())}:${pad2(date.getMinutes())}:${pad2(date.getSeconds())}`
}

/**
 * `2026-12-02 05:14`, local time in the browser; `2026-12-02 05:14 UTC` on the server, whose first paint
 * cannot know the reader's zone (the browser re-renders it at once).
 */
export const formatDateTime = (at: number, utc: boolean): string => {
  const d = new Date(at)
  return utc
    ? `${d.getUTCFullYear()}-${pad2(d.getUTCMonth() + 1)}-${pad2(d.getUTCDate())} ${pad2(d.getUTCHours())}:${
      pad2(d.getUTCMinutes())
    } UTC`
    : `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())} ${pad2(d.getHours())}:${pad2(d.getMinutes())}`
}

/** How long ago, coarse as a person says it: `just now`, `42 s ago`, `5 min ago`, `3 h ago`, `2 days ago`. */
export const formatAgo = (seconds: number): string => {
  if (!Number.isFinite(seconds) || seconds < 5) return "just now"
  if (seconds < 60) return `${Math.floor(seconds)} s ago`
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`
  if (seconds < 48 * 3600) return `${Math.floor(seconds / 3600)} h ago`
  return `${Math.floor(seconds / 86400)} days ago`
}
