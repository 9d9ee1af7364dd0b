import type { Schema, Scope } from "effect"
import { Context, Deferred, Effect, FileSystem, Layer, Option, Schedule, Stream } from "effect"
import * as HttpApiClient from "effect/http-api/HttpApiClient"
import * as Headers from "effect/http/Headers"
import * as HttpClient from "effect/http/HttpClient"
import type * as HttpClientError from "effect/http/HttpClientError"
import * as HttpClientRequest from "effect/http/HttpClientRequest"
import type * as HttpClientResponse from "effect/http/HttpClientResponse"
import type { PlatformError } from "effect/PlatformError"
import type { PipeError } from "../domain/PipeError.js"
import { decodeRejection } from "../domain/PipeError.js"
import type { Health } from "../schema/Health.js"
import { PipeApi } from "../schema/PipeApi.js"
import type { DoneEvent, PipeEvent, ProgressEvent, StateEvent } from "../schema/PipeEvent.js"
import type { Snapshot } from "../schema/Snapshot.js"
import { decodeSseFrame, makeSseParser } from "../schema/Sse.js"
import { ConnectionFailed, ResultUnavailable, SendFailed, TransferBroken, UnexpectedResponse } from "./ClientError.js"
import { pipeName, pipePath, trimBaseUrl } from "./PipeUrl.js"
import { allReceivedMessage, parseSenderLine, SendUpdate } from "./SenderStatus.js"
import { makeUntilDone, type UntilDone } from "./UntilDone.js"

// ---- the service's vocabulary ------------------------------------------------------------------------

/**
 * What to send: a byte stream, a file path, or any async iterable of bytes (a Node `Readable`, `process.stdin`).
 * Every form is streamed as the connection drains it, never read whole into memory.
 */
export type SendBody = Stream.Stream<Uint8Array, unknown> | string | AsyncIterable<Uint8Array>

export interface SendOptions {
  /** Receivers of this transfer (`?n`, protocol §2); the server checks the range. */
  readonly n?: number
  /** Expected byte count of a body of unknown length (`?total`), for spectators' percent and ETA. */
  readonly total?: number
  /** The receivers' `Content-Type`; default `application/octet-stream`. */
  readonly contentType?: string
  /** Offered to the receivers as `Content-Disposition: attachment; filename=…`. */
  readonly filename?: string
}

export interface SendResult {
  /** Bytes of the body that went out. */
  readonly bytes: number
  /** The server's `[INFO]` lines, in order, without the prefix. */
  readonly messages: ReadonlyArray<string>
}

export interface ReceiveOptions {
  /** Receivers of this transfer (`?n`); every party of one transfer must give the same. */
  readonly n?: number
}

/** A transfer as a receiver gets it once it has started: what the sender declared, then the bytes. */
export interface Incoming {
  readonly contentLength: Option.Option<number>
  readonly contentType: Option.Option<string>
  readonly contentDisposition: Option.Option<string>
  /** Fails with `TransferBroken` when the connection breaks or ends short: it never ends cleanly on a broken transfer. */
  readonly stream: Stream.Stream<Uint8Array, TransferBroken>
}

export interface WatchOptions {
  /**
   * End the stream with the `done` of one transfer (protocol §10): the one waiting or streaming when the watch
   * connects, else the next one to start. A transfer that had already ended then is left out, its replayed
   * `done` included: an old result never ends the watch. Asks the server for `?until=done` too.
   */
  readonly untilDone?: boolean
  /**
   * When to reconnect after the connection drops or the server ends it (it does after `--spectator-ttl`).
   * Default: exponential from 100 ms, capped at 5 s, forever; reset once events flow again. Not retried:
   * refusals (429, 400, …), and a server that could not be reached by the first connection.
   */
  readonly reconnect?: Schedule.Schedule<unknown, WatchError>
}

export type SendError = PipeError | ConnectionFailed | TransferBroken | SendFailed | UnexpectedResponse | PlatformError
export type ReceiveError = PipeError | ConnectionFailed | TransferBroken | UnexpectedResponse
export type WatchError = PipeError | ConnectionFailed | UnexpectedResponse | ResultUnavailable
export type QueryError = PipeError | ConnectionFailed | UnexpectedResponse

