import { Effect, Schema } from "effect"
import { PipeEvent, StreamEvent } from "./PipeEvent.js"

/** One SSE frame: the event's name, its per-path id, its data as one JSON line (protocol §4.1). */
export interface SseFrame {
  readonly event: string
  readonly id: string | undefined
  readonly data: string
}

const encodeEvent = Schema.encodeSync(StreamEvent)

/**
 * Frames an event for the wire: its `event` tag becomes the `event:` line, the rest the `data:` line. A path
 * event carries its id; the connection's `ttl` carries none (`id` undefined), so the `Last-Event-ID` of the
 * reconnection that follows still names the last path event the spectator saw.
 */
export const encodeSse = (id: number | undefined, event: StreamEvent): string => {
  const { event: name, ...data } = encodeEvent(event)
  return `event: ${name}\n${id === undefined ? "" : `id: ${id}\n`}data: ${JSON.stringify(data)}\n\n`
}

export const sseKeepalive = ": keepalive\n\n"

/**
 * An incremental SSE parser (the WHATWG rules that matter here: `event`, `id`, multi-line `data`, comments,
 * CRLF or LF). Feed it text as it arrives; it returns the frames completed so far.
 */
export const makeSseParser = () => {
  let buffer = ""
  let event = ""
  let id: string | undefined
  let data: Array<string> = []
  return (chunk: string): Array<SseFrame> => {
    buffer += chunk
    const frames: Array<SseFrame> = []
    let newline: number
    while ((newline = buffer.search(/\r\n|\n|\r/)) !== -1) {
      const line = buffer.slice(0, newline)
      buffer = buffer.slice(newline + (buffer.startsWith("\r\n", newline) ? 2 : 1))
      if (line === "") {
        if (data.length > 0) frames.push({ event: event === "" ? "message" : event, id, data: data.join("\n") })
        event = ""
        data = []
        continue
      }
      if (line.startsWith(":")) continue
      const colon = line.indexOf(":")
      const field = colon === -1 ? line : line.slice(0, colon)
      const value = colon === -1 ? "" : line.slice(colon + 1).replace(/^ /, "")
      if (field === "event") event = value
      else if (field === "data") data.push(value)
      else if (field === "id") id = value
    }
    return frames
  }
}

const decodeData = Schema.decodeUnknownEffect(Schema.fromJsonString(Schema.Unknown))
const decodeEvent = Schema.decodeUnknownEffect(PipeEvent)
const decodeStreamEvent = Schema.decodeUnknownEffect(StreamEvent)
const decodeEventSync = Schema.decodeUnknownOption(PipeEvent)
const decodeDataSync = Schema.decodeUnknownOption(Schema.fromJsonString(Schema.Unknown))

const withName = (frame: SseFrame, data: unknown) =>
  typeof data === "object" && data !== null ? { ...data, event: frame.event } : data

/** Decodes a frame into a typed pipe event with the same Schemas the server encodes with. */
export const decodeSseFrame = (frame: SseFrame) =>
  decodeData(frame.data).pipe(Effect.flatMap((data) => decodeEvent(withName(frame, data))))

/** Decodes any frame of a spectator stream, `ttl` included. */
export const decodeStreamFrame = (frame: SseFrame) =>
  decodeData(frame.data).pipe(Effect.flatMap((data) => decodeStreamEvent(withName(frame, data))))

/** The same as `decodeSseFrame` without Effect, for the browser: `undefined` for a frame that is not a pipe event. */
export const decodeSseFrameSync = (frame: SseFrame): PipeEvent | undefined => {
  const data = decodeDataSync(frame.data)
  if (data._tag === "None") return undefined
  const event = decodeEventSync(withName(frame, data.value))
  return event._tag === "None" ? undefined : event.value
}
