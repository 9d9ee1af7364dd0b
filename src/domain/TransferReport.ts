import { Schema } from "effect"

/** A path's life as spectators see it: `idle → waiting → streaming → complete | aborted`, and back. */
export const StateName = Schema.Literals(["idle", "waiting", "streaming", "complete", "aborted"])
export type StateName = typeof StateName.Type

/** Integer milliseconds since the epoch. */
export const At = Schema.Int
export const Count = Schema.Int.check(Schema.isGreaterThanOrEqualTo(0))

/** A running transfer's numbers, sampled every progress interval while bytes flow (protocol §4.1). */
export const ProgressData = Schema.Struct({
  transferId: Schema.String,
  bytes: Count,
  total: Schema.NullOr(Count),
  percent: Schema.NullOr(Schema.Number),
  mbps: Schema.Number,
  etaSec: Schema.NullOr(Schema.Number),
  elapsedSec: Schema.Number,
  /** Seconds since the byte count last moved (0 while bytes flow): a stalled transfer is visible as such. */
  stalledSec: Schema.Number,
  at: At
})
export type ProgressData = typeof ProgressData.Type

/** How one transfer ended, said exactly once per transfer. */
export const DoneData = Schema.Struct({
  transferId: Schema.String,
  ok: Schema.Boolean,
  bytes: Count,
  total: Schema.NullOr(Count),
  durationSec: Schema.Number,
  avgMbps: Schema.Number,
  error: Schema.NullOr(Schema.String),
  at: At
})
export type DoneData = typeof DoneData.Type
