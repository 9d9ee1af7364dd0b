import { connect, type Socket } from "node:net"

/**
 * A raw HTTP client for the robustness suites: the request bytes go out exactly as given (hostile header bytes,
 * malformed multipart, `HTTP/1.0` request lines, a half-close right after the request), and the response is
 * kept as bytes and parsed by hand, so every byte the server put on the wire can be judged: the status line as
 * sent (`HTTP/1.0 …`), each header line's raw bytes, the body framing (Content-Length, chunked, or
 * close-delimited) and how the connection ended (clean FIN or reset).
 *
 * Waiting is event-driven: `until(predicate)` is re-checked on every `data` and on `close`, never polled.
 */

export interface RawHeadLine {
  readonly name: string
  readonly value: string
  /** The whole header line as it came on the wire (latin1: one character per byte). */
  readonly raw: string
}

export interface RawHead {
  /** The status line exactly as sent (latin1). */
  readonly statusLine: string
  /** `HTTP/1.0` or `HTTP/1.1` (whatever the status line says). */
  readonly version: string
  readonly status: number
  readonly headers: ReadonlyArray<RawHeadLine>
  /** Offset of the body in the bytes received. */
  readonly bodyStart: number
}

export type Framing = "length" | "chunked" | "close"

export interface RawBody {
  readonly framing: Framing
  /** The body bytes so far (chunked: de-chunked). */
  readonly body: Buffer
  /**
   * Complete by its own framing: Content-Length reached, the terminal chunk (and the blank line after the
   * trailers) seen, or — close-delimited — the connection closed cleanly (a FIN, not a reset).
   */
  readonly complete: boolean
  /** The chunked framing was malformed (a bad chunk-size line or a chunk without its CRLF). */
  readonly malformed: boolean
}

const hasToken = (value: string | undefined, token: string): boolean =>
  (value ?? "").split(",").some((t) => t.trim().toLowerCase() === token)

/** Parses the final (non-1xx) response head; undefined while it is incomplete; throws if it is not HTTP. */
export const parseRawHead = (data: Buffer): RawHead | undefined => {
  let start = 0
  for (;;) {
    const end = data.indexOf("\r\n\r\n", start)
    if (end === -1) return undefined
    const [statusLine = "", ...lines] = data.subarray(start, end).toString("latin1").split("\r\n")
    const match = /^(HTTP\/\d\.\d) (\d{3})(?: |$)/.exec(statusLine)
    if (match === null) throw new Error(`bad status line ${JSON.stringify(statusLine)}`)
    const status = Number(match[2])
    if (status >= 100 && status < 200) {
      start = end + 4
      continue
    }
    const headers = lines.map((raw): RawHeadLine => {
      const colon = raw.indexOf(":")
      if (colon <= 0) throw new Error(`bad response header line ${JSON.stringify(raw)}`)
      return { name: raw.slice(0, colon), value: raw.slice(colon + 1).trim(), raw }
    })
    return { statusLine, version: match[1] ?? "", status, headers, bodyStart: end + 4 }
  }
}

export const headValues = (head: RawHead | undefined, name: string): Array<string> =>
  (head?.headers ?? []).filter((h) => h.name.toLowerCase() === name.toLowerCase()).map((h) => h.value)

export const headValue = (head: RawHead | undefined, name: string): string | undefined => headValues(head, name)[0]

/** The body of a response so far, by its framing. `cleanClose`: the peer closed with a FIN (no reset). */
export const parseRawBody = (head: RawHead, data: Buffer, cleanClose: boolean, noBody = false): RawBody => {
  const raw = data.subarray(head.bodyStart)
  if (noBody || head.status === 204 || head.status === 304) {
    return { framing: "length", body: Buffer.alloc(0), complete: true, malformed: false }
  }
  if (hasToken(headValue(head, "transfer-encoding"), "chunked")) {
    const parts: Array<Buffer> = []
    let at = 0
    for (;;) {
      const lineEnd = raw.indexOf("\r\n", at)
      if (lineEnd === -1) return { framing: "chunked", body: Buffer.concat(parts), complete: false, malformed: false }
      const sizeText = raw.subarray(at, lineEnd).toString("latin1").split(";")[0]?.trim() ?? ""
      if (!/^[0-9a-fA-F]+$/.test(sizeText)) {
        return { framing: "chunked", body: Buffer.concat(parts), complete: false, malformed: true }
      }
      const size = parseInt(sizeText, 16)
      if (size === 0) {
        // Trailers (none expected) end with an empty line.
        const trailersEnd = raw.indexOf("\r\n\r\n", lineEnd)
        const complete = raw.subarray(lineEnd, lineEnd + 4).equals(Buffer.from("\r\n\r\n")) || trailersEnd !== -1
        return { framing: "chunked", body: Buffer.concat(parts), complete, malformed: false }
      }
      if (raw.length < lineEnd + 2 + size + 2) {
        parts.push(raw.subarray(lineEnd + 2, Math.min(raw.length, lineEnd + 2 + size)))
        return { framing: "chunked", body: Buffer.concat(parts), complete: false, malformed: false }
      }
      parts.push(raw.subarray(lineEnd + 2, lineEnd + 2 + size))
      if (raw[lineEnd + 2 + size] !== 0x0d || raw[lineEnd + 3 + size] !== 0x0a) {
        return { framing: "chunked", body: Buffer.concat(parts), complete: false, malformed: true }
      }
      at = lineEnd + 2 + size + 2
    }
  }
  const length = headValue(head, "content-length")
  if (length !== undefined && /^\d+$/.test(length)) {
    const n = Number(length)
    return { framing: "length", body: raw.subarray(0, n), complete: raw.length >= n, malformed: raw.length > n }
  }
  return { framing: "close", body: raw, complete: cleanClose, malformed: false }
}

