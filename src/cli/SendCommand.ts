import * as Args from "@effect/cli/Args"
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import * as FileSystem from "@effect/platform/FileSystem"
import * as Path from "@effect/platform/Path"
import { Effect, Option, Stream } from "effect"
import type { SendBody } from "../client/PipeClient.js"
import { PipeClient } from "../client/PipeClient.js"
import { SendUpdate } from "../client/SenderStatus.js"
import { optionalField, receivers, runAgainst, server, target } from "./PipeTarget.js"
import { averageMbps, formatAmount, formatBytes, formatRate, formatSeconds, makeStatusLine } from "./StatusLine.js"

const options = {
  server,
  n: receivers,
  total: Options.integer("total").pipe(
    Options.optional,
    Options.withDescription("Bytes to expect when reading stdin, so spectators get a percentage and an ETA.")
  ),
  contentType: Options.text("content-type").pipe(
    Options.optional,
    Options.withDescription("The receivers' Content-Type. Default application/octet-stream.")
  ),
  filename: Options.text("filename").pipe(
    Options.optional,
    Options.withDescription("The file name offered to receivers (Content-Disposition). Default: the file's name.")
  ),
  target,
  file: Args.file({ name: "file", exists: "yes" }).pipe(
    Args.optional,
    Args.withDescription("The file to send; stdin when absent.")
  )
}

/**
 * `pipe send <target> [file]`: streams a file, or stdin, to the pipe's receivers. On a terminal, stderr shows
 * a live line (bytes, speed, the server's latest word); otherwise it stays silent. Exit status 0 only when
 * the server confirmed that every receiver got everything.
 */
export const sendCommand = Command.make("send", options, (args) =>
  runAgainst("send", args.target, args.server, (path) =>
    Effect.gen(function*() {
      const client = yield* PipeClient
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
        Stream.runForEach((update) =>
          SendUpdate.$match(update, {
            Status: ({ message }) => {
              status = message
              return line.update(view())
            },
            Uploaded: (uploaded) => {
              bytes = uploaded.bytes
              return line.update(view())
            }
          })
        ),
        Effect.onError(() => line.clear)
      )
      const seconds = (Date.now() - startedAt) / 1000
      yield* line.finish(`↑ ${formatBytes(bytes)} sent in ${formatSeconds(seconds)} · ${status}`)
    })
  )
).pipe(Command.withDescription("Send a file, or stdin, into a pipe. Exit status 0 once every receiver got it all."))
