import { Context, Data, Effect, Layer, Option } from "effect"
import type { HttpServerRequest } from "effect/http/HttpServerRequest"
import { readFileSync } from "node:fs"
import type { Grant, Role } from "../domain/AccessGrant.js"
import { allows } from "../domain/AccessGrant.js"
import { isSignedToken, maxTokenLength, minSecretBytes, secretOf, verifyToken } from "../domain/CapabilityToken.js"
import type { PipeError } from "../domain/PipeError.js"
import { tokenRefused, tokenRequired } from "../domain/PipeError.js"
import type { PipeName } from "../domain/PipeName.js"
import type { TokenTable } from "../domain/TokensFile.js"
import { parseTokensFile, tokenDigest } from "../domain/TokensFile.js"
import { ServerConfig } from "../ServerConfig.js"
import { reloadOnHangup } from "./Hangup.js"

/** A tokens file or a secret the server cannot start with: one line on stderr, exit 1. */
export class AccessSetupFailed extends Data.TaggedError("AccessSetupFailed")<{ readonly message: string }> {}

/**
 * Who may do what on which pipe (protocol §12), asked once per pipe request by the dispatch, before any
 * handler runs. An open server (no `--tokens-file`, no `--token-secret`) answers every question with the same
 * `Effect.void`: nothing is read, allocated or compared, and the data path is never involved either way.
 */
export class AccessControl extends Context.Service<AccessControl, {
  /** Fails with the 401 or 403 of §12 when the request's token does not grant `role` on the pipe. */
  readonly authorize: (
    request: HttpServerRequest,
    query: URLSearchParams,
    role: Role,
    path: string,
    name: PipeName
  ) => Effect.Effect<void, PipeError>
}>()("pipe/http/AccessControl") {
  static readonly layer = Layer.effect(
    AccessControl,
    Effect.gen(function*() {
      const settings = yield* ServerConfig
      if (Option.isNone(settings.tokensFile) && Option.isNone(settings.tokenSecret)) {
        return AccessControl.of({ authorize: () => Effect.void })
      }
      let secret: Uint8Array | undefined
      if (Option.isSome(settings.tokenSecret)) {
        const file = settings.tokenSecret.value
        secret = yield* readSecret(file)
        // A new secret voids every token made with the old one: an operator revokes them all without a
        // restart. Running transfers go on either way: a token is only looked at when a request arrives.
        yield* reloadOnHangup({
          read: readSecret(file),
          replace: (next) => void (secret = next),
          reloaded: () => Effect.logInfo("token secret reloaded").pipe(Effect.annotateLogs({ file })),
          kept: "token secret not reloaded; the previous secret stays in force"
        })
      }
      let table: TokenTable = new Map()
      if (Option.isSome(settings.tokensFile)) {
        const file = settings.tokensFile.value
        table = yield* readTokens(file)
        yield* reloadOnHangup({
          read: readTokens(file),
          replace: (next) => void (table = next),
          reloaded: (next) =>
            Effect.logInfo("tokens file reloaded").pipe(Effect.annotateLogs({ file, tokens: next.size })),
          kept: "tokens file not reloaded; the previous tokens stay in force"
        })
      }
      const { publicWatch } = settings
      const grantOf = (token: string): Grant | undefined => {
        if (token.length > maxTokenLength) return undefined
        if (isSignedToken(token)) {
          return secret === undefined
            ? undefined
            : Option.getOrUndefined(verifyToken(secret, token))
        }
        return table.get(tokenDigest(token))
      }
      return AccessControl.of({
        authorize: (request, query, role, path, name) => {
          if (role === "watch" && publicWatch) return Effect.void
          const token = presentedToken(request, query)
          if (token === undefined) return Effect.fail(tokenRequired(role, path))
          const grant = grantOf(token)
          return grant !== undefined && allows(grant, role, name, Date.now())
            ? Effect.void
            : Effect.fail(tokenRefused(role, path))
        }
      })
    })
  )
}

/** `Authorization: Bearer <token>`, else `?token=` (browsers' links and EventSource cannot set a header). */
const presentedToken = (request: HttpServerRequest, query: URLSearchParams): string | undefined => {
  const authorization = request.headers["authorization"]
  if (authorization !== undefined) {
    const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(authorization)
    if (match?.[1] !== undefined) return match[1]
  }
  const fromQuery = query.get("token")
  return fromQuery === null || fromQuery === "" ? undefined : fromQuery
}

const readText = (flag: string, file: string) =>
  Effect.try({
    try: () => readFileSync(file),
    catch: (error) =>
      new AccessSetupFailed({
        message: `${flag} ${file}: cannot be read (${
          error instanceof Error && "code" in error ? String(error.code) : "unreadable"
        })`
      })
  })

const readTokens = (file: string) =>
  Effect.flatMap(readText("--tokens-file", file), (bytes) => {
    const parsed = parseTokensFile(bytes.toString("utf8"))
    return parsed._tag === "Ok"
      ? Effect.succeed(parsed.table)
      : Effect.fail(new AccessSetupFailed({ message: `--tokens-file ${file}: line ${parsed.line}: ${parsed.problem}` }))
  })

export const readSecret = (file: string) =>
  Effect.flatMap(readText("--token-secret", file), (bytes) => {
    const secret = secretOf(bytes)
    return secret.length >= minSecretBytes
      ? Effect.succeed(secret)
      : Effect.fail(
        new AccessSetupFailed({
          message:
            `--token-secret ${file}: the secret has ${secret.length} bytes; at least ${minSecretBytes} are needed`
        })
      )
  })