export interface PipeClientOptions {
  /** The server, e.g. `http://127.0.0.1:8080` (a reverse proxy's prefix is kept: `https://host/pipe`). */
  readonly baseUrl: string
  /**
   * A token of the server's `--tokens-file`, or a signed one (`pipe token`), sent as `Authorization: Bearer`
   * on every request (protocol §12). Never put in a URL by the client.
   */
  readonly token?: string
}

/**
 * A pipe server's client. Every `path` names a pipe as `name`, `a/b`, `/name` or `/api/v1/pipe/name`.
 */
export interface PipeClientService {
  readonly baseUrl: string
  /** Sends a body as the path's sender and waits for the outcome: ok once every receiver got everything. */
  readonly send: (path: string, body: SendBody, options?: SendOptions) => Effect.Effect<SendResult, SendError>
  /** `send` as it happens: the server's `[INFO]` lines and the upload's byte count; fails as `send` does. */
  readonly sendUpdates: (path: string, body: SendBody, options?: SendOptions) => Stream.Stream<SendUpdate, SendError>
  /** Receives the path's next transfer; see `Incoming.stream`. */
  readonly receive: (path: string, options?: ReceiveOptions) => Stream.Stream<Uint8Array, ReceiveError>
  /** `receive` with the transfer's headers; waits until the transfer starts. The scope holds the connection. */
  readonly openReceive: (path: string, options?: ReceiveOptions) => Effect.Effect<Incoming, ReceiveError, Scope.Scope>
  /** The path's JSON snapshot (protocol §4.2). */
  readonly snapshot: (path: string) => Effect.Effect<Snapshot, QueryError>
  /** `GET /healthz` (protocol §6). */
  readonly health: Effect.Effect<Health, QueryError>
  /** The path's spectator events, decoded, across reconnections; see `WatchOptions`. */
  readonly watch: (path: string, options?: WatchOptions) => Stream.Stream<PipeEvent, WatchError>
}

// ---- helpers ---------------------------------------------------------------------------------------------

const causeMessage = (cause: unknown): string => {
  const inner = typeof cause === "object" && cause !== null && "cause" in cause ? cause.cause : undefined
  const error = inner instanceof Error ? inner : cause instanceof Error ? cause : undefined
  return error === undefined ? String(cause) : error.message
}

/** Undici's "no response head in time", wherever it sits in a chain of causes. */
const isHeadersTimeout = (error: unknown): boolean => {
  for (let cause = error, depth = 0; typeof cause === "object" && cause !== null && depth < 5; depth++) {
    if ("code" in cause && cause.code === "UND_ERR_HEADERS_TIMEOUT") return true
    cause = "cause" in cause ? cause.cause : undefined
  }
  return false
}

const header = (response: HttpClientResponse.HttpClientResponse, name: string): Option.Option<string> =>
  Headers.get(response.headers, name)

const contentLengthOf = (response: HttpClientResponse.HttpClientResponse): Option.Option<number> =>
  header(response, "content-length").pipe(Option.filter((raw) => /^\d+$/.test(raw)), Option.map(Number))

