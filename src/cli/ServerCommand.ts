import * as Command from "@effect/cli/Command"
import * as HelpDoc from "@effect/cli/HelpDoc"
import * as Options from "@effect/cli/Options"
import * as ValidationError from "@effect/cli/ValidationError"
import * as HttpServer from "@effect/platform/HttpServer"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import { Config, Console, Duration, Effect, Layer, Logger, Metric, Option, Schedule } from "effect"
import type { Server } from "node:http"
import { PipeMetrics } from "../actors/PipeMetrics.js"
import { PipeRegistry } from "../actors/PipeRegistry.js"
import { pipeApp } from "../http/App.js"
import { makeNodeListener, withoutUpgrades } from "../http/NodeListener.js"
import type { ServerSettings } from "../ServerConfig.js"
import { defaultSettings, ServerConfig } from "../ServerConfig.js"

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
  Options.text(flag).pipe(
    Options.withFallbackConfig(Config.string(envName(flag))),
    Options.withDefault(fallback),
    Options.withDescription(`${description} Env ${envName(flag)}, default ${fallback}.`)
  )

const integer = (flag: string, fallback: number, description: string) =>
  Options.integer(flag).pipe(
    Options.withFallbackConfig(Config.integer(envName(flag))),
    Options.withDefault(fallback),
    Options.withDescription(`${description} Env ${envName(flag)}, default ${fallback}.`)
  )

const durationValue = (flag: string) => (raw: string) =>
  Option.match(parseDuration(raw), {
    onNone: () =>
      Effect.fail(ValidationError.invalidValue(HelpDoc.p(`--${flag}: "${raw}" is not a duration like 250ms, 30s, 30m, 1h`))),
    onSome: Effect.succeed
  })

const duration = (flag: string, fallback: string, description: string) =>
  text(flag, fallback, description).pipe(Options.mapEffect(durationValue(flag)))

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
    Options.mapEffect((raw) =>
      raw === "none" ? Effect.succeed(Option.none()) : Effect.map(durationValue("wait-timeout")(raw), Option.some)
    )
  ),
  shutdownGrace: duration("shutdown-grace", "30s", "On SIGTERM, how long running transfers may go on."),
  stallTimeout: duration("stall-timeout", "10m", "A transfer that moves no byte for this long ends as aborted."),
  logFormat: Options.choice("log-format", ["json", "pretty"]).pipe(
    Options.withFallbackConfig(Config.literal("json", "pretty")(envName("log-format"))),
    Options.withDefault("json" as const),
    Options.withDescription(`Log line format. Env ${envName("log-format")}, default json.`)
  )
}

/**
 * SIGTERM/SIGINT: stop accepting, refuse new pipe requests, let running transfers finish for up to `grace`,
 * then end every path visibly (receivers see a broken transfer, spectators `done` with `ok: false`) and
 * cut what is left, so the process exits 0 with nothing open.
 */
const gracefulShutdown = (nodeServer: Server, registry: PipeRegistry, grace: Duration.Duration) =>
  Effect.gen(function*() {
    nodeServer.close()
    yield* registry.drain
    const active = yield* Metric.value(PipeMetrics.gauges.transfersActive)
    yield* Effect.logInfo("shutting down").pipe(Effect.annotateLogs({ activeTransfers: active.value }))
    yield* Metric.value(PipeMetrics.gauges.transfersActive).pipe(
      Effect.repeat({ schedule: Schedule.spaced("100 millis"), until: (gauge) => gauge.value <= 0 }),
      // Finalizers run uninterruptibly; the timeout can only cut the wait if the wait may be interrupted.
      Effect.interruptible,
      Effect.timeout(grace),
      Effect.ignore
    )
    yield* registry.shutdown
    // Spectators now read their last `done` and their streams end; give them a moment to flush it.
    yield* Metric.value(PipeMetrics.gauges.spectatorsActive).pipe(
      Effect.repeat({ schedule: Schedule.spaced("20 millis"), until: (gauge) => gauge.value <= 0 }),
      Effect.interruptible,
      Effect.timeout("2 seconds"),
      Effect.ignore
    )
    // A stream's end is counted before the platform has written its last chunk: let that reach the socket.
    yield* Effect.sleep("100 millis")
    nodeServer.closeAllConnections()
  })

/** Runs the server until SIGINT/SIGTERM. */
const serve = (settings: ServerSettings, logFormat: "json" | "pretty") => {
  const nodeServer = makeNodeListener()
  const lifecycle = Layer.scopedDiscard(Effect.gen(function*() {
    const server = yield* HttpServer.HttpServer
    const registry = yield* PipeRegistry
    const address = server.address
    const url = address._tag === "TcpAddress" ? `http://${address.hostname}:${address.port}` : address.path
    yield* Console.log(`pipe listening on ${url}`)
    // Runs before the platform closes the listener (finalizers run in reverse): the graceful shutdown.
    yield* Effect.addFinalizer(() => gracefulShutdown(nodeServer, registry, settings.shutdownGrace))
  }))
  const upgradesOff = Layer.effectDiscard(Effect.sync(() => withoutUpgrades(nodeServer)))
  return upgradesOff.pipe(
    // Built after `serve` has registered the platform's handlers, so that it can take the upgrade one away.
    Layer.provide(HttpServer.serve(pipeApp)),
    Layer.provide(lifecycle),
    Layer.provideMerge(PipeRegistry.Default),
    Layer.provideMerge(NodeHttpServer.layer(() => nodeServer, { host: settings.host, port: settings.port })),
    Layer.provide(Layer.succeed(ServerConfig, settings)),
    Layer.provide(logFormat === "json" ? Logger.json : Logger.pretty),
    Layer.launch
  )
}

export const serverCommand = Command.make("server", serverOptions, ({ logFormat, ...settings }) => serve(settings, logFormat)).pipe(
  Command.withDescription("Run the pipe server.")
)

