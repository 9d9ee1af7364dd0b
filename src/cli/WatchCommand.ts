import { Console, Effect, Schema, Stream } from "effect"
import * as Command from "effect/cli/Command"
import * as Flag from "effect/cli/Flag"
import type { DoneEvent, PipeEvent } from "../schema/PipeEvent.js"
import { PipeEvent as PipeEventSchema } from "../schema/PipeEvent.js"
import { runAgainst, server, setExitCode, target } from "./PipeTarget.js"
import { formatAmount, formatBytes, formatRate, formatSeconds, makeStatusLine } from "./StatusLine.js"

const options = {
  server,
  untilDone: Flag.Boolean("until-done").pipe(
    Flag.withDefault(false),
    Flag.withDescription("Exit when the transfer running now, or else the next one, ends")
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
        ...(event.etaSec === null ? [] : [`ETA ${formatSeconds(event.etaSec)}`]),
        formatSeconds(event.elapsedSec)
      ].join(" · ")
    case "done":
      return [
        event.ok ? "done · ok" : "done · failed",
        `${formatBytes(event.bytes)} in ${formatSeconds(event.durationSec)} (${formatRate(event.avgMbps)})`,
        ...(event.error === null ? [] : [event.error])
      ].join(" · ")
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
    runAgainst("watch", args.target, args.server, (client, path) =>
      Effect.gen(function*() {
        const json = args.json || process.stdout.isTTY !== true
        const line = makeStatusLine(process.stdout, 0)
        let done: DoneEvent | undefined
        yield* client.watch(path, { untilDone: args.untilDone }).pipe(
          Stream.runForEach((event) => {
            if (event.event === "done") done = event
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
