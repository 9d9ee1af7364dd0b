import { Schema } from "effect"
import { At, Count, DoneData, ProgressData, StateName } from "../domain/TransferReport.js"

export { DoneData, ProgressData, StateName }

/** `data:` of an SSE `state` event: a transition or a party arriving or leaving. */
export const StateData = Schema.Struct({
  state: StateName,
  transferId: Schema.NullOr(Schema.String),
  sender: Schema.Boolean,
  receivers: Count,
  expectedReceivers: Count,
  at: At
})
export type StateData = typeof StateData.Type

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

export const PipeEvent = Schema.Union([StateEvent, ProgressEvent, DoneEvent])
export type PipeEvent = typeof PipeEvent.Type
export type PipeEventName = PipeEvent["event"]
