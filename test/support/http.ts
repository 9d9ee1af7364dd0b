import { type ClientRequest, type IncomingHttpHeaders, type IncomingMessage, request as httpRequest } from "node:http"
import { request as httpsRequest } from "node:https"
import { Digest } from "./hash.js"
import { waitFor } from "./wait.js"

export interface RequestOptions {
  readonly method?: string
  /** Extra headers; an array value is sent as repeated header lines. */
  readonly headers?: Readonly<Record<string, string | ReadonlyArray<string>>>
  /** Whole body (sent with Content-Length); omit to send none. */
  readonly body?: Buffer | string
}

export interface Reply {
  readonly status: number
  readonly httpVersion: string
  readonly headers: IncomingHttpHeaders
  readonly rawHeaders: ReadonlyArray<string>
  readonly body: Buffer
  readonly text: string
}

/** Every value of a header (case-insensitive), in wire order, from a response's rawHeaders. */
export const headerValues = (res: { readonly rawHeaders: ReadonlyArray<string> }, name: string): Array<string> => {
  const values: Array<string> = []
  for (let i = 0; i + 1 < res.rawHeaders.length; i += 2) {
    if (res.rawHeaders[i]?.toLowerCase() === name.toLowerCase()) values.push(res.rawHeaders[i + 1] ?? "")
  }
  return values
}

const open = new Set<ClientRequest>()

/** Destroys every request still open (a safety net run after each test). */
export const destroyOpenRequests = (): void => {
  open.forEach((req) => req.destroy())
  open.clear()
}

/**
 * Opens a request on its own connection (no agent, `Connection: close`). `target` is the server URL plus a path
 * that is sent exactly as written (no normalisation of `..` or percent-escapes). Write the body yourself.
 * An `https://` server is spoken to over HTTP/1.1 on TLS, its (test) certificate taken as it is.
 */
export const openRequest = (
  baseUrl: string,
  rawPath: string,
  { method = "GET", headers = {} }: Omit<RequestOptions, "body"> = {}
): { readonly req: ClientRequest; readonly response: Promise<IncomingMessage> } => {
  const { hostname, port, protocol } = new URL(baseUrl)
  const outgoing = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, typeof v === "string" ? v : [...v]]))
  const options = { host: hostname, port, path: rawPath, method, headers: outgoing, agent: false }
  const req = protocol === "https:"
    ? httpsRequest({ ...options, rejectUnauthorized: false })
    : httpRequest(options)
  const response = new Promise<IncomingMessage>((resolve, reject) => {
    req.once("response", resolve)
    req.once("error", reject)
  })
  response.catch(() => {}) // a test that stops early need not await it; one that awaits it still sees the error
  open.add(req)
  req.once("close", () => open.delete(req))
  return { req, response }
}

/** A whole request/response exchange; resolves when the response body has ended. */
export const request = (baseUrl: string, rawPath: string, options: RequestOptions = {}): Promise<Reply> => {
  const reply = exchange(baseUrl, rawPath, options)
  reply.catch(() => {}) // a test that stops early need not await it; one that awaits it still sees the error
  return reply
}

const exchange = async (baseUrl: string, rawPath: string, options: RequestOptions): Promise<Reply> => {
  const { req, response } = openRequest(baseUrl, rawPath, options)
  req.end(options.body)
  const res = await response
  const body = await new BodyReader(res).complete
  return {
    status: res.statusCode ?? 0,
    httpVersion: res.httpVersion,
    headers: res.headers,
    rawHeaders: res.rawHeaders,
    body,
    text: body.toString("utf8")
  }
}

/** Reads a response body as it streams: byte count, digest, text so far, and how it ended. */
export class BodyReader {
  readonly digest = new Digest()
  readonly #chunks: Array<Buffer> = []
  /** Resolves with the body on a clean end; rejects if the connection broke before the end. */
  readonly complete: Promise<Buffer>

  constructor(readonly res: IncomingMessage, keep = true) {
    res.on("data", (chunk: Buffer) => {
      this.digest.update(chunk)
      if (keep) this.#chunks.push(chunk)
    })
    this.complete = new Promise((resolve, reject) => {
      res.once("end", () => resolve(Buffer.concat(this.#chunks)))
      res.once("error", reject)
      res.once("aborted", () => reject(new Error("response aborted")))
      res.once("close", () => {
        if (!res.complete) reject(new Error("connection closed before the response completed"))
      })
    })
    this.complete.catch(() => {}) // observed by whoever awaits it
  }

  get bytes(): number {
    return this.digest.bytes
  }

  text(): string {
    return Buffer.concat(this.#chunks).toString("utf8")
  }

  async waitForBytes(bytes: number, timeoutMs = 10_000): Promise<void> {
    await waitFor(() => this.bytes >= bytes, { what: `${bytes} response bytes`, timeoutMs })
  }

  async waitForText(text: string, timeoutMs = 10_000): Promise<void> {
    await waitFor(() => this.text().includes(text), { what: `${JSON.stringify(text)} in the response`, timeoutMs })
  }
}
