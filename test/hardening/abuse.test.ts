// Abuse: 1,000 seeded random bad requests on raw sockets (protocol §1 paths, §2 methods and `n`, §3 header
// refusals, §4 negotiation), while a 50 MB transfer runs the whole time. Every answer must be the protocol's
// (one `[ERROR] …` line with the documented status) or Node's own refusal of what is not HTTP (400, 431: no
// body, connection closed); the server must not crash, the transfer must complete intact, and /metrics must
// count every refusal the app made.
import { describe, expect, it } from "vitest"
import { PrngSource } from "../support/data.js"
import { samplesOf, scrapeMetrics } from "../support/hardening-prom.js"
import { pool, Random, suiteSeed } from "../support/hardening-random.js"
import { rawExchange, rawHeader, type RawOutcome, type RawResponse } from "../support/hardening-raw.js"
import { healthz, pipePath, uniqueName, waitForProbe, waitForReceivers } from "../support/pipe.js"
import { useServer } from "../support/server.js"
import { curlReceiver, curlSender } from "../support/transfer.js"
import { waitFor } from "../support/wait.js"

const CASES = 1_000
const AT_ONCE = 16
const TRANSFER_BYTES = 50_000_000

const seed = suiteSeed("abuse")
const server = useServer(["--retention", "0s"])

// ---- what an answer may be --------------------------------------------------------------------------------

type Reason =
  | "InvalidPath"
  | "ReservedPath"
  | "NotFound"
  | "MethodNotAllowed"
  | "InvalidQueryParameter"
  | "ReceiverCountOutOfRange"
  | "ContentRangeUnsupported"
  | "ServiceWorkerRejected"

/** A refusal by the app: exact status, one of the given one-line bodies, text/plain, CORS. */
interface AppRefusal {
  readonly kind: "app"
  readonly status: number
  readonly reason: Reason
  readonly bodies: ReadonlyArray<string>
  readonly headers?: Readonly<Record<string, string>>
}
/** Node's own refusal of a request that is not valid HTTP/1.1 (before the app sees it): no body, closed. */
interface NodeRefusal {
  readonly kind: "node"
  readonly statuses: ReadonlyArray<number>
}
/** The documented answer to a spectator (§4 negotiation): 200 in the negotiated format. */
interface SpectatorAnswer {
  readonly kind: "spectator"
  readonly format: "sse" | "json" | "html"
}
type Allowed = AppRefusal | NodeRefusal | SpectatorAnswer

interface Case {
  readonly category: string
  readonly label: string
  readonly request: Buffer
  readonly allowed: ReadonlyArray<Allowed>
}

const invalidPath: AppRefusal = {
  kind: "app",
  status: 400,
  reason: "InvalidPath",
  bodies: ["[ERROR] Invalid pipe path.\n"]
}
const notFound: AppRefusal = { kind: "app", status: 404, reason: "NotFound", bodies: ["[ERROR] Not found.\n"] }
const reservedPath = (path: string): AppRefusal => ({
  kind: "app",
  status: 400,
  reason: "ReservedPath",
  bodies: [`[ERROR] Cannot send to the reserved path '${path}'.\n`]
})
const methodNotAllowed = (method: string): AppRefusal => ({
  kind: "app",
  status: 405,
  reason: "MethodNotAllowed",
  bodies: [`[ERROR] Unsupported method: ${method}.\n`],
  headers: { allow: "GET, HEAD, POST, PUT, OPTIONS" }
})
const invalidQuery = (name: string): AppRefusal => ({
  kind: "app",
  status: 400,
  reason: "InvalidQueryParameter",
  bodies: [`[ERROR] Invalid query parameter "${name}".\n`]
})
const contentRange: AppRefusal = {
  kind: "app",
  status: 400,
  reason: "ContentRangeUnsupported",
  bodies: ["[ERROR] Content-Range is not supported.\n"]
}
const serviceWorker: AppRefusal = {
  kind: "app",
  status: 400,
  reason: "ServiceWorkerRejected",
  bodies: ["[ERROR] Service Worker registration is rejected.\n"]
}
const nodeBadRequest: NodeRefusal = { kind: "node", statuses: [400] }
const nodeHeadersTooLarge: NodeRefusal = { kind: "node", statuses: [431] }
const nodeExpectationFailed: NodeRefusal = { kind: "node", statuses: [417] }

/** §2: digits only, 1–256. What a single `n` value must be answered with (undefined: it is valid). */
const nRefusal = (value: string): AppRefusal | undefined => {
  if (!/^[0-9]+$/.test(value)) return invalidQuery("n")
  const n = Number(value)
  if (n >= 1 && n <= 256) return undefined
  // "but n = <n>": the value as sent, or without its leading zeros (the protocol does not say which).
  const bodies = [...new Set([value, value.replace(/^0+(?=\d)/, "")])].map((v) =>
    `[ERROR] n must be between 1 and 256, but n = ${v}.\n`
  )
  return { kind: "app", status: 400, reason: "ReceiverCountOutOfRange", bodies }
}

// ---- request bytes ----------------------------------------------------------------------------------------

/** Text whose characters are bytes (latin1): raw control and high bytes go on the wire exactly. */
const utf8 = (text: string): string => Buffer.from(text, "utf8").toString("latin1")

interface Build {
  readonly method: string
  readonly target: string
  readonly headers?: ReadonlyArray<readonly [string, string]>
  /** A body framed with Content-Length (unless the headers already frame it). */
  readonly body?: string
  /** A body sent chunked, in these pieces. */
  readonly chunks?: ReadonlyArray<string>
  readonly version?: string
}

