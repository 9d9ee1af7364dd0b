import { Config, Console, Duration, Effect, Option, Result } from "effect"
import * as Command from "effect/cli/Command"
import * as Flag from "effect/cli/Flag"
import { nameOfPath, parseRoles } from "../domain/AccessGrant.js"
import { mintToken } from "../domain/CapabilityToken.js"
import { parseDuration } from "./Duration.js"
import { setExitCode } from "./PipeTarget.js"
import { readSecretFile } from "./SecretFile.js"

const options = {
  path: Flag.String("path").pipe(
    Flag.withMetavar("PATH"),
    Flag.withDescription("The pipe (name, /name or /api/v1/pipe/name) the token is for")
  ),
  prefix: Flag.Boolean("prefix").pipe(
    Flag.withDefault(false),
    Flag.withDescription("Grant every pipe whose name starts with PATH, not PATH alone")
  ),
  roles: Flag.String("roles").pipe(
    Flag.filterMap(
      (text) => {
        const parsed = parseRoles(text)
        return parsed._tag === "Ok" ? Option.some([...parsed.roles]) : Option.none()
      },
      () => "Expected a comma list of send, receive, watch"
    ),
    Flag.withMetavar("ROLES"),
    Flag.withDescription("send,receive,watch: what the bearer may do")
  ),
  ttl: Flag.String("ttl").pipe(
    Flag.withDefault("8h"),
    Flag.filterMap(parseDuration, () => "Expected a duration like 30m, 8h"),
    Flag.withMetavar("TIME"),
    Flag.withDescription("How long the token is valid (default 8h)")
  ),
  tokenSecret: Flag.String("token-secret").pipe(
    Flag.withFallbackConfig(Config.String("PIPE_TOKEN_SECRET")),
    Flag.withMetavar("FILE"),
    Flag.withDescription("The server's --token-secret file (or PIPE_TOKEN_SECRET)")
  )
}

/**
 * `pipe token`: mints a signed capability token offline (protocol §12), with the secret the server verifies
 * it with. The token is alone on the last line of stdout, so `$(pipe token …)` is the token; what it grants
 * goes to stderr.
 */
export const tokenCommand = Command.make(
  "token",
  options,
  (args) =>
    Effect.gen(function*() {
      const read = yield* readSecretFile(args.tokenSecret)
      if (Result.isFailure(read)) {
        yield* Console.error(`pipe token: ${read.failure}`)
        return yield* setExitCode(1)
      }
      const secret = read.success
      const path = nameOfPath(args.path.trim())
      if (path === "" && !args.prefix) {
        yield* Console.error("pipe token: --path names no pipe (give --prefix to grant every pipe)")
        return yield* setExitCode(2)
      }
      const expiresAt = Date.now() + Duration.toMillis(args.ttl)
      const token = mintToken(secret, { path, prefix: args.prefix, roles: args.roles, expiresAt })
      const scope = args.prefix ? `every pipe under '${path}'` : `the pipe '${path}'`
      yield* Console.error(
        `pipe token: ${args.roles.join(",")} on ${scope}, until ${
          new Date(Math.floor(expiresAt / 1000) * 1000).toISOString()
        }`
      )
      yield* Console.log(token)
    })
).pipe(
  Command.withDescription(
    "Mint a signed token for one pipe (or a prefix), some roles and an expiry.\n" +
      "The server checks it with the same --token-secret; nothing is stored."
  ),
  Command.withShortDescription("Mint a signed capability token"),
  Command.withExamples([
    { command: "pipe token --path migration --roles receive,watch --ttl 8h --token-secret secret.key" }
  ])
)
