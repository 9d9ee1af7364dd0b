import { Schema } from "effect"
import { PipeState } from "../domain/PipeState.js"

/** Integer milliseconds since the epoch. */
const At = Schema.Number.pipe(Schema.int())
const Count = Schema.Number.pipe(Schema.int(), Schema.nonNegative())

/** `data:` of an SSE `state` event: a transition or a party arriving or leaving. */
export const StateData = Schema.Struct({
  state: PipeState,
  transferId: Schema.NullOr(Schema.String),
  sender: Schema.Boolean,
  receivers: Count,
  expectedReceivers: Count,
  at: At
})
export type StateData = typeof StateData.Type

/** `data:` of an SSE `progress` event, sampled every progress interval while bytes flow. */
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

/** `data:` of the SSE `done` event, sent exactly once per transfer. */
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

/**
 * One spectator event with its SSE name as the `event` tag: the shape `watch --json` prints, and the union
 * the SDK's `watch` stream yields. On the SSE wire the tag travels as the `event:` line, the rest as `data:`.
 */
export const StateEvent = Schema.Struct({ event: Schema.Literal("state"), ...StateData.fields })
export const ProgressEvent = Schema.Struct({ event: Schema.Literal("progress"), ...ProgressData.fields })
export const DoneEvent = Schema.Struct({ event: Schema.Literal("done"), ...DoneData.fields })
export type StateEvent = typeof StateEvent.Type
export type ProgressEvent = typeof ProgressEvent.Type
export type DoneEvent = typeof DoneEvent.Type

export const PipeEvent = Schema.Union(StateEvent, ProgressEvent, DoneEvent)
export type PipeEvent = typeof PipeEvent.Type
export type PipeEventName = PipeEvent["event"]
