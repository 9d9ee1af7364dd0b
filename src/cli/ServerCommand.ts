import { Config, Duration, Effect, Option } from "effect"
import * as Command from "effect/cli/Command"
import * as Flag from "effect/cli/Flag"
import type { LogFormat } from "../ServerConfig.js"
import { defaultSettings } from "../ServerConfig.js"

const envName = (flag: string) => `PIPE_${flag.toUpperCase().replace(/-/g, "_")}`

/** `250ms`, `30s`, `30m`, `1h` (protocol §8). */
const parseDuration = (text: string): Option.Option<Duration.Duration> => {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(text.trim())
  if (match === null) return Option.none()
  const value = Number(match[1])
  switch (match[2]) {
    case "ms":
      return Option.some(Duration.millis(value))
    case "s":
      return Option.some(Duration.seconds(value))
    case "m":
      return Option.some(Duration.minutes(value))
    default:
      return Option.some(Duration.hours(value))
  }
}

const text = (flag: string, fallback: string, description: string) =>
  Flag.String(flag).pipe(
    Flag.withFallbackConfig(Config.String(envName(flag))),
    Flag.withDefault(fallback),
    Flag.withDescription(`${description} Env ${envName(flag)}, default ${fallback}.`)
  )

const integer = (flag: string, fallback: number, description: string) =>
  Flag.Int(flag).pipe(
    Flag.withFallbackConfig(Config.Int(envName(flag))),
    Flag.withDefault(fallback),
    Flag.withDescription(`${description} Env ${envName(flag)}, default ${fallback}.`)
  )

/** Said after the CLI's own `Invalid value for flag --<flag>: "<raw>".` */
const notADuration = () => "Expected a duration like 250ms, 30s, 30m, 1h"

const duration = (flag: string, fallback: string, description: string) =>
  text(flag, fallback, description).pipe(Flag.filterMap(parseDuration, notADuration))

const serverOptions = {
  host: text("host", defaultSettings.host, "Address to listen on."),
  port: integer("port", defaultSettings.port, "Port to listen on (0 picks a free one)."),
  maxSpectators: integer("max-spectators", defaultSettings.maxSpectators, "Spectators per path."),
  maxSpectatorsTotal: integer(
    "max-spectators-total",
    defaultSettings.maxSpectatorsTotal,
    "Spectator connections on the whole server."
  ),
  spectatorTtl: duration("spectator-ttl", "30m", "Longest life of one spectator connection."),
  retention: duration("retention", "30s", "How long a finished transfer's result stays visible."),
  progressInterval: duration("progress-interval", "250ms", "Cadence of progress events."),
  maxReceivers: integer("max-receivers", defaultSettings.maxReceivers, "Largest n a transfer may ask for."),
  maxPipes: integer("max-pipes", defaultSettings.maxPipes, "Paths alive at once; the next new one gets 503."),
  waitTimeout: text("wait-timeout", "none", "How long a sender or receiver may wait for the other side.").pipe(
    Flag.filterMap(
      (raw) => raw === "none" ? Option.some(Option.none()) : Option.map(parseDuration(raw), Option.some),
      () => "Expected none, or a duration like 250ms, 30s, 30m, 1h"
    )
  ),
  shutdownGrace: duration("shutdown-grace", "30s", "On SIGTERM, how long running transfers may go on."),
  stallTimeout: duration("stall-timeout", "10m", "A transfer that moves no byte for this long ends as aborted."),
  historyTtl: duration("history-ttl", "24h", "How long a path's last result is kept after its transfer."),
  historyMax: integer("history-max", defaultSettings.historyMax, "Paths whose last result is kept; oldest go first."),
  dataDir: Flag.String("data-dir").pipe(
    Flag.withFallbackConfig(Config.String(envName("data-dir"))),
    Flag.optional,
    Flag.withDescription(
      `Keep the last results in a SQLite file in this directory, across restarts. Env ${
        envName("data-dir")
      }, default none (memory).`
    )
  ),
  logFormat: Flag.Literals("log-format", ["json", "pretty"]).pipe(
    Flag.withFallbackConfig(Config.Literals(["json", "pretty"], envName("log-format"))),
    Flag.withDefault<LogFormat>("json"),
    Flag.withDescription(`Log line format. Env ${envName("log-format")}, default json.`)
  )
}

/**
 * `pipe server`: runs until SIGINT/SIGTERM. The server is imported only now, so that the client commands never
 * load it (nor it them).
 */
export const serverCommand = Command.make(
  "server",
  serverOptions,
  ({ logFormat, ...settings }) =>
    Effect.gen(function*() {
      const { serve } = yield* Effect.promise(() => import("../http/Server.js"))
      yield* serve(settings, logFormat)
    })
).pipe(Command.withDescription("Run the pipe server."))