/** RFC 6266: a plain ASCII fallback for old clients, the exact name in `filename*`. */
const attachment = (filename: string): string => {
  const fallback = filename.replace(/[^\x20-\x7e]|["\\]/g, "_")
  // RFC 5987 allows fewer characters unencoded than encodeURIComponent leaves alone.
  const exact = encodeURIComponent(filename).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
  return `attachment; filename="${fallback}"; filename*=UTF-8''${exact}`
}

/** No trace headers: the pipe server ignores them, and a sender's headers are relayed to its receivers. */
const withoutTracePropagation = <E, R>(client: HttpClient.HttpClient.With<E, R>): HttpClient.HttpClient.With<E, R> =>
  HttpClient.transform(client, (effect) => Effect.provideService(effect, HttpClient.TracerPropagationEnabled, false))

/** Every request carries the token, when there is one. */
const withToken = <E, R>(
  client: HttpClient.HttpClient.With<E, R>,
  token: string | undefined
): HttpClient.HttpClient.With<E, R> =>
  token === undefined || token === "" ? client : HttpClient.mapRequest(client, HttpClientRequest.bearerToken(token))

/**
 * A pipe's name is one path parameter of the API that may span segments (`a/b`), and HttpApiClient
 * percent-encodes a parameter whole. Its `/` are restored here: encodeURIComponent makes `%2F` out of a `/` alone
 * (a `%` the name held becomes `%25`), and the name was checked segment by segment before the request.
 */
const nameSegmentsKept = (client: HttpClient.HttpClient): HttpClient.HttpClient =>
  HttpClient.mapRequest(
    client,
    HttpClientRequest.updateUrl((url) =>
      url.replace(/(\/api\/v1\/pipe\/)([^?#]*)/, (_, prefix: string, name: string) =>
        prefix + name.replaceAll("%2F", "/"))
    )
  )

/** Large reads: the cost of a transfer is per chunk, and 1 MiB bounds what is in flight all the same. */
const fileChunkSize = 1024 * 1024

/** `watch`'s default reconnection policy: exponential from 100 ms, capped at 5 s, forever. */
export const defaultReconnect: Schedule.Schedule<unknown, WatchError> = Schedule.min([
  Schedule.exponential("100 millis"),
  Schedule.spaced("5 seconds")
])

const watchedEvents: ReadonlySet<string> = new Set<PipeEvent["event"]>(["state", "progress", "done"])

const sameState = (a: StateEvent, b: StateEvent): boolean =>
  a.state === b.state && a.transferId === b.transferId && a.sender === b.sender &&
  a.receivers === b.receivers && a.expectedReceivers === b.expectedReceivers

/**
 * On every (re)connection the server first replays the path's current snapshot (protocol §4.1). The first
 * connection's replay is news; a reconnection's replay mostly repeats what was already seen, so this drops
 * the repeats: a replayed `state` or `progress` equal to the last one, and any `done` of a transfer whose
 * `done` was already seen (it comes exactly once per transfer). Live events always pass.
 */
const makeReplayFilter = () => {
  let connections = 0
  let replaying = false
  let lastState: StateEvent | undefined
  let lastProgress: ProgressEvent | undefined
  let lastDone: DoneEvent | undefined
  const isRepeat = (event: PipeEvent): boolean => {
    switch (event.event) {
      case "state":
        return lastState !== undefined && sameState(lastState, event)
      case "progress":
        return lastProgress?.transferId === event.transferId && lastProgress.bytes === event.bytes
      case "done":
        return lastDone?.transferId === event.transferId
    }
  }
  return {
    connected: () => {
      connections++
      replaying = true
    },
    hasConnected: () => connections > 0,
    keep: (event: PipeEvent): boolean => {
      const repeat = isRepeat(event) && (replaying || event.event === "done")
      if (!repeat) replaying = false
      if (event.event === "state") lastState = event
      else if (event.event === "progress") lastProgress = event
      else lastDone = event
      return !repeat
    }
  }
}

// ---- the service -----------------------------------------------------------------------------------------

export const make = (
  options: PipeClientOptions
): Effect.Effect<PipeClientService, never, HttpClient.HttpClient | FileSystem.FileSystem> =>
  Effect.gen(function*() {
    const baseUrl = trimBaseUrl(options.baseUrl)
    const fs = yield* FileSystem.FileSystem
    const http = withToken(withoutTracePropagation(yield* HttpClient.HttpClient), options.token)
    // Each request lives exactly as long as the scope of whoever reads its response: closing it aborts.
    const scopedHttp = HttpClient.withScope(http)
    const api = yield* HttpApiClient.make(PipeApi, {
      baseUrl,
      transformClient: (client) => nameSegmentsKept(withToken(withoutTracePropagation(client), options.token))
    })

    const urlOf = (path: string) =>
      Effect.map(Effect.fromResult(pipePath(path)), (canonical) => `${baseUrl}${canonical}`)

    const unreachable = (error: HttpClientError.HttpClientError) =>
      new ConnectionFailed({ message: `Cannot reach ${baseUrl}: ${causeMessage(error)}`, cause: error })

    const execute = (request: HttpClientRequest.HttpClientRequest) =>
      scopedHttp.execute(request).pipe(Effect.mapError(unreachable))

    /** A refusal: the status's tagged error with the server's message, or `UnexpectedResponse`. */
    const refuse = (response: HttpClientResponse.HttpClientResponse) =>
      response.text.pipe(
        Effect.orElseSucceed(() => ""),
        Effect.flatMap((body) =>
          Effect.fail(
            decodeRejection(response.status, body) ??
              new UnexpectedResponse({
                status: response.status,
                message: `Unexpected HTTP ${response.status}${body === "" ? "" : `: ${body.trim().split("\n")[0]}`}`
              })
          )
        )
      )

    /** The API's own failures, in the client's terms. */
    const fromApi = <A>(
      effect: Effect.Effect<A, PipeError | HttpClientError.HttpClientError | Schema.SchemaError>
    ): Effect.Effect<A, QueryError> =>
      Effect.catchTags(effect, {
        // With a response, the server answered something the API does not declare; without one, it never did.
        HttpClientError: (error) =>
          Effect.fail(
            error.response === undefined
              ? unreachable(error)
              : new UnexpectedResponse({
                status: error.response.status,
                message: `Unexpected HTTP ${error.response.status}`,
                cause: error
              })
          ),
        SchemaError: (error) =>
          Effect.fail(
            new UnexpectedResponse({
              message: `The answer does not match the protocol: ${error.message}`,
              cause: error
            })
          )
      })

    /** A body as a byte stream, with its length when it is known up front (a file's size). */
    const openBody = (body: SendBody): Effect.Effect<
      { readonly stream: Stream.Stream<Uint8Array, unknown>; readonly length: Option.Option<number> },
      PlatformError
    > => {
      if (typeof body === "string") {
        return Effect.map(fs.stat(body), (info) => ({
          stream: fs.stream(body, { chunkSize: fileChunkSize }),
          length: Option.some(Number(info.size))
        }))
      }
      if (Stream.isStream(body)) return Effect.succeed({ stream: body, length: Option.none() })
      return Effect.succeed({ stream: Stream.fromAsyncIterable(body, (cause) => cause), length: Option.none() })
    }

    /**
     * Starts an upload: the request goes out, the body streams as the connection drains it. Yields the
     * sender's updates (the server's `[INFO]` lines, then the final byte count; failing on an `[ERROR]` line or
     * a broken connection) and a reading of the bytes sent so far. The scope holds the connection.
     */
    const upload = (path: string, body: SendBody, sendOptions: SendOptions) =>
      Effect.gen(function*() {
        const url = yield* urlOf(path)
        const source = yield* openBody(body)
        const accepted = yield* Deferred.make<void>()
        let bytes = 0
        let chunks = 0
        const counted = source.stream.pipe(
          // Undici writes the request head together with the first non-empty chunk.
          Stream.filter((chunk) => chunk.length > 0),
          // Only the first chunk goes out before the server has answered: a refusal (409, 400, 503) comes
          // with `Connection: close`, and a body pushed into that socket meanwhile ends in EPIPE, which
          // undici reports instead of the refusal. After a 200 the rest flows; after a refusal nothing does.
          Stream.tap(() => chunks++ === 0 ? Effect.void : Deferred.await(accepted)),
          // Counted as handed to the connection; no effect per chunk, this is the data path.
          Stream.mapArray((parts) => {
            for (const part of parts) bytes += part.length
            return parts
          })
        )
        const length = Option.getOrUndefined(source.length)
        let request = HttpClientRequest.put(url).pipe(
          HttpClientRequest.bodyStream(counted, {
            contentType: sendOptions.contentType ?? "application/octet-stream",
            // A known length goes out as Content-Length: receivers get it, and can tell a short transfer.
            ...(length === undefined || length === 0 ? {} : { contentLength: length })
          })
        )
        if (sendOptions.n !== undefined) request = HttpClientRequest.setUrlParam(request, "n", String(sendOptions.n))
        if (sendOptions.total !== undefined) {
          request = HttpClientRequest.setUrlParam(request, "total", String(sendOptions.total))
        }
        if (sendOptions.filename !== undefined) {
          request = HttpClientRequest.setHeader(request, "content-disposition", attachment(sendOptions.filename))
        }
        // The server answers at once and streams its lines while the upload runs (undici reads both ways).
        const response = yield* execute(request)
        if (response.status !== 200) return yield* refuse(response)
        yield* Deferred.succeed(accepted, undefined)

        let last: string | undefined
        const updates = response.stream.pipe(
          Stream.decodeText(),
          Stream.splitLines,
          Stream.mapError((cause) =>
            new TransferBroken({
              message: `The connection broke after ${bytes} bytes, before the server confirmed the transfer: ${
                causeMessage(cause)
              }`,
              bytes,
              cause
            })
          ),
          Stream.filter((line) => line.trim() !== ""),
          Stream.mapEffect((line) => {
            const parsed = parseSenderLine(line)
            if (parsed._tag === "Error") return Effect.fail(parsed.error)
            last = parsed.message
            return Effect.succeed(SendUpdate.Status({ message: parsed.message }))
          }),
          Stream.concat(Stream.suspend(() =>
            last === allReceivedMessage
              ? Stream.make(SendUpdate.Uploaded({ bytes }))
              : Stream.fail(
                new SendFailed({
                  message: `The server ended the response without confirming the transfer${
                    last === undefined ? "" : ` (last line: ${last})`
                  }.`
                })
              )
          ))
        )
        return { updates, uploaded: Effect.sync(() => bytes) }
      })

    const sendUpdates = (path: string, body: SendBody, sendOptions: SendOptions = {}) =>
      Stream.unwrap(Effect.map(upload(path, body, sendOptions), ({ updates, uploaded }) => {
        // Sampled, not per chunk: a reader of updates must never slow the upload down.
        const progress = Stream.fromSchedule(Schedule.spaced("100 millis")).pipe(
          Stream.mapEffect(() => uploaded),
          Stream.changes,
          Stream.map((bytes) => SendUpdate.Uploaded({ bytes }))
        )
        return Stream.merge(updates, progress, { haltStrategy: "left" })
      }))

    const send = (path: string, body: SendBody, sendOptions: SendOptions = {}) =>
      Effect.scoped(Effect.flatMap(upload(path, body, sendOptions), ({ updates }) =>
        Stream.runFold(
          updates,
          (): SendResult => ({ bytes: 0, messages: [] }),
          (result, update): SendResult =>
            SendUpdate.$match(update, {
              Status: ({ message }) => ({ ...result, messages: [...result.messages, message] }),
              Uploaded: ({ bytes }) => ({ ...result, bytes })
            })
        )))

    const openReceive = (path: string, receiveOptions: ReceiveOptions = {}) =>
      Effect.gen(function*() {
        let request = HttpClientRequest.get(yield* urlOf(path))
        if (receiveOptions.n !== undefined) {
          request = HttpClientRequest.setUrlParam(request, "n", String(receiveOptions.n))
        }
        // A receiver hears nothing until its sender comes, which may take hours, but the Node client gives up
        // waiting for a response head after one hour (@effect/platform-node sets undici's headersTimeout).
        // Leaving frees the slot on the server, so asking again is the same wait.
        const response = yield* execute(request).pipe(Effect.retry({
          while: (error) => isHeadersTimeout(error.cause)
        }))
        if (response.status !== 200) return yield* refuse(response)
        const contentLength = contentLengthOf(response)
        let bytes = 0
        const broken = (message: string, cause?: unknown) =>
          new TransferBroken({ message, bytes, ...(cause === undefined ? {} : { cause }) })
        const stream = response.stream.pipe(
          Stream.tap((chunk) => Effect.sync(() => void (bytes += chunk.length))),
          Stream.mapError((cause) => broken(`The transfer broke after ${bytes} bytes: ${causeMessage(cause)}`, cause)),
          // The HTTP layer already fails a short body; this makes "never a clean end on a short transfer"
          // hold whatever the client underneath does.
          Stream.concat(Stream.suspend(() =>
            Option.match(contentLength, {
              onNone: () => Stream.empty,
              onSome: (expected) =>
                bytes === expected
                  ? Stream.empty
                  : Stream.fail(broken(`The transfer ended after ${bytes} of ${expected} bytes.`))
            })
          ))
        )
        return {
          contentLength,
          contentType: header(response, "content-type"),
          contentDisposition: header(response, "content-disposition"),
          stream
        } satisfies Incoming
      })

    const receive = (path: string, receiveOptions?: ReceiveOptions) =>
      Stream.unwrap(Effect.map(openReceive(path, receiveOptions), (incoming) => incoming.stream))

    const snapshot = (path: string) =>
      Effect.flatMap(
        Effect.fromResult(pipePath(path)),
        () => fromApi(api.pipes.snapshot({ params: { name: pipeName(path) }, query: { progress: "json" } }))
      )

    const health = fromApi(api.ops.health())

    /**
     * The result of a transfer the watch did not see end, from the snapshot: `done` while it is retained, `last`
     * after that (protocol §9), as long as either names that transfer.
     */
    const lookUpResult = (path: string, transferId: string | undefined) =>
      Effect.flatMap(snapshot(path), (current) => {
        const result = [current.done, current.last].find((done) => done !== null && done.transferId === transferId)
        return result === undefined || result === null
          ? Effect.fail(
            new ResultUnavailable({
              message:
                "The transfer ended while the watch was disconnected, and the server no longer reports its result.",
              transferId: transferId ?? null
            })
          )
          : Effect.succeed<PipeEvent>({ event: "done", ...result })
      })

    const watch = (path: string, watchOptions: WatchOptions = {}): Stream.Stream<PipeEvent, WatchError> => {
      const untilDone = watchOptions.untilDone === true
      const connect = (replay: ReturnType<typeof makeReplayFilter>, until: UntilDone, lastEventId: { id?: string }) =>
        Stream.unwrap(Effect.gen(function*() {
          let request = HttpClientRequest.get(yield* urlOf(path)).pipe(
            HttpClientRequest.setUrlParam("progress", "sse"),
            HttpClientRequest.accept("text/event-stream")
          )
          if (untilDone) request = HttpClientRequest.setUrlParam(request, "until", "done")
          // As EventSource does: the server replays the snapshot all the same, and with `until=done` it answers
          // 204 once this id is at or past the awaited `done`.
          if (lastEventId.id !== undefined) {
            request = HttpClientRequest.setHeader(request, "last-event-id", lastEventId.id)
          }
          const response = yield* execute(request)
          // The awaited transfer is over, and this watch missed its `done`: the snapshot still has it.
          if (untilDone && response.status === 204) {
            return Stream.fromEffect(lookUpResult(path, until.awaited()))
          }
          if (response.status !== 200) return yield* refuse(response)
          replay.connected()
          until.connected()
          const parse = makeSseParser()
          return response.stream.pipe(
            Stream.decodeText(),
            Stream.mapError((cause) =>
              new ConnectionFailed({ message: `The spectator connection dropped: ${causeMessage(cause)}`, cause })
            ),
            Stream.map(parse),
            Stream.flattenIterable,
            Stream.tap((frame) => Effect.sync(() => void (frame.id === undefined || (lastEventId.id = frame.id)))),
            // Unknown event names are a newer server's business, not an error.
            Stream.filter((frame) => watchedEvents.has(frame.event)),
            Stream.mapEffect((frame) =>
              Effect.mapError(
                decodeSseFrame(frame),
                (cause) =>
                  new UnexpectedResponse({
                    message: `Undecodable "${frame.event}" event: ${causeMessage(cause)}`,
                    cause
                  })
              )
            ),
            Stream.flatMap((event) => {
              const fresh = replay.keep(event)
              if (!untilDone) return fresh ? Stream.succeed(event) : Stream.empty
              switch (until.observe(event)) {
                case "drop":
                  return Stream.empty
                case "keep":
                  return fresh ? Stream.succeed(event) : Stream.empty
                case "finish":
                  return Stream.succeed(event)
                case "missed":
                  return Stream.fromEffect(lookUpResult(path, until.awaited()))
              }
            }),
            // A clean end is the server's spectator time-to-live (or a restart): reconnect like a drop.
            Stream.concat(Stream.fail(new ConnectionFailed({ message: "The server ended the spectator connection." })))
          )
        }))
      const events = Stream.suspend(() => {
        const replay = makeReplayFilter()
        const until = makeUntilDone()
        // Only a connection that once worked is worth restoring: an unreachable server is an answer.
        const reconnect = Schedule.while(
          watchOptions.reconnect ?? defaultReconnect,
          ({ input }) => input._tag === "ConnectionFailed" && replay.hasConnected()
        )
        const watched = Stream.retry(connect(replay, until, {}), reconnect)
        return untilDone
          ? Stream.takeUntil(watched, (event) => event.event === "done" && event.transferId === until.awaited())
          : watched
      })
      return events
    }

    return PipeClient.of({ baseUrl, send, sendUpdates, receive, openReceive, snapshot, health, watch })
  })

export class PipeClient extends Context.Service<PipeClient, PipeClientService>()("pipe/client/PipeClient") {
  /** Over any `HttpClient`; it must stream request bodies and read the response while uploading (undici does). */
  static readonly layer = (
    options: PipeClientOptions
  ): Layer.Layer<PipeClient, never, HttpClient.HttpClient | FileSystem.FileSystem> =>
    Layer.effect(PipeClient, make(options))
}
