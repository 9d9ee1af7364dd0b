import { Schema } from "effect"

/**
 * Every way the server says no, in one vocabulary shared by the server and the client (protocol §1–§4).
 *
 * A refusal is one HTTP status with a `text/plain` body of one `[ERROR] …` line. So an error's class is its
 * status, and its `reason` tells the finer cause: the server picks it (and counts it in
 * `pipe_rejected_requests_total{reason}`), the client reads it back from the line, because the line is all
 * that travels. `message` is the line without its `[ERROR] ` prefix.
 */

export const allowedMethods = "GET, HEAD, POST, PUT, OPTIONS"

/** The causes of each status. */
const reasonsOf = {
  400: [
    "InvalidPath",
    "ReservedPath",
    "InvalidQueryParameter",
    "ReceiverCountOutOfRange",
    "ReceiverCountMismatch",
    "ContentRangeUnsupported",
    "InvalidMultipart",
    "ServiceWorkerRejected"
  ],
  401: ["TokenRequired"],
  403: ["TokenRefused"],
  404: ["NotFound"],
  405: ["MethodNotAllowed"],
  408: ["WaitTimedOut"],
  409: ["SenderConflict", "ReceiversFull", "AlreadyEstablished"],
  429: ["TooManySpectators", "TooManySpectatorsOnServer", "TooManyConnections"],
  500: ["InternalError"],
  503: ["TooManyPipes", "ShuttingDown"]
} as const

type Status = keyof typeof reasonsOf

/** A line the server did not write (a proxy's page, an older server): the status still classifies it. */
const unknownReason = "Unknown"

/** `reason` is one of the status's causes (`reasonsOf`), or `Unknown`. */
const fields = { reason: Schema.String, message: Schema.String }
const fieldsOf = (_status: Status) => fields

/** 400: an invalid path or query parameter, a send to a reserved path, `Content-Range`, a service worker. */
export class InvalidRequest extends Schema.TaggedError<InvalidRequest>()("InvalidRequest", fieldsOf(400), {
  httpApiStatus: 400
}) {}

/** 401: access control is on (protocol §12) and the request carries no token. */
export class TokenRequired extends Schema.TaggedError<TokenRequired>()("TokenRequired", fieldsOf(401), {
  httpApiStatus: 401
}) {}

/** 403: the request's token does not grant its role on its path (unknown, expired, tampered, elsewhere). */
export class TokenRefused extends Schema.TaggedError<TokenRefused>()("TokenRefused", fieldsOf(403), {
  httpApiStatus: 403
}) {}

/** 404: an unknown route under `/api/`, or a reserved page that is not there. */
export class NotFound extends Schema.TaggedError<NotFound>()("NotFound", fieldsOf(404), { httpApiStatus: 404 }) {}

/** 405: a method the server does not serve. */
export class MethodNotAllowed extends Schema.TaggedError<MethodNotAllowed>()("MethodNotAllowed", fieldsOf(405), {
  httpApiStatus: 405
}) {}

/** 408: waited longer than the server's `--wait-timeout` for the other side. */
export class WaitTimedOut extends Schema.TaggedError<WaitTimedOut>()("WaitTimedOut", fieldsOf(408), {
  httpApiStatus: 408
}) {}

/** 409: another sender is waiting, the receivers are complete, or the path's transfer is already running. */
export class PipeBusy extends Schema.TaggedError<PipeBusy>()("PipeBusy", fieldsOf(409), { httpApiStatus: 409 }) {}

/**
 * 429: the path or the server has its maximum of spectators, or the client its maximum of connections
 * (`--max-connections-per-ip`; the class is named after the first cause it had).
 */
export class TooManySpectators extends Schema.TaggedError<TooManySpectators>()("TooManySpectators", fieldsOf(429), {
  httpApiStatus: 429
}) {}

/** 500: a defect met while answering; the request fails visibly, the server goes on (and logs the cause). */
export class InternalError extends Schema.TaggedError<InternalError>()("InternalError", fieldsOf(500), {
  httpApiStatus: 500
}) {}

