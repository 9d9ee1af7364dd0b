import { Schema } from "effect"
import { DoneData, StateName } from "../domain/TransferReport.js"

/** The JSON snapshot a status page polls (`?progress` with `Accept: application/json`), protocol §4.2. */
export const Snapshot = Schema.Struct({
  path: Schema.String,
  state: StateName,
  transferId: Schema.NullOr(Schema.String),
  sender: Schema.Boolean,
  receivers: Schema.Number,
  expectedReceivers: Schema.Number,
  bytes: Schema.Number,
  total: Schema.NullOr(Schema.Number),
  percent: Schema.NullOr(Schema.Number),
  mbps: Schema.NullOr(Schema.Number),
  etaSec: Schema.NullOr(Schema.Number),
  elapsedSec: Schema.NullOr(Schema.Number),
  spectators: Schema.Number,
  startedAt: Schema.NullOr(Schema.Number),
  updatedAt: Schema.Number,
  done: Schema.NullOr(DoneData),
  /** The path's last finished transfer (protocol §9): outlives the retention window, equals `done` during it. */
  last: Schema.NullOr(DoneData)
})
export type Snapshot = typeof Snapshot.Type
