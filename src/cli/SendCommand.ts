import { Effect, FileSystem, Option, Path, Stream } from "effect"
import * as Argument from "effect/cli/Argument"
import * as Command from "effect/cli/Command"
import * as Flag from "effect/cli/Flag"
import type { SendBody } from "../client/PipeClient.js"
import { optionalField, receivers, runAgainst, server, target } from "./PipeTarget.js"
import { averageMbps, formatAmount, formatBytes, formatRate, formatSeconds, makeStatusLine } from "./StatusLine.js"

const options = {
  server,
  n: receivers,
  total: Flag.Int("total").pipe(
    Flag.optional,
    Flag.withDescription("Bytes to expect when reading stdin, so spectators get a percentage and an ETA.")
  ),
  contentType: Flag.String("content-type").pipe(
    Flag.optional,
    Flag.withDescription("The receivers' Content-Type. Default application/octet-stream.")
  ),
  filename: Flag.String("filename").pipe(
    Flag.optional,
    Flag.withDescription("The file name offered to receivers (Content-Disposition). Default: the file's name.")
  ),
  target,
  file: Argument.File("file", { mustExist: true }).pipe(
    Argument.withDescription("The file to send; stdin when absent."),
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
    runAgainst("send", args.target, args.server, (client, path) =>
      Effect.gen(function*() {
        const fs = yield* FileSystem.FileSystem
        const pathApi = yield* Path.Path
        const file = Option.getOrUndefined(args.file)
        const size = file === undefined ? undefined : Number((yield* fs.stat(file)).size)
        const total = size ?? Option.getOrUndefined(args.total)
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
          ...(size === undefined ? optionalField("total", args.total) : {}),
          ...optionalField("contentType", args.contentType),
          ...optionalField("filename", filename)
        }).pipe(
          Stream.runForEach((update) => {
            if (update._tag === "Status") status = update.message
            else bytes = update.bytes
            return line.update(view())
          }),
          Effect.onError(() => line.clear)
        )
        const seconds = (Date.now() - startedAt) / 1000
        yield* line.finish(`↑ ${formatBytes(bytes)} sent in ${formatSeconds(seconds)} · ${status}`)
      }))
).pipe(Command.withDescription("Send a file, or stdin, into a pipe. Exit status 0 once every receiver got it all."))
