import { Schema } from "effect"

/**
 * Every way the server says no. Each error carries its HTTP status and its exact `[ERROR] …` line
 * (protocol §1–§4), so that the HTTP layer renders them all one way and the client maps them back by status.
 */
interface Rejection {
  readonly status: number
  readonly body: string
  readonly headers?: Readonly<Record<string, string>>
}

export class InvalidPath extends Schema.TaggedError<InvalidPath>()("InvalidPath", {}) implements Rejection {
  readonly status = 400
  get body() {
    return "[ERROR] Invalid pipe path."
  }
}

export class ReservedPath extends Schema.TaggedError<ReservedPath>()("ReservedPath", { path: Schema.String })
  implements Rejection
{
  readonly status = 400
  get body() {
    return `[ERROR] Cannot send to the reserved path '${this.path}'.`
  }
}

export class NotFound extends Schema.TaggedError<NotFound>()("NotFound", {}) implements Rejection {
  readonly status = 404
  get body() {
    return "[ERROR] Not found."
  }
}

export const allowedMethods = "GET, HEAD, POST, PUT, OPTIONS"

export class MethodNotAllowed extends Schema.TaggedError<MethodNotAllowed>()("MethodNotAllowed", {
  method: Schema.String
}) implements Rejection {
  readonly status = 405
  readonly headers = { allow: allowedMethods }
  get body() {
    return `[ERROR] Unsupported method: ${this.method}.`
  }
}

export class InvalidQueryParameter extends Schema.TaggedError<InvalidQueryParameter>()("InvalidQueryParameter", {
  name: Schema.String
}) implements Rejection {
  readonly status = 400
  get body() {
    return `[ERROR] Invalid query parameter "${this.name}".`
  }
}

export class ReceiverCountOutOfRange extends Schema.TaggedError<ReceiverCountOutOfRange>()(
  "ReceiverCountOutOfRange",
  { n: Schema.String, max: Schema.Number }
) implements Rejection {
  readonly status = 400
  get body() {
    return `[ERROR] n must be between 1 and ${this.max}, but n = ${this.n}.`
  }
}

export class ReceiverCountMismatch extends Schema.TaggedError<ReceiverCountMismatch>()("ReceiverCountMismatch", {
  expected: Schema.Number,
  actual: Schema.Number
}) implements Rejection {
  readonly status = 400
  get body() {
    return `[ERROR] The number of receivers should be ${this.expected} but ${this.actual}.`
  }
}

export class SenderConflict extends Schema.TaggedError<SenderConflict>()("SenderConflict", { path: Schema.String })
  implements Rejection
{
  readonly status = 409
  get body() {
    return `[ERROR] Another sender has been connected on '${this.path}'.`
  }
}

export class ReceiversFull extends Schema.TaggedError<ReceiversFull>()("ReceiversFull", {}) implements Rejection {
  readonly status = 409
  get body() {
    return "[ERROR] The number of receivers has reached limits."
  }
}

export class AlreadyEstablished extends Schema.TaggedError<AlreadyEstablished>()("AlreadyEstablished", {
  path: Schema.String
}) implements Rejection {
  readonly status = 409
  get body() {
    return `[ERROR] Connection on '${this.path}' has been established already.`
  }
}

export class ContentRangeUnsupported extends Schema.TaggedError<ContentRangeUnsupported>()(
  "ContentRangeUnsupported",
  {}
) implements Rejection {
  readonly status = 400
  get body() {
    return "[ERROR] Content-Range is not supported."
  }
}

export class InvalidMultipart extends Schema.TaggedError<InvalidMultipart>()("InvalidMultipart", {})
  implements Rejection
{
  readonly status = 400
  get body() {
    return "[ERROR] A multipart/form-data body needs a boundary."
  }
}

export class ServiceWorkerRejected extends Schema.TaggedError<ServiceWorkerRejected>()("ServiceWorkerRejected", {})
  implements Rejection
{
  readonly status = 400
  get body() {
    return "[ERROR] Service Worker registration is rejected."
  }
}

export class WaitTimedOut extends Schema.TaggedError<WaitTimedOut>()("WaitTimedOut", {}) implements Rejection {
  readonly status = 408
  get body() {
    return "[ERROR] Timed out waiting for the other side."
  }
}

export class TooManyPipes extends Schema.TaggedError<TooManyPipes>()("TooManyPipes", { limit: Schema.Number })
  implements Rejection
{
  readonly status = 503
  readonly headers = { "retry-after": "5" }
  get body() {
    return `[ERROR] The server holds its limit of ${this.limit} pipes; try again later.`
  }
}

export class TooManySpectators extends Schema.TaggedError<TooManySpectators>()("TooManySpectators", {
  path: Schema.String,
  limit: Schema.Number
}) implements Rejection {
  readonly status = 429
  readonly headers = { "retry-after": "5" }
  get body() {
    return `[ERROR] Too many spectators on '${this.path}' (limit ${this.limit}).`
  }
}

export class ShuttingDown extends Schema.TaggedError<ShuttingDown>()("ShuttingDown", {}) implements Rejection {
  readonly status = 503
  readonly headers = { "retry-after": "5" }
  get body() {
    return "[ERROR] The server is shutting down."
  }
}

export class TooManySpectatorsOnServer extends Schema.TaggedError<TooManySpectatorsOnServer>()(
  "TooManySpectatorsOnServer",
  { limit: Schema.Number }
) implements Rejection {
  readonly status = 429
  readonly headers = { "retry-after": "5" }
  get body() {
    return `[ERROR] Too many spectators on this server (limit ${this.limit}).`
  }
}

/** A defect met while answering: the request fails visibly, the server goes on (and logs the cause). */
export class InternalError extends Schema.TaggedError<InternalError>()("InternalError", {}) implements Rejection {
  readonly status = 500
  get body() {
    return "[ERROR] Internal server error."
  }
}

/** A party that asked to join the transfer on a path and was refused by the path's actor. */
export type JoinRejection =
  | ReceiverCountMismatch
  | SenderConflict
  | ReceiversFull
  | AlreadyEstablished

export type PipeError =
  | InvalidPath
  | ReservedPath
  | NotFound
  | MethodNotAllowed
  | InvalidQueryParameter
  | ReceiverCountOutOfRange
  | JoinRejection
  | ContentRangeUnsupported
  | InvalidMultipart
  | ServiceWorkerRejected
  | WaitTimedOut
  | TooManyPipes
  | TooManySpectators
  | TooManySpectatorsOnServer
  | ShuttingDown
  | InternalError

/** Every tag of `PipeError`; the type makes the compiler reject a missing or unknown one. */
const pipeErrorTags: Readonly<Record<PipeError["_tag"], true>> = {
  InvalidPath: true,
  ReservedPath: true,
  NotFound: true,
  MethodNotAllowed: true,
  InvalidQueryParameter: true,
  ReceiverCountOutOfRange: true,
  ReceiverCountMismatch: true,
  SenderConflict: true,
  ReceiversFull: true,
  AlreadyEstablished: true,
  ContentRangeUnsupported: true,
  InvalidMultipart: true,
  ServiceWorkerRejected: true,
  WaitTimedOut: true,
  TooManyPipes: true,
  TooManySpectators: true,
  TooManySpectatorsOnServer: true,
  ShuttingDown: true,
  InternalError: true
}

export const isPipeError = (error: unknown): error is PipeError =>
  typeof error === "object" && error !== null && "_tag" in error && typeof error._tag === "string" &&
  Object.hasOwn(pipeErrorTags, error._tag)