export interface Closed {
  /** The socket error that ended it (ECONNRESET for a reset), if any. */
  readonly error: string | undefined
}

export class RawClient {
  readonly socket: Socket
  readonly #chunks: Array<Buffer> = []
  #size = 0
  #data: Buffer | undefined
  #error: string | undefined
  #closed = false
  #waiters = new Set<() => void>()
  /** Settles when the socket has closed (either way). */
  readonly closed: Promise<Closed>
  /** Settles when the connection is up (rejects only if it never comes up: then `closed` says why). */
  readonly connected: Promise<void>

  constructor(
    port: number,
    request: Buffer | undefined = undefined,
    { noDelay = true }: { readonly noDelay?: boolean } = {}
  ) {
    this.socket = connect({ port, host: "127.0.0.1", noDelay })
    this.connected = new Promise((resolve, reject) => {
      this.socket.once("connect", () => resolve())
      this.socket.once("close", () => reject(new Error(`no connection: ${this.#error ?? "closed"}`)))
    })
    this.connected.catch(() => {})
    if (request !== undefined) this.socket.write(request)
    this.socket.on("data", (chunk: Buffer) => {
      this.#chunks.push(chunk)
      this.#size += chunk.length
      this.#data = undefined
      this.#notify()
    })
    this.socket.on("error", (e: NodeJS.ErrnoException) => {
      this.#error = e.code ?? e.message
    })
    this.closed = new Promise((resolve) => {
      this.socket.once("close", () => {
        this.#closed = true
        resolve({ error: this.#error })
        this.#notify()
      })
    })
  }

  #notify(): void {
    for (const waiter of [...this.#waiters]) waiter()
  }

  /** Every byte received so far. */
  get data(): Buffer {
    if (this.#data === undefined || this.#data.length !== this.#size) this.#data = Buffer.concat(this.#chunks)
    return this.#data
  }

  get isClosed(): boolean {
    return this.#closed
  }

  /** The socket error seen so far (ECONNRESET: the server reset the connection). */
  get error(): string | undefined {
    return this.#error
  }

  /** The response head, undefined while it is incomplete (or unparseable: see `headError`). */
  head(): RawHead | undefined {
    try {
      return parseRawHead(this.data)
    } catch {
      return undefined
    }
  }

  /** Why the bytes received are not an HTTP response head, if they are not. */
  headError(): string | undefined {
    try {
      parseRawHead(this.data)
      return undefined
    } catch (error) {
      return error instanceof Error ? error.message : String(error)
    }
  }

  body(noBody = false): RawBody | undefined {
    const head = this.head()
    return head === undefined
      ? undefined
      : parseRawBody(head, this.data, this.#closed && this.#error === undefined, noBody)
  }

  /** The body text so far (utf8), or "" before the head. */
  text(): string {
    return this.body()?.body.toString("utf8") ?? ""
  }

  /** The response is complete by its framing. */
  complete(noBody = false): boolean {
    return this.body(noBody)?.complete === true
  }

  /**
   * Resolves true as soon as `predicate` holds (checked now, on every data chunk and on close), false if it
   * does not within `timeoutMs` — or if the socket closed and it still does not hold.
   */
  until(predicate: () => boolean, timeoutMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined
      const check = () => {
        let ok = false
        try {
          ok = predicate()
        } catch {
          ok = false
        }
        if (!ok && !this.#closed) return
        this.#waiters.delete(check)
        if (timer !== undefined) clearTimeout(timer)
        resolve(ok)
      }
      this.#waiters.add(check)
      timer = setTimeout(() => {
        this.#waiters.delete(check)
        resolve(false)
      }, timeoutMs)
      check()
    })
  }

  /** Resolves true when the socket has closed within `timeoutMs`. */
  async untilClosed(timeoutMs: number): Promise<boolean> {
    return this.until(() => this.#closed, timeoutMs)
  }

  write(bytes: Buffer | string): void {
    if (!this.socket.destroyed) this.socket.write(bytes)
  }

  /** Half-closes: sends our FIN, keeps reading. */
  end(): void {
    if (!this.socket.destroyed) this.socket.end()
  }

  destroy(): void {
    this.socket.destroy()
  }
}

/** A header block as bytes: each line's value is taken as latin1 (one byte per character), so any byte goes out. */
export const rawRequest = (
  requestLine: string,
  headers: ReadonlyArray<readonly [name: string, value: string | Buffer]>,
  body: Buffer = Buffer.alloc(0)
): Buffer =>
  Buffer.concat([
    Buffer.from(`${requestLine}\r\n`, "latin1"),
    ...headers.map(([name, value]) =>
      Buffer.concat([
        Buffer.from(`${name}: `, "latin1"),
        typeof value === "string" ? Buffer.from(value, "latin1") : value,
        Buffer.from("\r\n")
      ])
    ),
    Buffer.from("\r\n"),
    body
  ])

/** A chunked body: `pieces` as chunks, then the terminal chunk. */
export const chunked = (pieces: ReadonlyArray<Buffer>): Buffer =>
  Buffer.concat([
    ...pieces.filter((p) => p.length > 0).flatMap((
      p
    ) => [Buffer.from(`${p.length.toString(16)}\r\n`), p, Buffer.from("\r\n")]),
    Buffer.from("0\r\n\r\n")
  ])

/** Bytes for a failure message: latin1 with escapes, cut to `max` characters. */
export const showBytes = (bytes: Buffer, max = 600): string => {
  const text = JSON.stringify(bytes.subarray(0, max).toString("latin1"))
  return bytes.length > max ? `${text}…(+${bytes.length - max} bytes)` : text
}
