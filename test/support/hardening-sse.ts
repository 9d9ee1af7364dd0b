import { Effect } from "effect"
import type { IncomingMessage } from "node:http"
import type { DoneEvent, PipeEvent, StateEvent } from "../../src/schema/PipeEvent.js"
import { decodeSseFrame, makeSseParser } from "../../src/schema/Sse.js"
import { BodyReader, openRequest } from "./http.js"
import type { ServerHandle } from "./server.js"
import { within } from "./wait.js"

/**
 * An event-driven SSE spectator for the hardening suites (hundreds at once): like support/sse.ts, every frame
 * is decoded with the protocol's Schemas, but `firstState` and `done` are promises resolved by the frames
 * themselves, so awaiting 500 spectators polls nothing.
 */
export interface Spectator {
  readonly status: number
  readonly res: IncomingMessage
  readonly events: ReadonlyArray<PipeEvent>
  /** The first `state` event (the replayed snapshot). */
  readonly firstState: Promise<StateEvent>
  /** The first `done` event; rejects if the stream ends or a frame fails to decode before it. */
  readonly done: Promise<DoneEvent>
  /** How the response ended: `end` (clean) or `error`. */
  readonly ended: Promise<"end" | "error">
  readonly close: () => void
}

/** Follows an SSE response that is already open (status 200). */
export const followSse = (res: IncomingMessage): Spectator => {
  const events: Array<PipeEvent> = []
  const parse = makeSseParser()
  let resolveState: (e: StateEvent) => void = () => {}
  let rejectState: (error: Error) => void = () => {}
  let resolveDone: (e: DoneEvent) => void = () => {}
  let rejectDone: (error: Error) => void = () => {}
  const firstState = new Promise<StateEvent>((resolve, reject) => {
    resolveState = resolve
    rejectState = reject
  })
  const done = new Promise<DoneEvent>((resolve, reject) => {
    resolveDone = resolve
    rejectDone = reject
  })
  const rejectAll = (error: Error): void => {
    rejectState(error)
    rejectDone(error)
  }
  firstState.catch(() => {})
  done.catch(() => {})
  const ended = new Promise<"end" | "error">((resolve) => {
    res.once("end", () => resolve("end"))
    res.once("error", () => resolve("error"))
    res.once("aborted", () => resolve("error"))
    res.once("close", () => {
      if (!res.complete) resolve("error")
    })
  })
  void ended.then((how) =>
    rejectAll(new Error(`SSE stream ended (${how}) after ${JSON.stringify(events.map((e) => e.event))}`))
  )
  res.setEncoding("utf8")
  res.on("data", (chunk: string) => {
    for (const frame of parse(chunk)) {
      // The connection's own `ttl` (protocol §10) says nothing about the path.
      if (frame.event === "ttl") continue
      let event: PipeEvent
      try {
        event = Effect.runSync(decodeSseFrame(frame))
      } catch (error) {
        rejectAll(new Error(`undecodable SSE frame ${JSON.stringify(frame)}: ${String(error)}`))
        continue
      }
      events.push(event)
      if (event.event === "state") resolveState(event)
      if (event.event === "done") resolveDone(event)
    }
  })
  return { status: res.statusCode ?? 0, res, events, firstState, done, ended, close: () => res.destroy() }
}

export type Attempt =
  | { readonly admitted: true; readonly spectator: Spectator }
  | {
    readonly admitted: false
    readonly status: number
    readonly headers: IncomingMessage["headers"]
    readonly body: string
  }

/**
 * One spectator connection attempt (`GET <path>?progress`, `Accept: text/event-stream`): admitted (200, the
 * stream is followed) or refused (the whole refusal is read).
 */
export const attemptSpectator = async (
  server: ServerHandle,
  pathWithQuery: string,
  timeoutMs = 20_000
): Promise<Attempt> => {
  const { req, response } = openRequest(server.url, pathWithQuery, { headers: { accept: "text/event-stream" } })
  req.end()
  const res = await within(response, timeoutMs, `response head of ${pathWithQuery}`)
  if (res.statusCode === 200) return { admitted: true, spectator: followSse(res) }
  const body = await within(new BodyReader(res).complete, timeoutMs, `refusal body of ${pathWithQuery}`)
  return { admitted: false, status: res.statusCode ?? 0, headers: res.headers, body: body.toString("utf8") }
}

/** A spectator that must be admitted: throws with the refusal otherwise. */
export const watchPath = async (server: ServerHandle, path: string): Promise<Spectator> => {
  const attempt = await attemptSpectator(server, `${path}?progress`)
  if (!attempt.admitted) {
    throw new Error(`spectator on ${path} refused: ${attempt.status} ${JSON.stringify(attempt.body)}`)
  }
  return attempt.spectator
}
