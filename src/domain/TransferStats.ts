import type { TransferId } from "./TransferId.js"
import type { DoneData, ProgressData } from "./TransferReport.js"

/**
 * The byte counter of a running transfer. Mutable on purpose: the relay adds each chunk's length on the hot
 * path (one addition per chunk, no allocation, no Effect); everyone else only reads it.
 */
export interface ByteMeter {
  bytes: number
}

interface Sample {
  readonly at: number
  readonly bytes: number
}

/** Timings and byte samples of one transfer: a value, replaced by each sample. */
export interface TransferStats {
  readonly transferId: TransferId
  readonly total: number | null
  readonly startedAt: number
  /** Just enough history for the speed window. */
  readonly samples: ReadonlyArray<Sample>
  /** The last sample at which the byte count had moved: the start of a stall. */
  readonly moved: Sample
}

/** How a transfer ended. `error` is the text spectators see in `done`. */
export type TransferOutcome =
  | { readonly ok: true }
  | { readonly ok: false; readonly error: string }

export const completed: TransferOutcome = { ok: true }
export const failed = (error: string): TransferOutcome => ({ ok: false, error })
/** A defect ended the transfer: spectators learn that much, the log line holds the rest. */
export const failedInternally: TransferOutcome = failed("The transfer failed on an internal error.")

/** Why a running transfer is cut from outside: `error` for spectators' `done`, `line` for the sender. */
export interface TransferAbort {
  readonly error: string
  readonly line: string
}

const MB = 1_000_000
/** `mbps` is measured over the last ~2 s of samples (protocol §4.1). */
const speedWindowMs = 2_000

const round1 = (x: number) => Math.round(x * 10) / 10
const round2 = (x: number) => Math.round(x * 100) / 100

export const startStats = (transferId: TransferId, total: number | null, now: number): TransferStats => ({
  transferId,
  total,
  startedAt: now,
  samples: [{ at: now, bytes: 0 }],
  moved: { at: now, bytes: 0 }
})

/** The stats with the counter's reading at `now` recorded. */
export const sample = (stats: TransferStats, now: number, bytes: number): TransferStats => {
  const samples = [...stats.samples, { at: now, bytes }]
  while (samples.length > 2 && now - (samples[1]?.at ?? now) >= speedWindowMs) samples.shift()
  return { ...stats, samples, moved: bytes === stats.moved.bytes ? stats.moved : { at: now, bytes } }
}

/** How long no byte has moved, as of `now`. */
export const stalledMs = (stats: TransferStats, now: number, bytes: number): number =>
  bytes === stats.moved.bytes ? Math.max(0, now - stats.moved.at) : 0

/** MB/s over the window ending at the latest sample. */
const mbpsOf = (stats: TransferStats): number => {
  const first = stats.samples[0]
  const last = stats.samples[stats.samples.length - 1]
  if (first === undefined || last === undefined || last.at <= first.at) return 0
  return round2((last.bytes - first.bytes) / MB / ((last.at - first.at) / 1000))
}

/**
 * The one percent rule, for every place a number is shown (the JSON snapshot, SSE `progress`, the replay of a
 * finished transfer, and so the dashboard that renders them): no `total`, no percent (`null`, also once the
 * transfer is over: bytes alone say how much went through); with a `total`, the share of it sent, rounded
 * down to 0.1 and capped at 100. Rounded down, so that 100 means "all of it" and never "99.96 %"; capped,
 * because a sender may send more than its `?total` announced (the done data keeps `bytes` and `total`, so
 * a page can still say "9.10 MB (9.00 MB expected)"). A transfer of less than its total keeps its true
 * share at the end (2 MB of 9 MB is 22.2 %), which is why its outcome is told by `done.ok`, not by 100 %.
 * A `total` of 0 is reached by any byte count: 100.
 */
export const percentOf = (bytes: number, total: number | null): number | null => {
  if (total === null) return null
  if (bytes >= total) return 100
  return Math.floor((bytes / total) * 1000) / 10
}

/** Seconds to go at the current speed: `null` without a total or a speed, 0 once the total is reached. */
export const etaOf = (bytes: number, total: number | null, mbps: number): number | null => {
  if (total === null) return null
  const remaining = Math.max(0, total - bytes)
  if (remaining === 0) return 0
  return mbps > 0 ? round1(remaining / MB / mbps) : null
}

export const progressOf = (stats: TransferStats, now: number, bytes: number): ProgressData => {
  const mbps = mbpsOf(stats)
  const { total } = stats
  return {
    transferId: stats.transferId,
    bytes,
    total,
    percent: percentOf(bytes, total),
    mbps,
    etaSec: etaOf(bytes, total, mbps),
    elapsedSec: round1((now - stats.startedAt) / 1000),
    stalledSec: round1(stalledMs(stats, now, bytes) / 1000),
    at: now
  }
}

export const doneOf = (stats: TransferStats, outcome: TransferOutcome, now: number, bytes: number): DoneData => {
  const durationSec = Math.max(0, (now - stats.startedAt) / 1000)
  return {
    transferId: stats.transferId,
    ok: outcome.ok,
    bytes,
    total: stats.total,
    durationSec: round2(durationSec),
    avgMbps: durationSec > 0 ? round2(bytes / MB / durationSec) : 0,
    error: outcome.ok ? null : outcome.error,
    at: now
  }
}
