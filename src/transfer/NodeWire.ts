import type { IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeaders, ServerResponse } from "node:http"
import type { Http2ServerRequest, Http2ServerResponse } from "node:http2"
import type { Readable } from "node:stream"

/**
 * One request and its response as the data path holds them, whichever protocol carries them: HTTP/1.x (plain
 * or TLS) or an HTTP/2 stream (protocol §11). Most of the data path reads and writes them through what both
 * share (`WireRequest`, `WireResponse`); the few things that differ — how an answer is broken so that the
 * client cannot take it for whole, how an unread upload is stopped, connection headers — are decided here.
 */
export type NodeWire =
  | { readonly protocol: "http/1"; readonly req: IncomingMessage; readonly res: ServerResponse }
  | { readonly protocol: "h2"; readonly req: Http2ServerRequest; readonly res: Http2ServerResponse }

/** What the data path reads of a request, the same on both protocols. */
export type WireRequest = Readable & {
  readonly headers: IncomingHttpHeaders
  readonly complete: boolean
  readonly httpVersion: string
}

/** What the data path writes on a response, the same on both protocols. */
export interface WireResponse {
  readonly headersSent: boolean
  readonly writableEnded: boolean
  readonly writableFinished: boolean
  setHeader(name: string, value: number | string | ReadonlyArray<string>): unknown
  writeHead(status: number, headers: OutgoingHttpHeaders): unknown
  write(chunk: string | Uint8Array, callback?: (error?: Error | null) => void): boolean
  end(chunk: string, callback?: () => void): unknown
  end(): unknown
  once(event: "close" | "drain", listener: () => void): unknown
  off(event: "close" | "drain", listener: () => void): unknown
}

/** Node's compatibility objects of `node:http2` carry their stream; the HTTP/1 ones never do. */
export const wireOf = (
  req: IncomingMessage | Http2ServerRequest,
  res: ServerResponse | Http2ServerResponse
): NodeWire => {
  if ("stream" in req) {
    if ("stream" in res) return { protocol: "h2", req, res }
  } else if (!("stream" in res)) return { protocol: "http/1", req, res }
  throw new Error("an HTTP/2 request with an HTTP/1 response, or the other way round")
}

// RFC 9113 §7. Read from `node:http2` only once an HTTP/2 stream exists: a plain server never loads it.
const h2Code = (name: "NGHTTP2_NO_ERROR" | "NGHTTP2_CANCEL"): number =>
  process.getBuiltinModule("node:http2").constants[name]

/** The response's connection (or, on h2, its stream) is gone: nothing written will reach the client. */
export const isGone = (wire: NodeWire): boolean =>
  wire.protocol === "h2" ? wire.res.stream.destroyed : wire.res.destroyed

/** The response can still be written to. */
export const isOpen = (wire: NodeWire): boolean => !wire.res.writableEnded && !isGone(wire)

/**
 * Breaks the answer so that the client sees a failed transfer, never a clean end. On h2 that is a
 * `RST_STREAM` with `CANCEL`: Node's own `destroy()` resets with `NO_ERROR`, which curl takes for a
 * complete body (measured: exit 0 after `hello\n` of a longer answer; 92 with `CANCEL`). Only this stream
 * goes: the connection may carry other pipes.
 */
export const breakResponse = (wire: NodeWire): void => {
  if (wire.protocol === "http/1") return void wire.res.destroy()
  const stream = wire.res.stream
  if (!stream.destroyed && !stream.closed) stream.close(h2Code("NGHTTP2_CANCEL"))
}

/**
 * Ends the answer with `last`; with `stopUpload`, a request body not read to its end is stopped as well (a
 * sender whose upload nobody takes must not keep uploading).
 *
 * HTTP/1: the close lingers: we send our FIN and drop what still arrives for a moment, because destroying a
 * socket with unread input sends a reset, and a reset can overtake our last line in a client that reads while
 * it uploads. h2: once our last frame has gone, `RST_STREAM` with `NO_ERROR`, which is how RFC 9113 §8.1 says
 * "the response is complete, stop sending" (frames keep their order on the connection, so the reset never
 * overtakes the line; Node does the same for a body it never read, one tick after the end).
 */
export const endResponse = (wire: NodeWire, last: string, stopUpload: boolean): void => {
  const stopIfUnread = () => {
    if (!stopUpload || wire.req.complete) return
    if (wire.protocol === "h2") {
      const stream = wire.res.stream
      setImmediate(() => {
        if (!stream.destroyed && !stream.closed) stream.close(h2Code("NGHTTP2_NO_ERROR"))
      })
      return
    }
    const socket = wire.req.socket
    wire.req.resume()
    socket.end()
    setTimeout(() => socket.destroy(), lingerMs).unref()
  }
  const res: WireResponse = wire.res
  res.end(last, stopIfUnread)
}

const lingerMs = 2_000

/** Writes the status and headers out now, before any body byte (h2's `writeHead` sends its HEADERS frame itself). */
export const sendHead = (wire: NodeWire, status: number, headers: OutgoingHttpHeaders): void => {
  if (wire.protocol === "h2") return void wire.res.writeHead(status, headers)
  wire.res.writeHead(status, headers)
  wire.res.flushHeaders()
}

/** Every value of a request header, as sent: Node joins repeated ones on h2, so they are read from the raw list. */
export const headerValues = (wire: NodeWire, name: string): ReadonlyArray<string> => {
  if (wire.protocol === "http/1") return wire.req.headersDistinct[name] ?? []
  const raw = wire.req.rawHeaders
  const values: Array<string> = []
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const value = raw[i + 1]
    if (raw[i]?.toLowerCase() === name && value !== undefined) values.push(value)
  }
  return values
}