/** 503: the server holds its maximum of pipes, or is shutting down. */
export class ServerFull extends Schema.TaggedError<ServerFull>()("ServerFull", fieldsOf(503), {
  httpApiStatus: 503
}) {}

export type PipeError =
  | InvalidRequest
  | TokenRequired
  | TokenRefused
  | NotFound
  | MethodNotAllowed
  | WaitTimedOut
  | PipeBusy
  | TooManySpectators
  | InternalError
  | ServerFull

export type Reason = (typeof reasonsOf)[Status][number]

/** How each cause is said (so the client can tell them apart again from the line alone). */
const patterns: Readonly<Record<Reason, RegExp>> = {
  InvalidPath: /^Invalid pipe path\.$/,
  ReservedPath: /^Cannot send to the reserved path /,
  InvalidQueryParameter: /^Invalid query parameter /,
  ReceiverCountOutOfRange: /^n must be between /,
  ReceiverCountMismatch: /^The number of receivers should be /,
  ContentRangeUnsupported: /^Content-Range is not supported\.$/,
  InvalidMultipart: /^A multipart\/form-data body needs a boundary\.$/,
  ServiceWorkerRejected: /^Service Worker registration is rejected\.$/,
  NotFound: /^Not found\.$/,
  MethodNotAllowed: /^Unsupported method: /,
  WaitTimedOut: /^Timed out waiting /,
  SenderConflict: /^Another sender has been connected /,
  ReceiversFull: /^The number of receivers has reached limits\.$/,
  AlreadyEstablished: /^Connection on .* has been established already\.$/,
  TooManySpectators: /^Too many spectators on '/,
  TooManySpectatorsOnServer: /^Too many spectators on this server /,
  TooManyConnections: /^Too many connections from your address /,
  TokenRequired: /^A token is required for /,
  TokenRefused: /^This token may not /,
  InternalError: /^Internal server error\.$/,
  TooManyPipes: /^The server holds its limit /,
  ShuttingDown: /^The server is shutting down\.$/
}

const classes = {
  400: InvalidRequest,
  401: TokenRequired,
  403: TokenRefused,
  404: NotFound,
  405: MethodNotAllowed,
  408: WaitTimedOut,
  409: PipeBusy,
  429: TooManySpectators,
  500: InternalError,
  503: ServerFull
} as const

export const statusOf = (error: PipeError): Status => {
  switch (error._tag) {
    case "InvalidRequest":
      return 400
    case "TokenRequired":
      return 401
    case "TokenRefused":
      return 403
    case "NotFound":
      return 404
    case "MethodNotAllowed":
      return 405
    case "WaitTimedOut":
      return 408
    case "PipeBusy":
      return 409
    case "TooManySpectators":
      return 429
    case "InternalError":
      return 500
    case "ServerFull":
      return 503
  }
}

/** The refusal's wire body. */
export const bodyOf = (error: PipeError): string => `[ERROR] ${error.message}\n`

/** Headers a refusal carries: `Allow` on 405, `Retry-After` where trying again later can help. */
export const headersOf = (error: PipeError): Readonly<Record<string, string>> => {
  switch (error._tag) {
    case "MethodNotAllowed":
      return { allow: allowedMethods }
    case "TokenRequired":
      return { "www-authenticate": "Bearer" }
    case "TooManySpectators":
    case "ServerFull":
      return { "retry-after": "5" }
    default:
      return {}
  }
}

const pipeErrorTags = new Set<string>(Object.values(classes).map((c) => c.identifier))

export const isPipeError = (error: unknown): error is PipeError =>
  typeof error === "object" && error !== null && "_tag" in error && typeof error._tag === "string" &&
  pipeErrorTags.has(error._tag)

/** `[ERROR] Not found.\n` → `Not found.`; a body without the prefix is kept whole (a proxy's page, say). */
export const rejectionMessage = (body: string): string => {
  const line = body.trim()
  return line.startsWith("[ERROR]") ? line.slice("[ERROR]".length).trim() : line
}

const isStatus = (status: number): status is Status => Object.hasOwn(reasonsOf, status)

