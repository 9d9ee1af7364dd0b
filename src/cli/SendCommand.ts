import { Console, Effect, FileSystem, Option, Path, Stream } from "effect"
import * as Argument from "effect/cli/Argument"
import * as CliError from "effect/cli/CliError"
import * as Command from "effect/cli/Command"
import * as Flag from "effect/cli/Flag"
import type { SendBody } from "../client/PipeClient.js"
import { canonicalPrefix, pipeName } from "../client/PipeUrl.js"
import { isWatchOnly } from "../domain/CapabilityToken.js"
import { formatBytes, formatDuration, formatRate } from "../domain/Format.js"
import { randomPipeName } from "../domain/RandomName.js"
import { optionalField, receivers, runAgainst, server, target, token } from "./PipeTarget.js"
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

/**
 * Where the receivers and spectators of a made-up name go, on stderr (stdout may be a pipe). The watch link
 * carries the token only when it is a watch-only one: a link is forwarded, and must never hand over the data.
 */
const sharingLines = (baseUrl: string, path: string, token: string | undefined) => {
  const url = `${baseUrl}${canonicalPrefix}${pipeName(path)}`
  const watchToken = token !== undefined && isWatchOnly(token) ? `&token=${encodeURIComponent(token)}` : ""
  return [
    `pipe send: sending to ${url}`,
    `  receive: pipe receive ${url}   (or: curl ${url} > file)`,
    `  watch:   ${url}?progress${watchToken}`
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
    runAgainst("send", chosenTarget(args.target), args.server, args.token, (client, path) =>
      Effect.gen(function*() {
        if (!Option.exists(args.target, (typed) => !isServerOnly(typed))) {
          yield* Console.error(sharingLines(client.baseUrl, path, Option.getOrUndefined(args.token)))
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
