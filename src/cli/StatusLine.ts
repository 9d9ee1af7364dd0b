import { Effect } from "effect"
import { formatBytes, formatPercent } from "../domain/Format.js"
import { percentOf } from "../domain/TransferStats.js"

/** `12.3 MB of 100 MB (12.3%)`, or just the bytes when the total is unknown (the percent rule of the server). */
export const formatAmount = (bytes: number, total: number | undefined): string => {
  const percent = percentOf(bytes, total ?? null)
  return total === undefined || percent === null
    ? formatBytes(bytes)
    : `${formatBytes(bytes)} of ${formatBytes(total)} (${formatPercent(percent)})`
}

/** `1.2 MB of 9.0 MB`, or `1.2 MB received` when the total is unknown: what a cut-off copy holds. */
export const incompleteAmount = (bytes: number, total: number | undefined): string =>
  total === undefined ? `${formatBytes(bytes)} received` : `${formatBytes(bytes)} of ${formatBytes(total)}`

/**
 * One line of a terminal redrawn in place: a live progress view. Disabled (every call a no-op) when the
 * stream is not a terminal, so pipes and log files never see carriage returns. Redraws are throttled: a
 * transfer reports far more often than a person can read.
 */
export interface StatusLine {
  /** Shows `text`, unless the last redraw was less than the interval ago. */
  readonly update: (text: string) => Effect.Effect<void>
  /** Shows `text` at once and ends the line: the next output starts below it. */
  readonly finish: (text: string) => Effect.Effect<void>
  /** Erases the line (before printing something else, such as an error). */
  readonly clear: Effect.Effect<void>
}

export const makeStatusLine = (out: NodeJS.WriteStream, intervalMs = 100): StatusLine => {
  if (out.isTTY !== true) return { update: () => Effect.void, finish: () => Effect.void, clear: Effect.void }
  let lastDraw = 0
  let shown = false
  const draw = (text: string) => {
    // Longer than the terminal would wrap, and a wrapped line cannot be redrawn in place.
    const width = out.columns > 1 ? out.columns - 1 : 79
    out.write(`\r\x1b[2K${text.length > width ? text.slice(0, width) : text}`)
    shown = true
  }
  return {
    update: (text) =>
      Effect.sync(() => {
        const now = Date.now()
        if (now - lastDraw < intervalMs) return
        lastDraw = now
        draw(text)
      }),
    finish: (text) =>
      Effect.sync(() => {
        draw(text)
        out.write("\n")
        shown = false
        lastDraw = 0
      }),
    clear: Effect.sync(() => {
      if (shown) out.write("\r\x1b[2K")
      shown = false
    })
  }
}

/** Average speed since `startedAt` (ms) in MB/s. */
export const averageMbps = (bytes: number, startedAt: number, now: number): number =>
  now > startedAt ? bytes / 1_000 / (now - startedAt) : 0
