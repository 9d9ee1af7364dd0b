import { Config, Console, Data, Effect, Option, Result } from "effect"
import * as Argument from "effect/cli/Argument"
import * as Flag from "effect/cli/Flag"
import type { PipeClientService } from "../client/PipeClient.js"
import { interruptionFails } from "./Termination.js"

/** `<target>`: a full pipe URL, or a path (`name`, `a/b`, `/api/v1/pipe/name`) with `--server`. */
export const target = Argument.String("target").pipe(
  Argument.withDescription("http://host:8080/api/v1/pipe/NAME, or NAME with --server")
)

/** `--server URL`, else env PIPE_URL; only needed when the target is a path. */
export const server = Flag.String("server").pipe(
  Flag.withFallbackConfig(Config.String("PIPE_URL")),
  Flag.optional,
  Flag.withMetavar("URL"),
  Flag.withDescription("Server of a NAME target: http://host:8080 (or PIPE_URL)")
)

/** `--token`, else env PIPE_TOKEN: sent as `Authorization: Bearer` (protocol §12), never printed. */
export const token = Flag.String("token").pipe(
  Flag.withFallbackConfig(Config.String("PIPE_TOKEN")),
  Flag.optional,
  Flag.withMetavar("TOKEN"),
  Flag.withDescription("Token of a server with access control (or PIPE_TOKEN)")
)

/**
 * A link's `?token=` (a dashboard or receive link someone was handed), for when no `--token` is given: the
 * token then goes as a header, the target as a plain pipe URL.
 */
export const tokenOfTarget = (targetText: string): { readonly target: string; readonly token: string | undefined } => {
  const question = targetText.indexOf("?")
  if (question === -1) return { target: targetText, token: undefined }
  const found = new URLSearchParams(targetText.slice(question + 1)).get("token")
  return { target: targetText.slice(0, question), token: found === null || found === "" ? undefined : found }
}

/**
 * `-n` / `--receivers`: receivers of the transfer (the `?n` of protocol §2). A one-letter flag is spelled with
 * one dash, so `--n` is `--receivers`.
 */
export const receivers = Flag.Int("receivers").pipe(
  Flag.withAlias("n"),
  // Said before any request, as the usage mistake it is (exit 2), rather than as the server's 400 (exit 1).
  Flag.filter((n) => n >= 1 && n <= 256, () => "Expected an integer from 1 to 256"),
  Flag.optional,
  Flag.withMetavar("N"),
  Flag.withDescription("Receivers, 1-256, the same on every side (default 1)")
)

/** `{ key: value }` for `Some`, `{}` for `None`: an optional property as exactOptionalPropertyTypes wants it. */
export const optionalField = <K extends string, A>(key: K, option: Option.Option<A>): { readonly [P in K]?: A } =>
  Option.match(option, { onNone: () => ({}), onSome: (value) => ({ [key]: value }) as { readonly [P in K]: A } })

/** A failure of the command itself (not of the client), said as is. */
export class CliFailure extends Data.TaggedError("CliFailure")<{ readonly message: string }> {}

/**
 * Exit status without a failed Effect: `runMain` would log a failure as a structured error cause, where a
 * CLI user wants one plain line. With a successful exit `runMain` lets Node exit by itself, which also lets
 * stdout drain: a `process.exit` could cut off the last lines written to a pipe.
 */
export const setExitCode = (code: number) => Effect.sync(() => void (process.exitCode = code))

interface Describable {
  readonly _tag: string
  readonly message: string
}

/** One line: the message, and the tag a script or a bug report can match on. */
const describe = (error: Describable) =>
  error._tag === "CliFailure" ? error.message : `${error.message} (${error._tag})`

/**
 * Runs a client command against the pipe the user named: resolves the target, provides the client, and
 * turns any failure into `pipe <command>: <message>` on stderr and exit status 1 (2 for an unusable target).
 * Interrupted (SIGINT, SIGTERM), it exits 130 or 143 once the command's own finalizers have told the server.
 *
 * The client (undici with it) is imported here, when a client command runs, never by `main`: `pipe server`
 * does not load it, and the idle server's memory stays what the server needs. For the same reason `run` is
 * handed the client instead of asking for its tag: the tag is a value of the lazily loaded module.
 */
export const runAgainst = <E extends Describable, R>(
  command: string,
  typedTarget: string,
  serverUrl: Option.Option<string>,
  givenToken: Option.Option<string>,
  run: (client: PipeClientService, path: string) => Effect.Effect<void, E | CliFailure, R>
): Effect.Effect<void, never, R> =>
  Effect.gen(function*() {
    const [{ resolvePipeUrl }, { PipeClient }, NodePipeClient] = yield* Effect.promise(() =>
      Promise.all([
        import("../client/PipeUrl.js"),
        import("../client/PipeClient.js"),
        import("../client/NodePipeClient.js")
      ])
    )
    const { target: targetText, token: linkToken } = tokenOfTarget(typedTarget)
    const token = Option.getOrUndefined(givenToken) ?? linkToken
    const location = resolvePipeUrl(targetText, Option.getOrUndefined(serverUrl))
    if (Result.isFailure(location)) {
      yield* Console.error(`pipe ${command}: ${location.failure}`)
      return yield* setExitCode(2)
    }
    const { baseUrl, path } = location.success
    yield* Effect.flatMap(PipeClient, (client) => run(client, path)).pipe(
      Effect.provide(NodePipeClient.layer(token === undefined ? { baseUrl } : { baseUrl, token })),
      Effect.catch((error) => Effect.andThen(Console.error(`pipe ${command}: ${describe(error)}`), setExitCode(1)))
    )
  }).pipe(Effect.onInterrupt(() => interruptionFails))
