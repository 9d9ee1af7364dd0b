import { Effect, FileSystem, Option, Stdio, Stream } from "effect"
import * as Argument from "effect/cli/Argument"
import * as Command from "effect/cli/Command"
import { CliFailure, optionalField, receivers, runAgainst, server, target } from "./PipeTarget.js"
import { averageMbps, formatAmount, formatBytes, formatRate, formatSeconds, makeStatusLine } from "./StatusLine.js"

const options = {
  server,
  n: receivers,
  target,
  file: Argument.File("file").pipe(
    Argument.withDescription("Where to write the data; stdout when absent. Created once the transfer starts."),
    Argument.optional
  )
}

/**
 * `pipe receive <target> [file]`: waits for the pipe's next transfer and writes it out. A transfer that breaks
 * midway exits with status 1 and says so: a truncated copy never passes for a complete one.
 */
export const receiveCommand = Command.make(
  "receive",
  options,
  (args) =>
    runAgainst("receive", args.target, args.server, (client, path) =>
      Effect.gen(function*() {
        const fs = yield* FileSystem.FileSystem
        const stdio = yield* Stdio.Stdio
        const line = makeStatusLine(process.stderr)
        yield* line.update("↓ waiting for the sender…")
        yield* Effect.scoped(Effect.gen(function*() {
          const incoming = yield* client.openReceive(path, optionalField("n", args.n))
          const total = Option.getOrUndefined(incoming.contentLength)
          const startedAt = Date.now()
          let bytes = 0
          const counted = incoming.stream.pipe(
            Stream.tap((chunk) => {
              bytes += chunk.length
              return line.update(
                `↓ ${formatAmount(bytes, total)} · ${formatRate(averageMbps(bytes, startedAt, Date.now()))}`
              )
            })
          )
          // The file is opened only now that the transfer has started: a refused receiver leaves nothing behind.
          yield* Option.match(args.file, {
            onNone: () =>
              Stream.run(counted, stdio.stdout()).pipe(
                Effect.catchTag(
                  "PlatformError",
                  (error) => Effect.fail(new CliFailure({ message: `cannot write to stdout: ${error.message}` }))
                )
              ),
            onSome: (file) => Stream.run(counted, fs.sink(file))
          })
          yield* line.finish(`↓ ${formatBytes(bytes)} received in ${formatSeconds((Date.now() - startedAt) / 1000)}`)
        })).pipe(Effect.onError(() => line.clear))
      }))
).pipe(Command.withDescription("Receive a pipe's next transfer into a file, or stdout. Exit status 1 if it broke."))
