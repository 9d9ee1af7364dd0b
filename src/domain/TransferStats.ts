import type { DoneData, ProgressData } from "../schema/PipeEvent.js"
import type { TransferId } from "./TransferId.js"

/**
 * The byte counter of a running transfer. Mutable on purpose: the relay adds each chunk's length on the hot
 * path (one addition per chunk, no allocation, no Effect); everyone else only samples it.
 */
export interface ByteMeter {
  bytes: number
}

interface Sample {
  readonly at: number
  readonly bytes: number
}

const MB = 1_000_000
/** `mbps` is measured over the last ~2 s of samples (protocol §4.1). */
const speedWindowMs = 2_000

const round1 = (x: number) => Math.round(x * 10) / 10
const round2 = (x: number) => Math.round(x * 100) / 100

/** How a transfer ended. `error` is the text spectators see in `done`. */
export type TransferOutcome =
  | { readonly ok: true }
  | { readonly ok: false; readonly error: string }

/** Timings and byte counts of one transfer, and the `progress`/`done` data derived from them. */
export class TransferStats {
  readonly meter: ByteMeter = { bytes: 0 }
  private samples: Array<Sample>
  /** The last sample at which the byte count had moved: the start of a stall. */
  private moved: Sample

  constructor(
    readonly transferId: TransferId,
    readonly total: number | null,
    readonly startedAt: number
  ) {
    this.samples = [{ at: startedAt, bytes: 0 }]
    this.moved = { at: startedAt, bytes: 0 }
  }

  /** How long no byte has moved, as of the latest sample. */
  stalledMs(now: number): number {
    return this.meter.bytes === this.moved.bytes ? Math.max(0, now - this.moved.at) : 0
  }

  /** Records the counter at `now`, keeping just enough history for the speed window. */
  sample(now: number): void {
    this.samples.push({ at: now, bytes: this.meter.bytes })
    if (this.meter.bytes !== this.moved.bytes) this.moved = { at: now, bytes: this.meter.bytes }
    while (this.samples.length > 2 && now - (this.samples[1]?.at ?? now) >= speedWindowMs) this.samples.shift()
  }

  /** MB/s over the window ending at the latest sample. */
  get mbps(): number {
    const first = this.samples[0]
    const last = this.samples[this.samples.length - 1]
    if (first === undefined || last === undefined || last.at <= first.at) return 0
    return round2((last.bytes - first.bytes) / MB / ((last.at - first.at) / 1000))
  }

  progress(now: number): ProgressData {
    const bytes = this.meter.bytes
    const mbps = this.mbps
    const percent = this.total === null || this.total === 0 ? null : round1(Math.min(100, (bytes / this.total) * 100))
    const remaining = this.total === null ? null : Math.max(0, this.total - bytes)
    const etaSec = remaining === null ? null : remaining === 0 ? 0 : mbps > 0 ? round1(remaining / MB / mbps) : null
    return {
      transferId: this.transferId,
      bytes,
      total: this.total,
      percent,
      mbps,
      etaSec,
      elapsedSec: round1((now - this.startedAt) / 1000),
      stalledSec: round1(this.stalledMs(now) / 1000),
      at: now
    }
  }

  done(outcome: TransferOutcome, now: number): DoneData {
    const durationSec = Math.max(0, (now - this.startedAt) / 1000)
    const bytes = this.meter.bytes
    return {
      transferId: this.transferId,
      ok: outcome.ok,
      bytes,
      total: this.total,
      durationSec: round2(durationSec),
      avgMbps: durationSec > 0 ? round2(bytes / MB / durationSec) : 0,
      error: outcome.ok ? null : outcome.error,
      at: now
    }
  }
}

/** Why a running transfer is cut from outside: `error` for spectators' `done`, `line` for the sender. */
export interface TransferAbort {
  readonly error: string
  readonly line: string
}
