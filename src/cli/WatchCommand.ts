import { Console, Effect, Schema, Stream } from "effect"
import * as Command from "effect/cli/Command"
import * as Flag from "effect/cli/Flag"
import { formatBytes, formatDuration, formatRate } from "../domain/Format.js"
import type { DoneEvent, PipeEvent } from "../schema/PipeEvent.js"
import { PipeEvent as PipeEventSchema } from "../schema/PipeEvent.js"
import { runAgainst, server, setExitCode, target, token } from "./PipeTarget.js"
import { formatAmount, makeStatusLine } from "./StatusLine.js"

const options = {
  server,
  token,
  untilDone: Flag.Boolean("until-done").pipe(
    Flag.withDefault(false),
    Flag.withDescription("Exit when the transfer running now, or else the next one, ends")
  ),
  lines: Flag.Boolean("lines").pipe(
    Flag.withDefault(false),
    Flag.withDescription("A line in words per state change and result (for bots)")
  ),
  json: Flag.Boolean("json").pipe(
    Flag.withDefault(false),
    Flag.withDescription("One JSON event per line (always when stdout is not a terminal)")
  ),
  target
}

const encodeEvent = Schema.encodeSync(PipeEventSchema)

/** `{"event":"progress","transferId":…,"bytes":…}`: the event's data with its name added (protocol §5). */
export const eventJson = (event: PipeEvent): string => JSON.stringify(encodeEvent(event))

/** The live view of one event, as one terminal line. */
const describe = (event: PipeEvent): string => {
  switch (event.event) {
    case "state":
      return [
        event.state,
        `sender ${event.sender ? "connected" : "absent"}`,
        `receivers ${event.receivers}/${event.expectedReceivers}`
      ].join(" · ")
    case "progress":
      return [
        `streaming · ${formatAmount(event.bytes, event.total ?? undefined)}`,
        formatRate(event.mbps),
        ...(event.etaSec === null ? [] : [`ETA ${formatDuration(event.etaSec)}`]),
        formatDuration(event.elapsedSec)
      ].join(" · ")
    case "done":
      return resultLine(event)
  }
}

/**
 * How a transfer ended, in words: `complete · 7.60 GB in 8h 02m (263 MB/s) · no errors`, or `aborted · 2.00 MB
 * (9.00 MB expected) in 3.0 s (0.67 MB/s) · The sender aborted halfway.` The same facts as the dashboard's done card.
 */
export const resultLine = (done: DoneEvent): string => {
  const expected = done.total !== null && done.total !== done.bytes ? ` (${formatBytes(done.total)} expected)` : ""
  return [
    done.ok ? "complete" : "aborted",
    `${formatBytes(done.bytes)}${expected} in ${formatDuration(done.durationSec)} (${formatRate(done.avgMbps)})`,
    done.error ?? "no errors"
  ].join(" · ")
}

/** `--lines`: what a chat bot posts, a line per change of state and per result; no progress, no idle. */
const sentence = (event: PipeEvent): string | undefined => {
  switch (event.event) {
    case "state":
      return event.state === "idle" || event.state === "complete" || event.state === "aborted"
        ? undefined
        : describe(event)
    case "progress":
      return undefined
    case "done":
      return resultLine(event)
  }
}

/**
 * `pipe watch <target>`: follows a pipe's spectator stream, reconnecting when it drops. On a terminal a
 * live line; otherwise, or with `--json`, one JSON event per line for scripts.
 */
export const watchCommand = Command.make(
  "watch",
  options,
  (args) =>
    runAgainst("watch", args.target, args.server, args.token, (client, path) =>
      Effect.gen(function*() {
        const json = args.json || process.stdout.isTTY !== true
        const line = makeStatusLine(process.stdout, 0)
        let done: DoneEvent | undefined
        yield* client.watch(path, { untilDone: args.untilDone }).pipe(
          Stream.runForEach((event) => {
            if (event.event === "done") done = event
            if (args.lines) {
              const text = sentence(event)
              return text === undefined ? Effect.void : Console.log(text)
            }
            if (json) return Console.log(eventJson(event))
            return event.event === "done" ? line.finish(describe(event)) : line.update(describe(event))
          }),
          Effect.onError(() => line.clear)
        )
        if (args.untilDone) yield* setExitCode(done?.ok === true ? 0 : 1)
      }))
).pipe(
  Command.withDescription(
    "Watch a pipe's transfers live: state, progress and each one's result. Exit\n" +
      "status with --until-done: 0 if that transfer succeeded, 1 if not; 2 usage\n" +
      "error, 130/143 interrupted."
  ),
  Command.withShortDescription("Watch a pipe's transfers: state, progress, result"),
  Command.withExamples([
    { command: "pipe watch http://host:8080/api/v1/pipe/backup" },
    { command: "pipe watch --until-done --server http://host:8080 backup && echo ok" }
  ])
)
