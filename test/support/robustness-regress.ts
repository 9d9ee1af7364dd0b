import { readFileSync } from "node:fs"
import { expect } from "vitest"
import { sampleValue, scrapeMetrics } from "./hardening-prom.js"
import { waitForReceivers } from "./pipe.js"
import { headValue, RawClient, type RawHead, rawRequest, showBytes } from "./robustness-raw.js"
import type { ServerHandle } from "./server.js"
import { waitFor } from "./wait.js"

/**
 * Helpers for the robustness regression suites (test/robustness/regressions*.test.ts): raw-socket parties
 * whose request bytes go out exactly as written, a multipart body builder, the server's kernel socket queues,
 * and the "waiting parties" gauge.
 */

export type HeaderList = ReadonlyArray<readonly [name: string, value: string | Buffer]>

/** UTF-8 bytes of a text (for a header value sent as raw UTF-8, as curl and browsers do). */
export const utf8 = (text: string): Buffer => Buffer.from(text, "utf8")

/** A request whose header values go out as the bytes given (strings: latin1, one byte per character). */
export const requestBytes = (
  server: ServerHandle,
  method: string,
  target: string,
  headers: HeaderList = [],
  body: Buffer | undefined = undefined,
  version = "HTTP/1.1"
): Buffer =>
  rawRequest(
    `${method} ${target} ${version}`,
    [
      ["Host", `127.0.0.1:${server.port}`],
      ...(body === undefined ? [] : [["Content-Length", String(body.length)] as const]),
      ...headers
    ],
    body
  )

const openClients = new Set<RawClient>()

/** A raw connection sending `bytes`, destroyed by `destroyRawClients()` if the test leaves it open. */
export const rawClient = (server: ServerHandle, bytes: Buffer): RawClient => {
  const client = new RawClient(server.port, bytes)
  openClients.add(client)
  void client.closed.then(() => openClients.delete(client))
  return client
}

/** Destroys every raw connection still open (register with `afterEach`: a failed test leaves no party behind). */
export const destroyRawClients = (): void => {
  openClients.forEach((client) => client.destroy())
  openClients.clear()
}

/** A raw-socket receiver (`GET <target>`) that has been counted by the server as the `k`-th waiting receiver. */
export const rawReceiver = async (
  server: ServerHandle,
  target: string,
  k = 1,
  headers: HeaderList = []
): Promise<RawClient> => {
  const client = rawClient(server, requestBytes(server, "GET", target, headers))
  await waitForReceivers(server, target.split("?")[0] ?? target, k)
  return client
}

/** A raw-socket sender: `PUT <target>` with a Content-Length body, written in one go. */
export const rawSender = (server: ServerHandle, target: string, body: Buffer, headers: HeaderList = []): RawClient =>
  rawClient(server, requestBytes(server, "PUT", target, headers, body))

export interface Part {
  /** Header lines of the part, as bytes (any byte goes out unchanged). */
  readonly headers: ReadonlyArray<Buffer | string>
  readonly content: Buffer
}

/** A `multipart/form-data` body; `close: false` leaves out the closing delimiter. */
export const multipartBody = (
  boundary: string,
  parts: ReadonlyArray<Part>,
  { close = true }: { readonly close?: boolean } = {}
): Buffer =>
  Buffer.concat([
    ...parts.flatMap((part) => [
      Buffer.from(`--${boundary}\r\n`),
      ...part.headers.map((h) =>
        Buffer.concat([typeof h === "string" ? Buffer.from(h, "latin1") : h, Buffer.from("\r\n")])
      ),
      Buffer.from("\r\n"),
      part.content,
      Buffer.from("\r\n")
    ]),
    Buffer.from(close ? `--${boundary}--\r\n` : "")
  ])

/** Every header line of a response head is printable ASCII (0x20–0x7E): valid for Node and for any client. */
export const expectPrintableHead = (head: RawHead | undefined, label: string): void => {
  expect(head, `${label}: a response head`).toBeDefined()
  const bad = (head?.headers ?? []).filter((h) => !/^[\x20-\x7e]+$/.test(h.raw)).map((h) =>
    showBytes(Buffer.from(h.raw, "latin1"))
  )
  expect(bad, `${label}: header lines that are not printable ASCII`).toEqual([])
}

export interface RawOutcome {
  readonly head: RawHead | undefined
  readonly body: Buffer
  /** Complete by its framing (Content-Length, last chunk, or a clean close). */
  readonly complete: boolean
  readonly closed: boolean
  readonly error: string | undefined
}

