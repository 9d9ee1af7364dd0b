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

/**
 * `data:` of an SSE `ttl` event (protocol §10): the spectator connection reached its time-to-live and ends
 * cleanly right after; `reconnect` says that coming back is expected (EventSource does so by itself).
 */
export const TtlData = Schema.Struct({ reconnect: Schema.Literal(true), at: At })
export type TtlData = typeof TtlData.Type

/**
 * Not a `PipeEvent`: it says nothing about the path, only about this connection, so the SDK's `watch`
 * (which yields path events) never sees it, and a `switch` over `PipeEvent` stays exhaustive.
 */
export const TtlEvent = Schema.Struct({ event: Schema.Literal("ttl"), ...TtlData.fields })
export type TtlEvent = typeof TtlEvent.Type

/** Everything an SSE spectator stream carries: the path's events and the connection's own `ttl`. */
export const StreamEvent = Schema.Union([StateEvent, ProgressEvent, DoneEvent, TtlEvent])
export type StreamEvent = typeof StreamEvent.Type
