import { Effect } from "effect"
import { type IncomingMessage, request as httpRequest } from "node:http"
import type { PipeEvent, TtlEvent } from "../../src/schema/PipeEvent.js"
import { decodeStreamFrame, makeSseParser } from "../../src/schema/Sse.js"
import type { ServerHandle } from "./server.js"
import { waitFor } from "./wait.js"

export interface Received {
  readonly id: string | undefined
  readonly event: PipeEvent
  /** Client clock (performance.now()) when the event arrived. */
  readonly arrivedAt: number
}

/**
 * A real SSE client on its own connection: every frame is decoded with the protocol's Schemas, so a field
 * the server gets wrong fails the decode and the test.
 */
export interface SseClient {
  readonly response: Promise<IncomingMessage>
  readonly events: Array<Received>
  /** The connection's own `ttl` events (protocol §10), kept apart from the path's events; with its `id:`. */
  readonly ttl: Array<{ readonly id: string | undefined; readonly event: TtlEvent }>
  /** Settles when the server ends the response: `end` (clean) or `error`. */
  readonly ended: Promise<"end" | "error">
  /** Awaits the first event (from `from` on) that satisfies `predicate`. */
  readonly next: (
    predicate: (e: PipeEvent) => boolean,
    what: string,
    from?: number,
    timeoutMs?: number
  ) => Promise<Received>
  readonly close: () => void
}

export const openSse = (
  server: ServerHandle,
  path: string,
  { accept = "text/event-stream", headers = {}, read = true }: {
    readonly accept?: string
    readonly read?: boolean
    /** More request headers (`Last-Event-ID` for a reconnection). */
    readonly headers?: Readonly<Record<string, string>>
  } = {}
): SseClient => {
  const { hostname, port } = new URL(server.url)
  const req = httpRequest({ host: hostname, port, path, headers: { accept, ...headers }, agent: false })
  const events: Array<Received> = []
  const ttl: Array<{ readonly id: string | undefined; readonly event: TtlEvent }> = []
  const parse = makeSseParser()
  let decodeError: unknown
  const response = new Promise<IncomingMessage>((resolve, reject) => {
    req.once("response", resolve)
    req.once("error", reject)
  })
  const ended = response.then(
    (res) =>
      new Promise<"end" | "error">((resolve) => {
        res.once("end", () => resolve("end"))
        res.once("error", () => resolve("error"))
        res.once("aborted", () => resolve("error"))
        if (!read) {
          // A spectator that never reads: its socket's receive buffer fills and the server sees backpressure.
          res.socket.pause()
          return
        }
        res.setEncoding("utf8")
        res.on("data", (chunk: string) => {
          for (const frame of parse(chunk)) {
            try {
              const event = Effect.runSync(decodeStreamFrame(frame))
              if (event.event === "ttl") ttl.push({ id: frame.id, event })
              else events.push({ id: frame.id, event, arrivedAt: performance.now() })
            } catch (error) {
              decodeError = error
            }
          }
        })
      }),
    () => "error" as const
  )
  req.end()
  return {
    response,
    events,
    ttl,
    ended,
    next: async (predicate, what, from = 0, timeoutMs = 10_000) =>
      waitFor(
        () => {
          if (decodeError !== undefined) throw decodeError
          return events.slice(from).find((e) => predicate(e.event))
        },
        { what: `SSE event: ${what}`, timeoutMs }
      ),
    close: () => req.destroy()
  }
}

/** The events of one kind, narrowed. */
export const ofKind = <K extends PipeEvent["event"]>(events: ReadonlyArray<Received>, kind: K) =>
  events.map((e) => e.event).filter((e): e is Extract<PipeEvent, { event: K }> => e.event === kind)
