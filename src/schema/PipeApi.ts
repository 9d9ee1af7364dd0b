import { Schema, SchemaGetter } from "effect"
import { HttpApi, HttpApiEndpoint, HttpApiGroup, HttpApiSchema } from "effect/http-api"
import {
  InternalError,
  InvalidRequest,
  MethodNotAllowed,
  NotFound,
  PipeBusy,
  reasonOf,
  rejectionMessage,
  ServerFull,
  TokenRefused,
  TokenRequired,
  TooManySpectators,
  WaitTimedOut
} from "../domain/PipeError.js"
import { Health } from "./Health.js"
import { Snapshot } from "./Snapshot.js"

/**
 * The server's JSON endpoints declared once, for clients (protocol §4.2, §6). The server does not route
 * through `HttpApiBuilder`: its data path needs raw sockets. It encodes `Snapshot` and `Health` with these
 * same Schemas, and refuses with the same error classes (src/domain/PipeError.ts), so the two sides cannot
 * drift apart.
 */

interface RefusalClass<Tag extends string> extends
  Schema.Codec<
    { readonly _tag: Tag; readonly reason: string; readonly message: string },
    { readonly _tag: Tag; readonly reason: string; readonly message: string }
  >
{
  readonly identifier: Tag
}

/** The wire form of one refusal: its status and its one `[ERROR] …` line, read back into the error class. */
const textBody = <Tag extends string, C extends RefusalClass<Tag>>(error: C, status: number) =>
  Schema.String.pipe(
    Schema.decodeTo(error, {
      decode: SchemaGetter.transform((body: string) => {
        const message = rejectionMessage(body)
        return { _tag: error.identifier, reason: reasonOf(status, message), message }
      }),
      encode: SchemaGetter.transform((e: C["Encoded"]) => `[ERROR] ${e.message}\n`)
    }),
    HttpApiSchema.asText({ contentType: "text/plain" }),
    HttpApiSchema.status(status)
  )

export const refusalBodies = [
  textBody(InvalidRequest, 400),
  textBody(TokenRequired, 401),
  textBody(TokenRefused, 403),
  textBody(NotFound, 404),
  textBody(MethodNotAllowed, 405),
  textBody(WaitTimedOut, 408),
  textBody(PipeBusy, 409),
  textBody(TooManySpectators, 429),
  textBody(InternalError, 500),
  textBody(ServerFull, 503)
] as const

export class OpsGroup extends HttpApiGroup.make("ops").add(
  HttpApiEndpoint.get("health", "/healthz", { success: Health, error: refusalBodies })
) {}

export class PipesGroup extends HttpApiGroup.make("pipes").add(
  HttpApiEndpoint.get("snapshot", "/api/v1/pipe/:name", {
    // HttpApiClient substitutes the name unencoded, so `a/b` stays two segments.
    params: { name: Schema.String },
    query: { progress: Schema.Literal("json") },
    success: Snapshot,
    error: refusalBodies
  })
) {}

export class PipeApi extends HttpApi.make("pipe").add(OpsGroup).add(PipesGroup) {}
