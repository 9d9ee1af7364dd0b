import { Config, Console, Effect, FileSystem, Option, Path, Result, Stream } from "effect"
import * as Argument from "effect/cli/Argument"
import * as CliError from "effect/cli/CliError"
import * as Command from "effect/cli/Command"
import * as Flag from "effect/cli/Flag"
import type { SendBody } from "../client/PipeClient.js"
import { canonicalPrefix, pipeName, resolvePipeUrl } from "../client/PipeUrl.js"
import type { Role } from "../domain/AccessGrant.js"
import { isWatchOnly, mintToken } from "../domain/CapabilityToken.js"
import { formatBytes, formatDuration, formatRate } from "../domain/Format.js"
import { randomPipeName } from "../domain/RandomName.js"
import {
  optionalField,
  receivers,
  runAgainst,
  server,
  setExitCode,
  target,
  token,
  tokenOfTarget
} from "./PipeTarget.js"
import { readSecretFile } from "./SecretFile.js"
import { averageMbps, formatAmount, makeStatusLine } from "./StatusLine.js"
import { apparentSize } from "./TreeSize.js"

/** A server's URL with no pipe in it: `http://host:8080` or `http://host:8080/`. */
const isServerOnly = (typed: string) => /^https?:\/\/[^/?#]+\/?$/i.test(typed.trim())

/**
 * The target, or one made up: without a name (none given, or a server URL alone) the pipe gets 128 random bits
 * as its name (22 URL-safe characters), so nobody can find it by guessing, as `backup` is found.
 */
const chosenTarget = (typed: Option.Option<string>): string => {
  const name = randomPipeName()
  return Option.match(typed, {
    onNone: () => name,
    onSome: (text) => isServerOnly(text) ? `${text.trim().replace(/\/+$/, "")}/api/v1/pipe/${name}` : text
  })
}

/** Tokens minted for one pipe with `--token-secret`: the sender's own, and one per link it prints. */
interface LinkTokens {
  readonly send: string
  readonly receive: string
  readonly watch: string
}

const linkTtlMs = 8 * 3_600_000

/**
 * With `--token-secret` (or PIPE_TOKEN_SECRET), signed tokens for this pipe alone, valid 8 hours: the sender's
 * own (unless `--token` gives one), a receive-only one for the receiver's link and a watch-only one for the
 * dashboard's, so neither link opens anything else, nor after the night.
 */
const linkTokens = (targetText: string, serverUrl: Option.Option<string>, secretFile: Option.Option<string>) =>
  Effect.gen(function*() {
    if (Option.isNone(secretFile)) return Result.succeed<LinkTokens | undefined>(undefined)
    const secret = yield* readSecretFile(secretFile.value)
    if (Result.isFailure(secret)) return Result.fail(secret.failure)
    const location = resolvePipeUrl(tokenOfTarget(targetText).target, Option.getOrUndefined(serverUrl))
    // An unusable target is said by the command itself, as without a secret.
    if (Result.isFailure(location)) return Result.succeed<LinkTokens | undefined>(undefined)
    const path = pipeName(location.success.path)
    const expiresAt = Date.now() + linkTtlMs
    const mint = (role: Role) => mintToken(secret.success, { path, prefix: false, roles: [role], expiresAt })
    return Result.succeed<LinkTokens | undefined>({
      send: mint("send"),
      receive: mint("receive"),
      watch: mint("watch")
    })
  })

/**
 * Where the receivers and spectators go, on stderr (stdout may be a pipe). A link carries a token only when it
 * grants that link's use and nothing else (the minted ones, or a watch-only `--token` on the watch link): a
 * link is forwarded, and must never hand over more than it says.
 */
const sharingLines = (baseUrl: string, path: string, token: string | undefined, links: LinkTokens | undefined) => {
  const url = `${baseUrl}${canonicalPrefix}${pipeName(path)}`
  const watchToken = links?.watch ?? (token !== undefined && isWatchOnly(token) ? token : undefined)
  const receiveUrl = links === undefined ? url : `${url}?token=${encodeURIComponent(links.receive)}`
  return [
    `pipe send: sending to ${url}`,
    `  receive: pipe receive '${receiveUrl}'   (or: curl '${receiveUrl}' > file)`,
    `  watch:   ${url}?progress${watchToken === undefined ? "" : `&token=${encodeURIComponent(watchToken)}`}`
  ].join("\n")
}

const options = {
  server,
  token,
  n: receivers,
  total: Flag.Int("total").pipe(
    Flag.filter((bytes) => bytes >= 0, () => "Expected a byte count (0 or more)"),
    Flag.optional,
    Flag.withMetavar("BYTES"),
    Flag.withDescription("Size of stdin, so spectators get a percent and an ETA")
  ),
  totalOf: Flag.Path("total-of", { mustExist: true }).pipe(
    Flag.optional,
    Flag.withMetavar("PATH"),
    Flag.withDescription("--total as du -sb PATH counts it (approximate for tar)")
  ),
  contentType: Flag.String("content-type").pipe(
    Flag.optional,
    Flag.withMetavar("TYPE"),
    Flag.withDescription("Receivers' Content-Type (application/octet-stream)")
  ),
  filename: Flag.String("filename").pipe(
    Flag.optional,
    Flag.withMetavar("NAME"),
    Flag.withDescription("File name offered to receivers (default: the file's)")
  ),
  tokenSecret: Flag.String("token-secret").pipe(
    Flag.withFallbackConfig(Config.String("PIPE_TOKEN_SECRET")),
    Flag.optional,
    Flag.withMetavar("FILE"),
    Flag.withDescription("Print receive and watch links with 8h tokens")
  ),
  target: target.pipe(
    Argument.withDescription("Pipe URL or NAME; none (or a server URL alone): a random, unguessable name"),
    Argument.optional
  ),
  file: Argument.File("file", { mustExist: true }).pipe(
    Argument.withDescription("File to send (its size is the total); default stdin"),
    Argument.optional
  )
}

/**
 * `pipe send <target> [file]`: streams a file, or stdin, to the pipe's receivers. On a terminal, stderr shows
 * a live line (bytes, speed, the server's latest word); otherwise it stays silent. Exit status 0 only when
 * the server confirmed that every receiver got everything.
 */
export const sendCommand = Command.make(
  "send",
  options,
  (args) =>
    Effect.gen(function*() {
      const targetText = chosenTarget(args.target)
      const made = !Option.exists(args.target, (typed) => !isServerOnly(typed))
      const links = yield* linkTokens(targetText, args.server, args.tokenSecret)
      if (Result.isFailure(links)) {
        yield* Console.error(`pipe send: ${links.failure}`)
        return yield* setExitCode(1)
      }
      const token = Option.orElse(args.token, () => Option.fromUndefinedOr(links.success?.send))
      yield* runAgainst("send", targetText, args.server, token, (client, path) =>
        Effect.gen(function*() {
          if (made || links.success !== undefined) {
            yield* Console.error(sharingLines(client.baseUrl, path, Option.getOrUndefined(token), links.success))
          }
          const fs = yield* FileSystem.FileSystem
          const pathApi = yield* Path.Path
          const file = Option.getOrUndefined(args.file)
          const size = file === undefined ? undefined : Number((yield* fs.stat(file)).size)
          const announced = Option.isSome(args.totalOf)
            ? Option.some(yield* apparentSize(args.totalOf.value))
            : args.total
          const total = size ?? Option.getOrUndefined(announced)
          const filename = Option.orElse(args.filename, () => Option.map(args.file, (f) => pathApi.basename(f)))
          const body: SendBody = file ?? process.stdin
          const line = makeStatusLine(process.stderr)
          const startedAt = Date.now()
          let status = "connecting"
          let bytes = 0
          const view = () =>
            `↑ ${formatAmount(bytes, total)} · ${formatRate(averageMbps(bytes, startedAt, Date.now()))} · ${status}`

          yield* client.sendUpdates(path, body, {
            ...optionalField("n", args.n),
            // A file's size goes out as Content-Length; --total is for bodies of unknown length.
            ...(size === undefined ? optionalField("total", announced) : {}),
            ...optionalField("contentType", args.contentType),
            ...optionalField("filename", filename)
          }).pipe(
            Stream.runForEach((update) => {
              if (update._tag === "Status") status = update.message
              else bytes = update.bytes
              return line.update(view())
            }),
            Effect.onError(() => line.clear),
            // By now the upload is aborted, never ended cleanly: the server sees a broken transfer, and so do the
            // receivers and spectators.
            // The count is the upload's last sample (every 100 ms), so it is a floor: "at least".
            Effect.onInterrupt(() =>
              Console.error(
                `pipe send: interrupted after at least ${
                  formatAmount(bytes, total)
                }: the upload was aborted, receivers see a broken transfer`
              )
            )
          )
          const seconds = (Date.now() - startedAt) / 1000
          yield* line.finish(`↑ ${formatBytes(bytes)} sent in ${formatDuration(seconds)} · ${status}`)
        }))
    })
).pipe(
  Command.validate(({ total, totalOf }) =>
    Option.isSome(total) && Option.isSome(totalOf)
      ? Effect.fail(new CliError.ValidationError({ message: "give --total or --total-of, not both" }))
      : Effect.void
  ),
  Command.validate(({ server, target }) =>
    Option.isNone(target) && Option.isNone(server)
      ? Effect.fail(
        new CliError.ValidationError({
          message: "give a pipe URL, or --server URL (or PIPE_URL) to send under a random name"
        })
      )
      : Effect.void
  ),
  Command.withDescription(
    "Send a file, or stdin, into a pipe. Exit status: 0 once every receiver got it\n" +
      "all, 1 if not, 2 usage error, 130/143 interrupted (the upload is aborted)."
  ),
  Command.withShortDescription("Send a file or stdin into a pipe"),
  Command.withExamples([
    { command: "pipe send http://host:8080/api/v1/pipe/backup backup.tar" },
    { command: "tar czf - pics | pipe send --total-of pics --server http://host:8080 pics" }
  ])
)
