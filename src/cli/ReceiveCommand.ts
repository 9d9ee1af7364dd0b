import { Console, Effect, FileSystem, Option, Stdio, Stream } from "effect"
import * as Argument from "effect/cli/Argument"
import * as Command from "effect/cli/Command"
import { formatBytes, formatDuration, formatRate } from "../domain/Format.js"
import { CliFailure, optionalField, receivers, runAgainst, server, target, token } from "./PipeTarget.js"
import { averageMbps, formatAmount, incompleteAmount, makeStatusLine } from "./StatusLine.js"

const options = {
  server,
  token,
  n: receivers,
  target,
  file: Argument.File("file").pipe(
    Argument.withDescription("Where to write (created when it starts); default stdout"),
    Argument.optional
  )
}

/** What a receiver holds once its transfer has started: bytes so far, of `total` when the sender said. */
interface Received {
  readonly total: number | undefined
  bytes: number
}

/** What an interrupted receiver says it leaves behind; a file is measured on disk. */
const interruptedMessage = (
  fs: FileSystem.FileSystem,
  file: Option.Option<string>,
  received: Received | undefined
): Effect.Effect<string> => {
  if (received === undefined) return Effect.succeed("interrupted while waiting for the sender")
  const { total } = received
  return Option.match(file, {
    onNone: () => Effect.succeed(`interrupted after ${formatAmount(received.bytes, total)}`),
    onSome: (path) =>
      fs.stat(path).pipe(
        Effect.map((info) => Number(info.size)),
        Effect.orElseSucceed(() => received.bytes),
        Effect.map((bytes) => `interrupted: ${path} is incomplete (${incompleteAmount(bytes, total)})`)
      )
  })
}

/**
 * `pipe receive <target> [file]`: waits for the pipe's next transfer and writes it out. A transfer that breaks
 * midway exits with status 1 and says so: a truncated copy never passes for a complete one. Interrupted, it
 * closes its connection (the sender learns that its receiver left) and says how much of the file is missing.
 */
export const receiveCommand = Command.make(
  "receive",
  options,
  (args) =>
    runAgainst("receive", args.target, args.server, args.token, (client, path) =>
      Effect.gen(function*() {
        const fs = yield* FileSystem.FileSystem
        const stdio = yield* Stdio.Stdio
        const line = makeStatusLine(process.stderr)
        let received: Received | undefined
        yield* line.update("↓ waiting for the sender…")
        yield* Effect.scoped(Effect.gen(function*() {
          const incoming = yield* client.openReceive(path, optionalField("n", args.n))
          const progress = received = { total: Option.getOrUndefined(incoming.contentLength), bytes: 0 }
          const startedAt = Date.now()
          const counted = incoming.stream.pipe(
            Stream.tap((chunk) => {
              progress.bytes += chunk.length
              return line.update(
                `↓ ${formatAmount(progress.bytes, progress.total)} · ${
                  formatRate(averageMbps(progress.bytes, startedAt, Date.now()))
                }`
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
          yield* line.finish(
            `↓ ${formatBytes(progress.bytes)} received in ${formatDuration((Date.now() - startedAt) / 1000)}`
          )
        })).pipe(
          Effect.onError(() => line.clear),
          // After the scope closed: the connection is gone (the server has seen this receiver leave) and the
          // file is closed, so its size is what is on disk.
          Effect.onInterrupt(() =>
            Effect.flatMap(
              interruptedMessage(fs, args.file, received),
              (message) => Console.error(`pipe receive: ${message}`)
            )
          )
        )
      }))
).pipe(
  Command.withDescription(
    "Receive a pipe's next transfer into a file, or stdout. Exit status: 0 when it\n" +
      "is complete, 1 if it broke, 2 usage error, 130/143 interrupted."
  ),
  Command.withShortDescription("Receive a pipe's next transfer into a file or stdout"),
  Command.withExamples([
    { command: "pipe receive http://host:8080/api/v1/pipe/backup backup.tar" },
    { command: "pipe receive --server http://host:8080 pics | tar xzf -" }
  ])
)
