import * as Args from "@effect/cli/Args"
import * as Options from "@effect/cli/Options"
import { Config, Console, Data, Effect, Either, Option } from "effect"
import * as NodePipeClient from "../client/NodePipeClient.js"
import type { PipeClient } from "../client/PipeClient.js"
import { resolvePipeUrl } from "../client/PipeUrl.js"

/** `<target>`: a full pipe URL, or a path (`name`, `a/b`, `/api/v1/pipe/name`) with `--server`. */
export const target = Args.text({ name: "target" }).pipe(
  Args.withDescription("A full pipe URL (http://host:port/api/v1/pipe/name), or a pipe path with --server / PIPE_URL.")
)

/** `--server URL`, else env PIPE_URL; only needed when the target is a path. */
export const server = Options.text("server").pipe(
  Options.withFallbackConfig(Config.string("PIPE_URL")),
  Options.optional,
  Options.withDescription("The server's base URL (http://host:port) for a target given as a path. Env PIPE_URL.")
)

/**
 * `-n` / `--receivers`: receivers of the transfer (the `?n` of protocol §2). @effect/cli spells a one-letter
 * option with one dash, so `--n` is `--receivers`.
 */
export const receivers = Options.integer("receivers").pipe(
  Options.withAlias("n"),
  Options.optional,
  Options.withDescription("Receivers of this transfer (1-256); sender and receivers must give the same. Default 1.")
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

/** One line: the message, and the tag a script or a bug report can match on. */
const describe = (error: { readonly _tag: string; readonly message: string }) =>
  error._tag === "CliFailure" ? error.message : `${error.message} (${error._tag})`

/**
 * Runs a client command against the pipe the user named: resolves the target, provides the client, and
 * turns any failure into `pipe <command>: <message>` on stderr and exit status 1 (2 for an unusable target).
 */
export const runAgainst = <E extends { readonly _tag: string; readonly message: string }, R>(
  command: string,
  targetText: string,
  serverUrl: Option.Option<string>,
  run: (path: string) => Effect.Effect<void, E | CliFailure, R | PipeClient>
): Effect.Effect<void, never, Exclude<R, PipeClient>> =>
  Either.match(resolvePipeUrl(targetText, Option.getOrUndefined(serverUrl)), {
    onLeft: (message) => Effect.zipRight(Console.error(`pipe ${command}: ${message}`), setExitCode(2)),
    onRight: ({ baseUrl, path }) =>
      run(path).pipe(
        Effect.provide(NodePipeClient.layer({ baseUrl })),
        Effect.catchAll((error) =>
          Effect.zipRight(Console.error(`pipe ${command}: ${describe(error)}`), setExitCode(1))
        )
      )
  })
