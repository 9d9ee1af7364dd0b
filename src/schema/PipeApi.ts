import * as HttpApi from "@effect/platform/HttpApi"
import * as HttpApiEndpoint from "@effect/platform/HttpApiEndpoint"
import * as HttpApiGroup from "@effect/platform/HttpApiGroup"
import * as HttpApiSchema from "@effect/platform/HttpApiSchema"
import { Option, Schema } from "effect"
import { Health } from "./Health.js"
import { Snapshot } from "./Snapshot.js"

/**
 * The server's JSON endpoints declared once, for clients (protocol §4.2, §6). The server does not route
 * through `HttpApiBuilder`: its hand dispatcher needs raw sockets for the data path. It encodes `Snapshot` and
 * `Health` with these same Schemas, so the two sides cannot drift apart.
 */

// ---- refusals ----------------------------------------------------------------------------------------

/**
 * Every refusal is a `text/plain` body of one `[ERROR] …` line (protocol §1–§4). The client sees only the
 * status and that line, so each status is one tagged error carrying the server's message (without the
 * `[ERROR] ` prefix); the server's own finer-grained errors (src/domain/PipeError.ts) stay on the server.
 */
const fields = { message: Schema.String }

/** 400: an invalid path or query parameter, a send to a reserved path, `Content-Range`, a service worker. */
export class InvalidRequest extends Schema.TaggedError<InvalidRequest>()("InvalidRequest", fields) {
  static readonly status = 400
}

/** 404: an unknown route under `/api/`. */
export class NotFound extends Schema.TaggedError<NotFound>()("NotFound", fields) {
  static readonly status = 404
}

/** 405: a method the server does not serve. */
export class MethodNotAllowed extends Schema.TaggedError<MethodNotAllowed>()("MethodNotAllowed", fields) {
  static readonly status = 405
}

/** 408: waited longer than the server's `--wait-timeout` for the other side. */
export class WaitTimedOut extends Schema.TaggedError<WaitTimedOut>()("WaitTimedOut", fields) {
  static readonly status = 408
}

/** 409: another sender is waiting, the receivers are complete, or the path's transfer is already running. */
export class PipeBusy extends Schema.TaggedError<PipeBusy>()("PipeBusy", fields) {
  static readonly status = 409
}

/** 429: the path has its maximum of spectators. */
export class TooManySpectators extends Schema.TaggedError<TooManySpectators>()("TooManySpectators", fields) {
  static readonly status = 429
}

/** 503: the server holds its maximum of pipes, or is shutting down. */
export class ServerFull extends Schema.TaggedError<ServerFull>()("ServerFull", fields) {
  static readonly status = 503
}

export type Rejection =
  | InvalidRequest
  | NotFound
  | MethodNotAllowed
  | WaitTimedOut
  | PipeBusy
  | TooManySpectators
  | ServerFull

/** `[ERROR] Not found.\n` → `Not found.`; a body without the prefix is kept whole (a proxy's page, say). */
export const rejectionMessage = (body: string): string => {
  const line = body.trim()
  return line.startsWith("[ERROR]") ? line.slice("[ERROR]".length).trim() : line
}

interface RejectionClass<A extends Rejection>
  extends Schema.Schema<A, { readonly _tag: A["_tag"]; readonly message: string }>
{
  readonly _tag: A["_tag"]
  readonly status: number
}

/**
 * The wire form of one refusal: its status and its text body, decoded into the tagged error. HttpApiClient
 * picks the schema by status; the calls that bypass it (send, receive, watch) use the same schemas below.
 */
const fromTextBody = <A extends Rejection>(error: RejectionClass<A>) =>
  HttpApiSchema.withEncoding(
    Schema.transform(Schema.String, error, {
      strict: true,
      decode: (body) => ({ _tag: error._tag, message: rejectionMessage(body) }),
      encode: (rejection) => `[ERROR] ${rejection.message}\n`
    }),
    { kind: "Text", contentType: "text/plain" }
  ).annotations(HttpApiSchema.annotations({ status: error.status }))

export const InvalidRequestBody = fromTextBody(InvalidRequest)
export const NotFoundBody = fromTextBody(NotFound)
export const MethodNotAllowedBody = fromTextBody(MethodNotAllowed)
export const WaitTimedOutBody = fromTextBody(WaitTimedOut)
export const PipeBusyBody = fromTextBody(PipeBusy)
export const TooManySpectatorsBody = fromTextBody(TooManySpectators)
export const ServerFullBody = fromTextBody(ServerFull)

const decodersByStatus = new Map<number, (body: string) => Option.Option<Rejection>>([
  [InvalidRequest.status, Schema.decodeOption(InvalidRequestBody)],
  [NotFound.status, Schema.decodeOption(NotFoundBody)],
  [MethodNotAllowed.status, Schema.decodeOption(MethodNotAllowedBody)],
  [WaitTimedOut.status, Schema.decodeOption(WaitTimedOutBody)],
  [PipeBusy.status, Schema.decodeOption(PipeBusyBody)],
  [TooManySpectators.status, Schema.decodeOption(TooManySpectatorsBody)],
  [ServerFull.status, Schema.decodeOption(ServerFullBody)]
])

/** The tagged error of a refusal's status and body; `None` for a status the protocol does not define. */
export const decodeRejection = (status: number, body: string): Option.Option<Rejection> =>
  Option.flatMap(Option.fromNullable(decodersByStatus.get(status)), (decode) => decode(body))

// ---- the API -------------------------------------------------------------------------------------------

/** A pipe's name as one path parameter: HttpApiClient substitutes it unencoded, so `a/b` stays two segments. */
export const PipeNameParam = Schema.Struct({ name: Schema.String })

export class OpsGroup extends HttpApiGroup.make("ops").add(
  HttpApiEndpoint.get("health", "/healthz").addSuccess(Health)
) {}

export class PipesGroup extends HttpApiGroup.make("pipes").add(
  HttpApiEndpoint.get("snapshot", "/api/v1/pipe/:name")
    .setPath(PipeNameParam)
    .setUrlParams(Schema.Struct({ progress: Schema.Literal("json") }))
    .addSuccess(Snapshot)
) {}

export class PipeApi extends HttpApi.make("pipe")
  .add(OpsGroup)
  .add(PipesGroup)
  .addError(InvalidRequestBody)
  .addError(NotFoundBody)
  .addError(MethodNotAllowedBody)
  .addError(WaitTimedOutBody)
  .addError(PipeBusyBody)
  .addError(TooManySpectatorsBody)
  .addError(ServerFullBody)
{}
