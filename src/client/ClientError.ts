import { Schema } from "effect"
import type { PipeError } from "../domain/PipeError.js"

/**
 * What can go wrong on the client's side of the wire. The server's refusals (one tagged error per status) are
 * the vocabulary the server itself refuses with, src/domain/PipeError.ts, re-exported here so that an SDK user
 * has one place to import errors from; these are the failures no status line describes.
 */
export {
  decodeRejection,
  InternalError,
  InvalidRequest,
  isPipeError,
  MethodNotAllowed,
  NotFound,
  PipeBusy,
  type PipeError,
  ServerFull,
  TokenRefused,
  TokenRequired,
  TooManySpectators,
  WaitTimedOut
} from "../domain/PipeError.js"

/** The server could not be reached, or the connection dropped before any answer (also: a watch that ended). */
export class ConnectionFailed extends Schema.TaggedError<ConnectionFailed>()("ConnectionFailed", {
  message: Schema.String,
  cause: Schema.optional(Schema.Defect())
}) {}

/**
 * A transfer started and then broke: the connection was cut, or fewer bytes arrived than `Content-Length`
 * announced. A receiver that sees this has a truncated copy; it never looks like a clean end.
 */
export class TransferBroken extends Schema.TaggedError<TransferBroken>()("TransferBroken", {
  message: Schema.String,
  /** Bytes that went through before the break. */
  bytes: Schema.Number,
  cause: Schema.optional(Schema.Defect())
}) {}

/** The server ended a sender's response with an `[ERROR] …` line: the receivers did not get everything. */
export class SendFailed extends Schema.TaggedError<SendFailed>()("SendFailed", {
  message: Schema.String
}) {}

/** A status or a body the protocol does not define (a proxy's error page, a newer server, a bug). */
export class UnexpectedResponse extends Schema.TaggedError<UnexpectedResponse>()("UnexpectedResponse", {
  message: Schema.String,
  status: Schema.optional(Schema.Number),
  cause: Schema.optional(Schema.Defect())
}) {}

/**
 * `watch` with `untilDone`: the awaited transfer ended while the watch was disconnected, and the server no
 * longer reports its result (neither the live `done` nor the snapshot's `done`/`last` name it).
 */
export class ResultUnavailable extends Schema.TaggedError<ResultUnavailable>()("ResultUnavailable", {
  message: Schema.String,
  transferId: Schema.NullOr(Schema.String)
}) {}

export type PipeClientError =
  | PipeError
  | ConnectionFailed
  | TransferBroken
  | SendFailed
  | UnexpectedResponse
  | ResultUnavailable