/** The cause a refusal's line says, among its status's causes. */
export const reasonOf = (status: number, message: string): string => {
  if (!isStatus(status)) return unknownReason
  const causes: ReadonlyArray<Reason> = reasonsOf[status]
  return causes.find((reason) => patterns[reason].test(message)) ?? unknownReason
}

/** The refusal a status and body say; `undefined` for a status the protocol does not define. */
export const decodeRejection = (status: number, body: string): PipeError | undefined => {
  if (!isStatus(status)) return undefined
  const message = rejectionMessage(body)
  return new classes[status]({ reason: reasonOf(status, message), message })
}

// ---- the refusals, as the server says them ------------------------------------------------------------

export const invalidPath = () => new InvalidRequest({ reason: "InvalidPath", message: "Invalid pipe path." })
export const reservedPath = (path: string) =>
  new InvalidRequest({ reason: "ReservedPath", message: `Cannot send to the reserved path '${path}'.` })
export const invalidQueryParameter = (name: string) =>
  new InvalidRequest({ reason: "InvalidQueryParameter", message: `Invalid query parameter "${name}".` })
export const receiverCountOutOfRange = (n: string, max: number) =>
  new InvalidRequest({ reason: "ReceiverCountOutOfRange", message: `n must be between 1 and ${max}, but n = ${n}.` })
export const receiverCountMismatch = (expected: number, actual: number) =>
  new InvalidRequest({
    reason: "ReceiverCountMismatch",
    message: `The number of receivers should be ${expected} but ${actual}.`
  })
export const contentRangeUnsupported = () =>
  new InvalidRequest({ reason: "ContentRangeUnsupported", message: "Content-Range is not supported." })
export const invalidMultipart = () =>
  new InvalidRequest({ reason: "InvalidMultipart", message: "A multipart/form-data body needs a boundary." })
export const serviceWorkerRejected = () =>
  new InvalidRequest({ reason: "ServiceWorkerRejected", message: "Service Worker registration is rejected." })
export const notFound = () => new NotFound({ reason: "NotFound", message: "Not found." })
export const methodNotAllowed = (method: string) =>
  new MethodNotAllowed({ reason: "MethodNotAllowed", message: `Unsupported method: ${method}.` })
export const waitTimedOut = () =>
  new WaitTimedOut({ reason: "WaitTimedOut", message: "Timed out waiting for the other side." })
export const senderConflict = (path: string) =>
  new PipeBusy({ reason: "SenderConflict", message: `Another sender has been connected on '${path}'.` })
export const receiversFull = () =>
  new PipeBusy({ reason: "ReceiversFull", message: "The number of receivers has reached limits." })
export const alreadyEstablished = (path: string) =>
  new PipeBusy({ reason: "AlreadyEstablished", message: `Connection on '${path}' has been established already.` })
export const tooManySpectators = (path: string, limit: number) =>
  new TooManySpectators({
    reason: "TooManySpectators",
    message: `Too many spectators on '${path}' (limit ${limit}).`
  })
export const tooManySpectatorsOnServer = (limit: number) =>
  new TooManySpectators({
    reason: "TooManySpectatorsOnServer",
    message: `Too many spectators on this server (limit ${limit}).`
  })
export const internalError = () => new InternalError({ reason: "InternalError", message: "Internal server error." })
export const tooManyPipes = (limit: number) =>
  new ServerFull({ reason: "TooManyPipes", message: `The server holds its limit of ${limit} pipes; try again later.` })
export const shuttingDown = () => new ServerFull({ reason: "ShuttingDown", message: "The server is shutting down." })
export const tokenRequired = (role: string, path: string) =>
  new TokenRequired({ reason: "TokenRequired", message: `A token is required for ${role} on '${path}'.` })
export const tokenRefused = (role: string, path: string) =>
  new TokenRefused({ reason: "TokenRefused", message: `This token may not ${role} on '${path}'.` })
export const tooManyConnections = (limit: number) =>
  new TooManySpectators({
    reason: "TooManyConnections",
    message: `Too many connections from your address (limit ${limit}).`
  })