/**
 * Awaits the end of a response: complete by its framing, or the socket closed, within `timeoutMs`; then
 * closes our side (a receiver's FIN, which the server awaits before it calls the transfer a success).
 */
export const settle = async (client: RawClient, timeoutMs = 10_000): Promise<RawOutcome> => {
  await client.until(() => client.complete() || client.isClosed, timeoutMs)
  const outcome: RawOutcome = {
    head: client.head(),
    body: client.body()?.body ?? Buffer.alloc(0),
    complete: client.complete(),
    closed: client.isClosed,
    error: client.error
  }
  client.destroy()
  return outcome
}

export interface RawTransferResult {
  readonly receivers: ReadonlyArray<RawOutcome>
  readonly sender: RawOutcome
  readonly senderText: string
}

/**
 * One transfer on raw sockets: `receivers` (query strings, e.g. `""`, `"?n=2&filename=x"`) wait first, then the
 * sender's request goes out in one write; every response is awaited to its end.
 */
export const rawTransfer = async (
  server: ServerHandle,
  path: string,
  sender: { readonly body: Buffer; readonly headers?: HeaderList; readonly query?: string },
  receivers: ReadonlyArray<string> = [""],
  timeoutMs = 10_000
): Promise<RawTransferResult> => {
  const clients: Array<RawClient> = []
  for (const [i, query] of receivers.entries()) clients.push(await rawReceiver(server, `${path}${query}`, i + 1))
  const senderClient = rawSender(server, `${path}${sender.query ?? ""}`, sender.body, sender.headers ?? [])
  const outcomes = await Promise.all(clients.map((c) => settle(c, timeoutMs)))
  const senderOutcome = await settle(senderClient, timeoutMs)
  return { receivers: outcomes, sender: senderOutcome, senderText: senderOutcome.body.toString("utf8") }
}

/** The `pipe_waiting_parties` gauge of /metrics. */
export const waitingParties = async (server: ServerHandle): Promise<number> =>
  sampleValue(await scrapeMetrics(server), "pipe_waiting_parties")

/** Awaits `pipe_waiting_parties` 0. */
export const waitForNoWaiting = (server: ServerHandle, timeoutMs = 10_000): Promise<boolean> =>
  waitFor(async () => (await waitingParties(server)) === 0, { what: "pipe_waiting_parties 0", timeoutMs })

const hexEndpoint = (port: number): string => `0100007F:${port.toString(16).toUpperCase().padStart(4, "0")}`

/**
 * Bytes the kernel holds for one loopback TCP connection (both ends are local): the send queue of the end on
 * `fromPort` plus the receive queue of the end on `toPort` (/proc/net/tcp `tx_queue`, `rx_queue`). This is
 * what a peer that never reads can be sent before the sender's own buffers start to fill.
 */
export const kernelQueuedBytes = (fromPort: number, toPort: number): number => {
  const from = hexEndpoint(fromPort)
  const to = hexEndpoint(toPort)
  let total = 0
  for (const line of readFileSync("/proc/net/tcp", "latin1").split("\n").slice(1)) {
    const [, local, remote, , queues] = line.trim().split(/\s+/)
    if (queues === undefined) continue
    const [tx = "0", rx = "0"] = queues.split(":")
    if (local === from && remote === to) total += parseInt(tx, 16)
    if (local === to && remote === from) total += parseInt(rx, 16)
  }
  return total
}

/**
 * Fails at once when the server process is gone (it crashed in an earlier test), instead of letting every later
 * test of the file wait out its timeouts. Register with `beforeEach`.
 */
export const expectServerAlive = (server: ServerHandle): void => {
  try {
    process.kill(server.pid, 0)
  } catch {
    throw new Error(`the server (pid ${server.pid}) is gone: it died in an earlier test; see ${server.logFile}`)
  }
}

/** The JSON log lines of a server log file (other lines skipped). */
export const jsonLogLines = (logFile: string): Array<Record<string, unknown>> =>
  readFileSync(logFile, "utf8")
    .split("\n")
    .flatMap((line) => {
      if (!line.startsWith("{")) return []
      try {
        const value: unknown = JSON.parse(line)
        return typeof value === "object" && value !== null ? [value as Record<string, unknown>] : []
      } catch {
        return []
      }
    })

/** The header value of a raw response head (re-exported for the suites). */
export const rawHeaderValue = (head: RawHead | undefined, name: string): string | undefined => headValue(head, name)
