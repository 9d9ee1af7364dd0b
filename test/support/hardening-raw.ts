import { connect } from "node:net"

/**
 * One HTTP/1.1 exchange on a raw socket: the request bytes are written exactly as given (control bytes, bare
 * non-ASCII, malformed framing — nothing a client library would let through), the response is parsed by hand.
 */
export interface RawResponse {
  readonly kind: "response"
  readonly status: number
  readonly statusLine: string
  readonly headers: ReadonlyArray<readonly [name: string, value: string]>
  readonly body: Buffer
  /** The response was complete by its own framing (Content-Length, chunked end, or close-delimited). */
  readonly complete: boolean
}

export type RawOutcome =
  | RawResponse
  /** The connection closed (or was reset) with no response at all. */
  | { readonly kind: "no-response"; readonly error: string | undefined; readonly received: Buffer }
  /** Nothing conclusive within the time limit: the server neither answered nor closed. */
  | { readonly kind: "timeout"; readonly received: Buffer }

export const rawHeader = (response: RawResponse, name: string): string | undefined =>
  response.headers.find(([n]) => n.toLowerCase() === name.toLowerCase())?.[1]

interface Parsed {
  readonly status: number
  readonly statusLine: string
  readonly headers: Array<readonly [string, string]>
  readonly bodyStart: number
}

/** The final response head: interim 1xx heads (`100 Continue` for `Expect: 100-continue`) are skipped. */
const parseHead = (data: Buffer): Parsed | undefined => {
  let start = 0
  for (;;) {
    const end = data.indexOf("\r\n\r\n", start)
    if (end === -1) return undefined
    const [statusLine = "", ...lines] = data.subarray(start, end).toString("latin1").split("\r\n")
    const status = /^HTTP\/1\.[01] (\d{3})(?: |$)/.exec(statusLine)?.[1]
    if (status === undefined) throw new Error(`bad status line ${JSON.stringify(statusLine)}`)
    if (Number(status) >= 100 && Number(status) < 200) {
      start = end + 4
      continue
    }
    const headers = lines.map((line): readonly [string, string] => {
      const colon = line.indexOf(":")
      if (colon <= 0) throw new Error(`bad response header line ${JSON.stringify(line)}`)
      return [line.slice(0, colon), line.slice(colon + 1).trim()]
    })
    return { status: Number(status), statusLine, headers, bodyStart: end + 4 }
  }
}

/** The body so far and whether it is complete, by the response's framing. */
const bodyOf = (head: Parsed, data: Buffer, closed: boolean, noBody: boolean): { body: Buffer; complete: boolean } => {
  const raw = data.subarray(head.bodyStart)
  const get = (name: string) => head.headers.find(([n]) => n.toLowerCase() === name)?.[1]
  if (noBody || head.status === 204 || head.status === 304) return { body: Buffer.alloc(0), complete: true }
  const length = get("content-length")
  if (length !== undefined) {
    const n = Number(length)
    return { body: raw.subarray(0, n), complete: raw.length >= n }
  }
  if (/chunked/i.test(get("transfer-encoding") ?? "")) {
    const parts: Array<Buffer> = []
    let at = 0
    for (;;) {
      const lineEnd = raw.indexOf("\r\n", at)
      if (lineEnd === -1) return { body: Buffer.concat(parts), complete: false }
      const size = parseInt(raw.subarray(at, lineEnd).toString("latin1"), 16)
      if (Number.isNaN(size)) throw new Error("bad chunk size in response")
      if (size === 0) return { body: Buffer.concat(parts), complete: raw.indexOf("\r\n", lineEnd + 2) !== -1 }
      if (raw.length < lineEnd + 2 + size + 2) return { body: Buffer.concat(parts), complete: false }
      parts.push(raw.subarray(lineEnd + 2, lineEnd + 2 + size))
      at = lineEnd + 2 + size + 2
    }
  }
  return { body: raw, complete: closed }
}

export interface RawOptions {
  readonly timeoutMs?: number
  /** The request was HEAD: the response has no body whatever its headers say. */
  readonly head?: boolean
  /**
   * Stop (and destroy the socket) as soon as this returns true for the response so far: for a response that
   * never ends by itself, such as an SSE stream.
   */
  readonly enough?: (
    head: { readonly status: number; readonly headers: ReadonlyArray<readonly [string, string]> },
    body: Buffer
  ) => boolean
}

export const rawExchange = (
  port: number,
  request: Buffer,
  { timeoutMs = 10_000, head = false, enough }: RawOptions = {}
): Promise<RawOutcome> =>
  new Promise((resolve) => {
    const chunks: Array<Buffer> = []
    let error: string | undefined
    let settled = false
    const socket = connect(port, "127.0.0.1", () => socket.write(request))
    const finish = (closed: boolean) => {
      if (settled) return
      const data = Buffer.concat(chunks)
      let parsed: Parsed | undefined
      try {
        parsed = parseHead(data)
      } catch (e) {
        settled = true
        socket.destroy()
        resolve({ kind: "no-response", error: `unparseable response: ${String(e)}`, received: data })
        return
      }
      if (parsed === undefined) {
        if (!closed) return
        settled = true
        resolve({ kind: "no-response", error, received: data })
        return
      }
      const { body, complete } = bodyOf(parsed, data, closed, head)
      const stop = enough?.({ status: parsed.status, headers: parsed.headers }, body) === true
      if (!complete && !closed && !stop) return
      settled = true
      clearTimeout(timer)
      socket.destroy()
      resolve({
        kind: "response",
        status: parsed.status,
        statusLine: parsed.statusLine,
        headers: parsed.headers,
        body,
        complete
      })
    }
    const timer = setTimeout(() => {
      if (settled) return
      settled = true
      socket.destroy()
      resolve({ kind: "timeout", received: Buffer.concat(chunks) })
    }, timeoutMs)
    socket.on("data", (chunk: Buffer) => {
      chunks.push(chunk)
      finish(false)
    })
    socket.on("error", (e) => {
      error = e.message
    })
    socket.on("close", () => {
      clearTimeout(timer)
      finish(true)
    })
  })