const build = ({ method, target, headers = [], body, chunks, version = "HTTP/1.1" }: Build): Buffer => {
  const lines = [`${method} ${target} ${version}`, "Host: 127.0.0.1", "Connection: close"]
  for (const [name, value] of headers) lines.push(`${name}: ${value}`)
  const framed = headers.some(([n]) => /^(content-length|transfer-encoding)$/i.test(n))
  let payload = ""
  if (chunks !== undefined) {
    if (!framed) lines.push("Transfer-Encoding: chunked")
    payload = `${chunks.map((c) => `${c.length.toString(16)}\r\n${c}\r\n`).join("")}0\r\n\r\n`
  } else if (body !== undefined) {
    if (!framed) lines.push(`Content-Length: ${body.length}`)
    payload = body
  }
  return Buffer.from(`${lines.join("\r\n")}\r\n\r\n${payload}`, "latin1")
}

// ---- the generator ----------------------------------------------------------------------------------------

const alnum = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
const nameChars = `${alnum}._~-`
// Methods Node's parser knows (http.METHODS) that the protocol does not allow; CONNECT and PRI are not requests
// with a path (Node hands CONNECT to a 'connect' listener and rejects PRI).
const knownMethods = [
  "ACL",
  "BIND",
  "CHECKOUT",
  "COPY",
  "DELETE",
  "LINK",
  "LOCK",
  "M-SEARCH",
  "MERGE",
  "MKACTIVITY",
  "MKCALENDAR",
  "MKCOL",
  "MOVE",
  "NOTIFY",
  "PATCH",
  "PROPFIND",
  "PROPPATCH",
  "PURGE",
  "QUERY",
  "REBIND",
  "REPORT",
  "SEARCH",
  "SOURCE",
  "SUBSCRIBE",
  "TRACE",
  "UNBIND",
  "UNLINK",
  "UNLOCK",
  "UNSUBSCRIBE"
]
const reservedPaths = [
  "/",
  "/noscript",
  "/help",
  "/version",
  "/healthz",
  "/api/v1/pipe/health",
  "/metrics",
  "/favicon.ico",
  "/robots.txt"
]

class Generator {
  #count = 0
  constructor(readonly r: Random) {}

  /** A pipe name nobody else uses. */
  fresh(): string {
    return `abuse-${++this.#count}-${this.r.string(6, alnum)}`
  }

  /** A fresh valid pipe path, canonical or bare. */
  validPath(): string {
    const name = this.fresh()
    return this.r.chance(0.5) ? pipePath(name) : `/${name}`
  }

  /** Junk query parameters that decode to none of the protocol's own (`n`, `progress`, `total`, …). */
  junkQuery(): string {
    const alphabet = `${alnum}%=&;[]!$'()*+,:@/?~._-"<>{}|^\`\\#`
    for (;;) {
      const q = Array.from({ length: this.r.int(1, 6) }, () => {
        const long = this.r.chance(0.1)
        return `x${this.r.string(this.r.int(0, 8), alphabet)}=${
          this.r.string(long ? this.r.int(500, 4000) : this.r.int(0, 12), alphabet)
        }`
      }).join(this.r.pick(["&", "&&", ";"]))
      const keys = [...new URLSearchParams(q).keys()]
      if (!keys.some((k) => ["n", "progress", "total", "download", "filename"].includes(k))) return q
    }
  }

  withJunk(target: string): string {
    if (!this.r.chance(0.4)) return target
    return `${target}${target.includes("?") ? "&" : "?"}${this.junkQuery()}`
  }

  /** A pipe path that must be refused as invalid (§1), and whether it holds bytes a parser may refuse first. */
  hostilePath(): { readonly path: string; readonly raw: boolean } {
    const r = this.r
    const seg = () => r.string(r.int(1, 8), nameChars.replace(".", ""))
    const hostile: Array<() => { token: string; raw?: boolean }> = [
      () => ({ token: r.pick(["..", ".", "%2e%2e", "%2E%2E", "%2e", ".%2e", "%2e.", "%2E%2e"]) }),
      () => ({ token: `${seg()}/${r.pick(["..", ".", "%2e%2e", "%2e"])}/${seg()}` }),
      () => ({ token: `${seg()}${r.pick(["%2F", "%2f", "%2f..%2f", "%2F%2E%2E"])}${seg()}` }),
      () => ({ token: `${seg()}${r.pick(["%00", "%00%00", "%0a", "%0d%0a", "%09", "%7f", "%20"])}${seg()}` }),
      () => ({
        token: r.chance(0.5)
          ? "a".repeat(r.int(513, 3000))
          : Array.from({ length: r.int(6, 30) }, () => "b".repeat(100)).join("/")
      }),
      () => ({ token: "%41".repeat(r.int(513, 900)) }),
      () => ({
        token: `${seg()}${r.pick(["caf%C3%A9", "%E2%98%83", "%FF", "%C0%AE%C0%AE", "%F0%9F%92%A9", "%ED%A0%80"])}`
      }),
      () => ({ token: `${seg()}${utf8(r.pick(["é", "☃", "💩", "ß", "\u202e"]))}`, raw: true }),
      () => ({ token: r.pick([`${seg()}//${seg()}`, `/${seg()}`, `${seg()}/`, `${seg()}//`, `${seg()}///${seg()}`]) }),
      () => ({
        token: r.pick([`${seg()}\\${seg()}`, `\\..\\${seg()}`, `..\\`, `${seg()}%5C${seg()}`, `%5C..%5C${seg()}`])
      }),
      () => ({
        token: `${seg()}${
          r.pick(["!", "$", "&", "'", "(", ")", "*", "+", ",", ":", ";", "=", "@", "[", "]", "#x"])
        }${seg()}`
      }),
      () => ({ token: `${seg()}${r.pick(["\"", "<", ">", "{", "}", "|", "^", "`"])}${seg()}`, raw: true }),
      () => ({ token: `${seg()}${r.pick(["%", "%zz", "%2", "%%", "%u002e", "%g0"])}` }),
      () => ({
        token: `${seg()}${r.pick(["\x00", "\x01", "\x07", "\x1b[31m", "\x7f", "\t", "\x0b", "\x0c", " "])}${seg()}`,
        raw: true
      }),
      () => ({ token: `${seg()}${String.fromCharCode(r.int(0x80, 0xff))}${seg()}`, raw: true })
    ]
    const parts = Array.from({ length: r.int(1, 3) }, () => r.pick(hostile)())
    // Joined with "/": a dot token is a segment of its own, never the tail of a valid one ("abc..").
    const name = [r.chance(0.5) ? seg() : "", ...parts.map((p) => p.token)].filter((t) => t !== "").join("/")
    const raw = parts.some((p) => p.raw === true)
    // The bare form must not land under /api/ (a 404 route, not a pipe) nor on a reserved path.
    const bare = !/^(api|\/)/.test(name) && r.chance(0.5)
    return { path: bare ? `/${name}` : pipePath(name), raw }
  }

  /** A refused (n, expectation) pair: invalid syntax, out of range, or repeated with every value bad. */
  badN(): { readonly query: string; readonly refusal: ReadonlyArray<AppRefusal> } {
    const r = this.r
    const invalid = [
      "-1",
      "1e3",
      "0x10",
      "1.0",
      "+1",
      "",
      "abc",
      "1,2",
      "NaN",
      "Infinity",
      " 1",
      "1 ",
      "0b1",
      "1_0",
      "٣",
      "１",
      "0.5",
      "-0",
      "--1",
      "0o7",
      "1e",
      "2^3"
    ]
    const outOfRange = () =>
      r.pick([
        "0",
        "00",
        "000",
        "257",
        "0257",
        "1000",
        "65536",
        "4294967297",
        "999999999999999999999",
        String(r.int(257, 1_000_000)),
        `${r.int(1, 9)}${r.string(r.int(3, 40), "0123456789")}`
      ])
    const one = () => (r.chance(0.5) ? r.pick(invalid) : outOfRange())
    const enc = (
      v: string
    ) => (r.chance(0.8) ? encodeURIComponent(v) : v.replace(/[^\x21-\x7e]/g, (c) => encodeURIComponent(c)))
    const refusal = (v: string): AppRefusal => {
      const found = nRefusal(v)
      if (found === undefined) throw new Error(`n=${v} is valid`)
      return found
    }
    const kind = r.int(0, 5)
    if (kind === 0) return { query: "n", refusal: [invalidQuery("n")] }
    // A raw "+" in a query means a space: the decoded value is what the server judges.
    const decoded = (encoded: string) => new URLSearchParams(`n=${encoded}`).get("n") ?? ""
    if (kind === 1) {
      const values = Array.from({ length: r.int(2, 4) }, () => enc(one()))
      // Repeated n: whichever value the server reads, every one of them must be refused.
      return { query: values.map((v) => `n=${v}`).join("&"), refusal: values.map((v) => refusal(decoded(v))) }
    }
    const encoded = enc(one())
    return { query: `n=${encoded}`, refusal: [refusal(decoded(encoded))] }
  }

  /** Any app-level fault, for the dimensions that need one to be bad (hundreds of headers, GET bodies, …). */
  innerFault(method: "GET" | "PUT"): {
    readonly method: string
    readonly target: string
    readonly headers: Array<readonly [string, string]>
    readonly allowed: ReadonlyArray<Allowed>
  } {
    const r = this.r
    switch (r.int(0, 3)) {
      case 0: {
        const { path, raw } = this.hostilePath()
        return { method, target: path, headers: [], allowed: raw ? [invalidPath, nodeBadRequest] : [invalidPath] }
      }
      case 1: {
        const { query, refusal } = this.badN()
        return { method, target: `${this.validPath()}?${query}`, headers: [], allowed: refusal }
      }
      case 2:
        return method === "GET"
          ? { method, target: this.validPath(), headers: [["Service-Worker", "script"]], allowed: [serviceWorker] }
          : { method, target: this.validPath(), headers: [["Content-Range", "bytes 0-0/1"]], allowed: [contentRange] }
      default: {
        const m = r.pick(knownMethods)
        return { method: m, target: this.validPath(), headers: [], allowed: [methodNotAllowed(m)] }
      }
    }
  }

  smallBody(): string {
    return this.r.string(this.r.int(0, 2048), `${alnum}\x00\x01\xff\r\n `)
  }

  // ---- the categories --------------------------------------------------------------------------------------

  method(): Case {
    const r = this.r
    const target = this.withJunk(
      r.pick([
        this.validPath(),
        this.hostilePath().path.replace(/[^\x21-\x7e]/g, "x"),
        r.pick(reservedPaths),
        "/api/nothing"
      ])
    )
    const body = r.chance(0.3) ? this.smallBody() : undefined
    if (r.chance(0.6)) {
      const m = r.pick(knownMethods)
      return {
        category: "method",
        label: `${m} ${target}`,
        request: build({ method: m, target, ...(body === undefined ? {} : { body }) }),
        allowed: [methodNotAllowed(m)]
      }
    }
    // Garbage tokens: always with a lowercase letter or a digit, so never a method Node knows.
    const m = r.pick([
      () => `${r.string(r.int(1, 6), "ABCDEFGHIJKLMNOPQRSTUVWXYZ")}${r.int(0, 9)}`,
      () => r.pick(["get", "put", "Post", "gEt", "options"]),
      () => `X-${r.string(r.int(1, 10), alnum)}1`,
      () => r.pick(["G3T", "PUTT1", "HTTP", "1", "-", "GET/", "GET\x00", "GE\x7fT", "\x16\x03\x01", "PRI"])
    ])()
    return {
      category: "method",
      label: `${JSON.stringify(m)} ${target}`,
      request: build({ method: m, target, ...(body === undefined ? {} : { body }) }),
      allowed: [nodeBadRequest, methodNotAllowed(m)]
    }
  }

  path(): Case {
    const r = this.r
    const method = r.pick(["GET", "PUT", "POST"])
    const body = method === "GET" ? undefined : this.smallBody()
    const roll = r.next()
    if (roll < 0.1) {
      const path = r.pick(reservedPaths)
      return {
        category: "path",
        label: `PUT-like ${path}`,
        request: build({ method: r.pick(["PUT", "POST"]), target: path, body: this.smallBody() }),
        allowed: [reservedPath(path)]
      }
    }
    if (roll < 0.2) {
      const path = r.pick([
        "/api/",
        "/api",
        "/api/v1",
        "/api/v2/pipe/x",
        "/api/v1/other/x",
        `/api/${this.fresh()}`,
        "/api/v1/pipe2/x"
      ])
      return {
        category: "path",
        label: `${method} ${path}`,
        request: build({ method, target: this.withJunk(path), ...(body === undefined ? {} : { body }) }),
        allowed: [notFound]
      }
    }
    const { path, raw } = this.hostilePath()
    return {
      category: "path",
      label: `${method} ${JSON.stringify(path.slice(0, 80))}${path.length > 80 ? `… (${path.length})` : ""}`,
      request: build({ method, target: this.withJunk(path), ...(body === undefined ? {} : { body }) }),
      allowed: raw ? [invalidPath, nodeBadRequest] : [invalidPath]
    }
  }

  n(): Case {
    const r = this.r
    const method = r.pick(["GET", "PUT", "POST"])
    const { query, refusal } = this.badN()
    const target = this.withJunk(`${this.validPath()}?${query}`)
    const body = method === "GET" ? undefined : this.smallBody()
    return {
      category: "n",
      label: `${method} ?${query.slice(0, 60)}`,
      request: build({ method, target, ...(body === undefined ? {} : { body }) }),
      allowed: refusal
    }
  }

  headers(): Case {
    const r = this.r
    const kind = r.int(0, 7)
    if (kind === 0) {
      const value = r.pick([
        "bytes 0-9/10",
        "bytes */100",
        "bytes 5-1/2",
        "garbage",
        "",
        "bytes=0-",
        `bytes 0-${r.int(1, 1e9)}/*`
      ])
      const n = r.chance(0.3) ? `?n=${r.int(1, 256)}` : ""
      return {
        category: "headers",
        label: `Content-Range ${JSON.stringify(value)}`,
        request: build({
          method: r.pick(["PUT", "POST"]),
          target: `${this.validPath()}${n}`,
          headers: [[r.pick(["Content-Range", "content-range", "CONTENT-RANGE"]), value]],
          body: this.smallBody()
        }),
        allowed: [contentRange]
      }
    }
    if (kind === 1) {
      const query = r.pick(["", "?n=3", "?progress", "?progress=sse", `?${this.junkQuery()}`])
      return {
        category: "headers",
        label: `Service-Worker: script ${query}`,
        request: build({
          method: "GET",
          target: `${this.validPath()}${query}`,
          headers: [[r.pick(["Service-Worker", "service-worker", "SERVICE-WORKER"]), "script"]]
        }),
        allowed: [serviceWorker]
      }
    }
    if (kind === 2) {
      // Headers over Node's 16 KiB cap: one huge header or many.
      const headers: Array<readonly [string, string]> = r.chance(0.5)
        ? [["X-Pad", "p".repeat(r.int(16 * 1024 + 1, 40 * 1024))]]
        : Array.from({ length: r.int(200, 600) }, (_, i) => [`X-Many-${i}`, "m".repeat(80)] as const)
      return {
        category: "headers",
        label: `oversized headers (${headers.length})`,
        request: build({
          method: r.pick(["GET", "PUT"]),
          target: this.validPath(),
          headers,
          ...(r.chance(0.5) ? { body: "x" } : {})
        }),
        allowed: [nodeHeadersTooLarge]
      }
    }
    if (kind === 3) {
      // Hundreds of small headers (under the cap): the request is judged on its own fault, nothing else.
      const method = r.pick(["GET", "PUT"] as const)
      const fault = this.innerFault(method)
      const many = Array.from(
        { length: r.int(100, 700) },
        (_, i) => [`X-H${i}-${r.string(3, alnum)}`, r.string(r.int(0, 6), alnum)] as const
      )
      const m = fault.method
      return {
        category: "headers",
        label: `${many.length} headers + ${fault.allowed[0]?.kind === "app" ? fault.allowed[0].reason : "fault"}`,
        request: build({
          method: m,
          target: fault.target,
          headers: [...fault.headers, ...many],
          ...(m === "GET" ? {} : { body: this.smallBody() })
        }),
        allowed: fault.allowed
      }
    }
    if (kind === 4) {
      // Framing Node must refuse: malformed or contradictory Content-Length, a final coding that is not chunked.
      const framing = r.pick<ReadonlyArray<readonly [string, string]>>([
        [[
          "Content-Length",
          r.pick(["abc", "-1", "1.5", "5, 6", "0x10", "99999999999999999999999", " ", "1e3", "+3", "3 3"])
        ]],
        [["Content-Length", "3"], ["Content-Length", "4"]],
        [["Content-Length", "3"], ["Transfer-Encoding", "chunked"]],
        [["Transfer-Encoding", r.pick(["gzip", "chunked, gzip", "deflate"])]]
      ])
      return {
        category: "headers",
        label: `framing ${JSON.stringify(framing)}`,
        request: build({
          method: r.pick(["PUT", "POST", "GET"]),
          target: this.validPath(),
          headers: framing,
          body: "abc"
        }),
        allowed: [nodeBadRequest]
      }
    }
    if (kind === 5) {
      // Header syntax Node must refuse: control bytes, a space before the colon, obs-fold, no colon, no Host.
      const line = r.pick([
        `X-Ctl: a${String.fromCharCode(r.pick([0, 1, 8, 0x1b, 0x7f]))}b`,
        "X-Space : v",
        "Bad Header: v",
        "X-NoColon",
        ": empty-name",
        "X-A: v\r\n folded",
        "X-\x00: v"
      ])
      const request = r.chance(0.2)
        ? Buffer.from(`GET ${this.validPath()} HTTP/1.1\r\nConnection: close\r\n\r\n`, "latin1")
        : Buffer.from(
          `GET ${this.validPath()} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n${line}\r\n\r\n`,
          "latin1"
        )
      return { category: "headers", label: `header syntax ${JSON.stringify(line)}`, request, allowed: [nodeBadRequest] }
    }
    // Hostile but well-formed values (high bytes, huge, odd encodings) on an otherwise bad request.
    const method = r.pick(["GET", "PUT"] as const)
    const fault = this.innerFault(method)
    const m = fault.method
    const odd: Array<readonly [string, string]> = [
      [
        r.pick([
          "X-Piping",
          "Content-Type",
          "Content-Disposition",
          "Accept",
          "User-Agent",
          "Cookie",
          "Expect",
          "Transfer-Encoding"
        ]),
        r.pick([
          r.string(r.int(0, 4000), `${alnum}\x80\xff\xe9 ;=,"'`),
          "identity",
          "multipart/form-data; boundary=",
          "100-continue",
          "attachment; filename=\"../../etc/passwd\""
        ])
      ]
    ]
    const expect = odd.some(([name, value]) => name === "Expect" && value.toLowerCase() !== "100-continue")
    return {
      category: "headers",
      label: `odd ${odd[0]?.[0]} + ${fault.allowed[0]?.kind === "app" ? fault.allowed[0].reason : "fault"}`,
      request: build({
        method: m,
        target: fault.target,
        headers: [...fault.headers, ...odd],
        ...(m === "GET" ? {} : { body: this.smallBody() })
      }),
      // An Expect other than 100-continue: Node answers 417 itself (RFC 9110 §10.1.1) before the app sees it,
      // unless its parser refused the request first (raw bytes in the path or the value).
      allowed: expect ? [nodeExpectationFailed, nodeBadRequest] : [...fault.allowed, nodeBadRequest]
    }
  }

  getBody(): Case {
    const r = this.r
    const fault = this.innerFault("GET")
    const m = fault.method
    const body = r.string(r.int(1, 32 * 1024), `${alnum}\x00\xff\r\n`)
    const chunked = r.chance(0.4)
    const pieces: Array<string> = []
    for (let at = 0; at < body.length;) {
      const size = r.int(1, 8192)
      pieces.push(body.slice(at, at + size))
      at += size
    }
    return {
      category: "get-body",
      label: `${m} with a ${body.length}-byte ${chunked ? "chunked " : ""}body`,
      request: build({
        method: m,
        target: fault.target,
        headers: fault.headers,
        ...(chunked ? { chunks: pieces } : { body })
      }),
      allowed: fault.allowed
    }
  }

  accept(): Case {
    const r = this.r
    const explicit = r.pick([
      "",
      "=",
      "=1",
      "=SSE",
      "=Json",
      "=HTML",
      "=xml",
      "=ssex",
      `=${r.string(r.int(1, 20), alnum)}`,
      "=sse",
      "=json",
      "=html"
    ])
    const accepts = Array.from({ length: r.int(1, 3) }, () =>
      r.pick([
        () => r.string(r.int(0, 200), `${alnum} /*;=,.+-"'()<>@[]{}?`),
        () =>
          `${r.string(r.int(0, 30), alnum)}${
            r.pick(["text/html", "TEXT/HTML", "application/json", "Application/JSON", "text/event-stream", "*/*"])
          }${r.string(r.int(0, 30), alnum)}`,
        () =>
          r.pick(["*/*;q=abc", "text/*;q=-1", ";;;;", ",,,", "application/json;q=0", "text/html;q=0", "image/svg+xml"]),
        () => r.string(r.int(1000, 4000), `${alnum},;=/`),
        () => `text/${utf8("ĥtml")}`
      ])())
    const query = this.withJunk(`?progress${explicit}`)
    const value = explicit.slice(1)
    const joined = accepts.join(", ").toLowerCase()
    const format = value === "sse" || value === "json" || value === "html"
      ? value
      : joined.includes("text/html")
      ? "html"
      : joined.includes("application/json")
      ? "json"
      : "sse"
    const nonAscii = accepts.some((a) => /[^\x20-\x7e]/.test(a))
    return {
      category: "accept",
      label: `?progress${explicit} Accept ${JSON.stringify(accepts.join(", ").slice(0, 60))} → ${format}`,
      request: build({
        method: "GET",
        target: `${this.validPath()}${query}`,
        headers: accepts.map((a) => ["Accept", a] as const)
      }),
      allowed: nonAscii ? [{ kind: "spectator", format }, nodeBadRequest] : [{ kind: "spectator", format }]
    }
  }

  query(): Case {
    const r = this.r
    if (r.chance(0.5)) {
      const total = r.pick(["-1", "1e9", "abc", "1.5", "", "0x10", "99999999999999999999", "+5", " 5", "5 ", "٣"])
      const target = `${this.validPath()}?${r.chance(0.5) ? `${this.junkQuery()}&` : ""}total=${
        encodeURIComponent(total)
      }${r.chance(0.3) ? `&n=${r.int(1, 256)}` : ""}`
      return {
        category: "query",
        label: `total=${JSON.stringify(total)}`,
        request: build({ method: r.pick(["PUT", "POST"]), target, body: this.smallBody() }),
        allowed: [invalidQuery("total")]
      }
    }
    const method = r.pick(["GET", "PUT"] as const)
    const fault = this.innerFault(method)
    const m = fault.method
    const target = `${fault.target}${fault.target.includes("?") ? "&" : "?"}${this.junkQuery()}`
    return {
      category: "query",
      label: `junk query + ${fault.allowed[0]?.kind === "app" ? fault.allowed[0].reason : "fault"}`,
      request: build({ method: m, target, headers: fault.headers, ...(m === "GET" ? {} : { body: this.smallBody() }) }),
      allowed: fault.allowed
    }
  }

  /**
   * One case for every item the hardening brief names, whatever the seed; the random cases come after.
   */
  coverage(): Array<Case> {
    const c = (category: string, label: string, b: Build, allowed: ReadonlyArray<Allowed>): Case => ({
      category,
      label,
      request: build(b),
      allowed
    })
    const valid = () => this.validPath()
    const nCase = (query: string, allowed: ReadonlyArray<Allowed>, method = "GET"): Case =>
      c("n", `${method} ?${query}`, {
        method,
        target: `${valid()}?${query}`,
        ...(method === "GET" ? {} : { body: "x" })
      }, allowed)
    const outOfRange = (n: string) => nRefusal(n) ?? invalidQuery("n")
    return [
      ...["DELETE", "PATCH", "PROPFIND"].map((m) =>
        c("method", m, { method: m, target: valid() }, [methodNotAllowed(m)])
      ),
      c("method", "FOOBAR1", { method: "FOOBAR1", target: valid() }, [nodeBadRequest, methodNotAllowed("FOOBAR1")]),
      ...[
        "/api/v1/pipe/a/../b",
        "/a/..",
        "/api/v1/pipe/%2e%2e",
        "/%2E%2e/b",
        "/api/v1/pipe/a%2Fb",
        "/a%00b",
        `/${"a".repeat(513)}`,
        "/api/v1/pipe/caf%C3%A9",
        "/api/v1/pipe/a//b",
        "//a",
        "/a\\b",
        "/api/v1/pipe/a%5Cb"
      ].flatMap((path) =>
        ["GET", "PUT"].map((method) =>
          c("path", `${method} ${path.slice(0, 40)}`, {
            method,
            target: path,
            ...(method === "PUT" ? { body: "x" } : {})
          }, [invalidPath])
        )
      ),
      ...[`/caf${utf8("é")}`, "/a\x01b", "/a\x00b", "/a\x7fb", "/a b"].map((path) =>
        c("path", `raw ${JSON.stringify(path)}`, { method: "GET", target: path }, [nodeBadRequest, invalidPath])
      ),
      nCase("n=0", [outOfRange("0")]),
      nCase("n=-1", [invalidQuery("n")], "PUT"),
      nCase("n=1e3", [invalidQuery("n")]),
      nCase("n=0x10", [invalidQuery("n")], "PUT"),
      nCase("n=257", [outOfRange("257")]),
      nCase("n=999999999999999999999", [outOfRange("999999999999999999999")], "PUT"),
      nCase("n=", [invalidQuery("n")]),
      nCase("n", [invalidQuery("n")], "PUT"),
      nCase("n=0&n=-1", [outOfRange("0"), invalidQuery("n")]),
      c("headers", "Content-Range on PUT", {
        method: "PUT",
        target: valid(),
        headers: [["Content-Range", "bytes 0-0/1"]],
        body: "x"
      }, [contentRange]),
      c("headers", "Service-Worker: script", {
        method: "GET",
        target: valid(),
        headers: [["Service-Worker", "script"]]
      }, [serviceWorker]),
      c("headers", "a 17 KiB header", { method: "GET", target: valid(), headers: [["X-Pad", "p".repeat(17 * 1024)]] }, [
        nodeHeadersTooLarge
      ]),
      c("headers", "500 headers + invalid path", {
        method: "GET",
        target: "/api/v1/pipe/a/../b",
        headers: Array.from({ length: 500 }, (_, i) => [`X-H${i}`, "v"] as const)
      }, [invalidPath]),
      c("headers", "Content-Length: abc", {
        method: "PUT",
        target: valid(),
        headers: [["Content-Length", "abc"]],
        body: "abc"
      }, [nodeBadRequest]),
      c("headers", "two Content-Lengths", {
        method: "PUT",
        target: valid(),
        headers: [["Content-Length", "3"], ["Content-Length", "4"]],
        body: "abc"
      }, [nodeBadRequest]),
      c("get-body", "GET with a body + n=0", { method: "GET", target: `${valid()}?n=0`, body: "a body on a GET" }, [
        outOfRange("0")
      ]),
      c("get-body", "GET with a chunked body + Service-Worker", {
        method: "GET",
        target: valid(),
        headers: [["Service-Worker", "script"]],
        chunks: ["ab", "cd"]
      }, [serviceWorker]),
      c("accept", "garbage Accept → sse", {
        method: "GET",
        target: `${valid()}?progress`,
        headers: [["Accept", ";;;,,garbage/*;q=x"]]
      }, [{ kind: "spectator", format: "sse" }]),
      c("accept", "garbage Accept with application/json", {
        method: "GET",
        target: `${valid()}?progress=1`,
        headers: [["Accept", "x/y, application/json;q=oops"]]
      }, [{ kind: "spectator", format: "json" }]),
      c("accept", "garbage ?progress value, Accept text/html", {
        method: "GET",
        target: `${valid()}?progress=%00`,
        headers: [["Accept", "TEXT/HTML;;"]]
      }, [{ kind: "spectator", format: "html" }]),
      c("query", "total=abc", { method: "PUT", target: `${valid()}?total=abc`, body: "x" }, [invalidQuery("total")]),
      c("query", "junk query + invalid path", { method: "GET", target: `/a/../b?${this.junkQuery()}` }, [invalidPath])
    ]
  }

  next(): Case {
    for (;;) {
      const c = this.#any()
      // Only the oversized-header cases may reach Node's 16 KiB cap (request line included); others are redrawn.
      const oversized = c.allowed.some((a) => a.kind === "node" && a.statuses.includes(431))
      if (oversized || c.request.indexOf("\r\n\r\n") < 14 * 1024) return c
    }
  }

  #any(): Case {
    const roll = this.r.next()
    if (roll < 0.14) return this.method()
    if (roll < 0.4) return this.path()
    if (roll < 0.55) return this.n()
    if (roll < 0.77) return this.headers()
    if (roll < 0.85) return this.getBody()
    if (roll < 0.92) return this.accept()
    return this.query()
  }
}

// ---- judging an answer ------------------------------------------------------------------------------------

type Verdict = { readonly ok: true; readonly matched: Allowed } | { readonly ok: false; readonly why: string }

const describeOutcome = (o: RawOutcome): string =>
  o.kind === "response"
    ? `${o.status} ${JSON.stringify(o.headers)} ${JSON.stringify(o.body.toString("latin1").slice(0, 200))}`
    : `${o.kind} ${JSON.stringify(o.received.toString("latin1").slice(0, 200))}${"error" in o ? ` (${o.error})` : ""}`

const matches = (r: RawResponse, allowed: Allowed): string | undefined => {
  const body = r.body.toString("utf8")
  switch (allowed.kind) {
    case "app": {
      if (r.status !== allowed.status) return `status ${r.status} ≠ ${allowed.status}`
      if (!allowed.bodies.includes(body)) return `body ${JSON.stringify(body)} ∉ ${JSON.stringify(allowed.bodies)}`
      if (!/^text\/plain/.test(rawHeader(r, "content-type") ?? "")) {
        return `content-type ${rawHeader(r, "content-type")}`
      }
      if (rawHeader(r, "access-control-allow-origin") !== "*") return "no Access-Control-Allow-Origin: *"
      for (const [name, value] of Object.entries(allowed.headers ?? {})) {
        if (rawHeader(r, name) !== value) return `${name}: ${rawHeader(r, name)} ≠ ${value}`
      }
      return undefined
    }
    case "node":
      if (!allowed.statuses.includes(r.status)) return `status ${r.status} ∉ ${allowed.statuses.join("/")}`
      if (body !== "") return `Node's own refusal has a body ${JSON.stringify(body)}`
      if (!/close/i.test(rawHeader(r, "connection") ?? "")) return "Node's own refusal without Connection: close"
      return undefined
    case "spectator": {
      if (r.status !== 200) return `status ${r.status} ≠ 200`
      const type = rawHeader(r, "content-type") ?? ""
      const wanted = { sse: /^text\/event-stream/, json: /^application\/json/, html: /^text\/html/ }[allowed.format]
      if (!wanted.test(type)) return `content-type ${type} for ${allowed.format}`
      if (allowed.format === "sse" && !/event: state\nid: \d+\ndata: \{"state":"idle"/.test(body)) {
        return `SSE without the idle state first: ${JSON.stringify(body.slice(0, 200))}`
      }
      if (allowed.format === "json" && (JSON.parse(body) as { state?: unknown }).state !== "idle") {
        return `JSON snapshot ${body.slice(0, 200)}`
      }
      if (allowed.format === "html" && !/<html/i.test(body)) return "HTML dashboard without <html"
      return undefined
    }
  }
}

const judge = (c: Case, o: RawOutcome): Verdict => {
  if (o.kind !== "response") return { ok: false, why: `${c.category} ${c.label}: no answer — ${describeOutcome(o)}` }
  const misses: Array<string> = []
  for (const allowed of c.allowed) {
    const miss = matches(o, allowed)
    if (miss === undefined) return { ok: true, matched: allowed }
    misses.push(`${allowed.kind}: ${miss}`)
  }
  return { ok: false, why: `${c.category} ${c.label}: ${misses.join("; ")} — got ${describeOutcome(o)}` }
}

/** Reads an SSE answer only up to its first event; everything else to its end. */
const exchange = (c: Case): Promise<RawOutcome> =>
  rawExchange(server().port, c.request, {
    timeoutMs: 10_000,
    enough: (head, body) =>
      /event-stream/.test(head.headers.find(([n]) => n.toLowerCase() === "content-type")?.[1] ?? "") &&
      /event: state\n[^]*?\n\n/.test(body.toString("utf8"))
  })

// ---- the test ---------------------------------------------------------------------------------------------

const rejectedByReason = async (): Promise<Record<string, number>> =>
  Object.fromEntries(
    samplesOf(await scrapeMetrics(server()), "pipe_rejected_requests_total").map((
      s
    ) => [s.labels["reason"] ?? "", s.value])
  )

/** The server process still runs (signal 0 reaches it) and /healthz answers ok. */
const alive = async (): Promise<boolean> => {
  try {
    process.kill(server().pid, 0)
  } catch {
    return false
  }
  return (await healthz(server())).status === "ok"
}

describe("abuse: 1,000 bad requests while a 50 MB transfer runs", () => {
  it(
    "every answer is the protocol's or Node's own refusal, no crash, the transfer intact, every refusal counted",
    async () => {
      const random = new Random(seed)
      const generator = new Generator(random)
      const fixed = generator.coverage()
      const cases = [...fixed, ...Array.from({ length: CASES - fixed.length }, () => generator.next())]
      const before = await rejectedByReason()

      // The transfer: released in step with the abuse, so it streams from the first bad request to the last.
      const path = pipePath(uniqueName("abuse-transfer"))
      const source = new PrngSource(`${seed}/transfer`, { size: TRANSFER_BYTES, holdAt: 0 })
      const receiver = curlReceiver(server(), path)
      await waitForReceivers(server(), path, 1)
      const sender = curlSender(server(), path, source)
      await waitForProbe(server(), path, (p) => p.state === "streaming", "the transfer streaming")

      let answered = 0
      const started = performance.now()
      const verdicts = await pool(cases.length, AT_ONCE, async (i) => {
        const c = cases[i] as Case
        const verdict = judge(c, await exchange(c))
        answered++
        source.release(Math.floor((TRANSFER_BYTES * 0.98 * answered) / CASES))
        if (answered % 250 === 0 && !(await alive())) throw new Error(`the server died after ${answered} bad requests`)
        return verdict
      })
      const abuseSeconds = (performance.now() - started) / 1000
      const streamingAtEnd = await waitForProbe(server(), path, () => true, "probe")
      source.release()
      const [sent, received] = await Promise.all([sender.result, receiver.result])

      const failures = verdicts.flatMap((v) => (v.ok ? [] : [v.why]))
      const appRefusals: Record<string, number> = {}
      const tally: Record<string, number> = {}
      verdicts.forEach((v, i) => {
        const key = `${cases[i]?.category}/${v.ok ? v.matched.kind : "FAIL"}`
        tally[key] = (tally[key] ?? 0) + 1
        if (v.ok && v.matched.kind === "app") appRefusals[v.matched.reason] = (appRefusals[v.matched.reason] ?? 0) + 1
      })
      const after = await rejectedByReason()
      const counted = Object.fromEntries(
        Object.keys(appRefusals).map((reason) => [reason, (after[reason] ?? 0) - (before[reason] ?? 0)])
      )
      const appTotal = Object.values(appRefusals).reduce((a, b) => a + b, 0)
      const countedTotal = Object.entries(after).reduce((sum, [reason, v]) => sum + v - (before[reason] ?? 0), 0)
      console.log(
        `[abuse] ${CASES} bad requests in ${abuseSeconds.toFixed(1)} s, ${AT_ONCE} at a time; answers ${
          JSON.stringify(tally)
        }; ` +
          `app refusals ${appTotal} ${JSON.stringify(appRefusals)}; /metrics counted ${countedTotal} ${
            JSON.stringify(counted)
          }; ` +
          `transfer ${received.bytes} bytes, state at the end of the abuse: ${streamingAtEnd.state}`
      )

      expect(failures.slice(0, 30), `${failures.length} wrong answers`).toEqual([])
      expect(await alive()).toBe(true)
      expect(streamingAtEnd.state, "the transfer was still streaming when the abuse ended").toBe("streaming")
      expect({ sender: sent.code, receiver: received.code, bytes: received.bytes, sha256: received.sha256 }).toEqual({
        sender: 0,
        receiver: 0,
        bytes: TRANSFER_BYTES,
        sha256: source.digest.hex()
      })
      expect(sent.stdoutText).toContain("[INFO] All receiver(s) received successfully.\n")
      for (const [reason, count] of Object.entries(appRefusals)) {
        expect(
          counted[reason],
          `pipe_rejected_requests_total{reason="${reason}"}`
        ).toBeGreaterThanOrEqual(count)
      }
      expect(countedTotal).toBeGreaterThanOrEqual(appTotal)
      // The spectators the negotiation cases opened were dropped by us: nothing of the abuse stays behind.
      await waitFor(
        async () => ((h) => h.pipes === 0 && h.transfers === 0 && h.spectators === 0)(await healthz(server())),
        {
          what: "/healthz pipes, transfers and spectators 0 after the abuse"
        }
      )
    },
    120_000
  )
})
