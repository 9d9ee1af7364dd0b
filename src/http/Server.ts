import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import type { Metric } from "effect"
import { Console, Duration, Effect, Layer, Logger, Option, Schedule, Scheduler } from "effect"
import * as HttpServer from "effect/http/HttpServer"
import { gaugeValue, PipeMetrics } from "../actors/PipeMetrics.js"
import { PipeRegistry } from "../actors/PipeRegistry.js"
import { FiberScheduler } from "../FiberScheduler.js"
import { historyLayer } from "../history/HistoryLayer.js"
import type { HistoryUnavailable } from "../history/TransferHistory.js"
import type { LogFormat, ServerSettings } from "../ServerConfig.js"
import { ServerConfig } from "../ServerConfig.js"
import { TransferRunnerLive } from "../transfer/Transfer.js"
import { AccessControl } from "./AccessControl.js"
import type { AccessSetupFailed } from "./AccessControl.js"
import { serveAdmin } from "./AdminListener.js"
import { pipeApp } from "./App.js"
import { ClientAddress } from "./ClientAddress.js"
import { ConnectionLimit } from "./ConnectionLimit.js"
import { Hangup, reloadOnHangup } from "./Hangup.js"
import type { NodeListener } from "./NodeListener.js"
import { makeNodeListener, withoutUpgrades } from "./NodeListener.js"
import type { TlsFiles, TlsSetupFailed } from "./TlsCredentials.js"
import { readCredentials, tlsFilesOf } from "./TlsCredentials.js"

/** Polls a gauge until it reaches zero or `limit` passes; interruptible, for finalizers are not. */
const awaitZero = (gauge: Metric.Gauge<number>, every: Duration.Input, limit: Duration.Input) =>
  gaugeValue(gauge).pipe(
    Effect.repeat({ schedule: Schedule.spaced(every), until: (value) => value <= 0 }),
    Effect.interruptible,
    Effect.timeout(limit),
    Effect.ignore
  )

/**
 * SIGTERM/SIGINT: a drain a load balancer can follow (protocol §11). The node keeps listening while running
 * transfers finish (for up to `grace`): `/healthz` answers 503 `draining`, so the balancer's checks move new
 * paths elsewhere; waiting parties and new pipe requests get 503 + `Retry-After` at once, so their clients
 * retry on the node that takes the path next. Then the listener closes, every path still open ends visibly
 * (receivers see a broken transfer, spectators `done` with `ok: false`) and what is left is cut, so the
 * process exits 0 with nothing open.
 */
const gracefulShutdown = (listener: NodeListener, registry: PipeRegistry["Service"], settings: ServerSettings) =>
  Effect.gen(function*() {
    yield* registry.drain
    const active = yield* gaugeValue(PipeMetrics.gauges.transfersActive)
    yield* Effect.logInfo("draining").pipe(Effect.annotateLogs({ activeTransfers: active }))
    yield* awaitZero(PipeMetrics.gauges.transfersActive, "100 millis", settings.shutdownGrace)
    listener.server.close()
    yield* Effect.logInfo("shutting down")
    yield* registry.shutdown
    // Spectators now read their last `done` and their streams end; give them a moment to flush it.
    yield* awaitZero(PipeMetrics.gauges.spectatorsActive, "20 millis", "2 seconds")
    // A stream's end is counted before its last chunk reached the socket: let it get there.
    yield* Effect.sleep("100 millis")
    listener.closeAllConnections()
  })

/**
 * SIGHUP reads the certificate and key again: new connections get the new pair, connections already open
 * (and the transfers on them) keep the one they were made with.
 */
const reloadCertificate = (listener: NodeListener, files: TlsFiles) =>
  reloadOnHangup({
    read: readCredentials(files),
    replace: listener.setCredentials,
    reloaded: () => Effect.logInfo("certificate reloaded").pipe(Effect.annotateLogs({ cert: files.certFile })),
    kept: "certificate not reloaded; the previous one stays in force"
  })

/**
 * Runs the server until SIGINT/SIGTERM. A `--data-dir`, `--tokens-file`, `--token-secret`, `--tls-cert` or
 * `--tls-key` it cannot use is one line on stderr and exit 1, before it listens.
 */
export const serve = (
  settings: ServerSettings,
  logFormat: LogFormat
): Effect.Effect<void, HistoryUnavailable | AccessSetupFailed | TlsSetupFailed> =>
  Effect.gen(function*() {
    const tlsFiles = yield* tlsFilesOf(settings.tlsCert, settings.tlsKey)
    const tls = tlsFiles === undefined ? undefined : yield* readCredentials(tlsFiles)
    const listener = makeNodeListener({
      nodeName: settings.nodeName,
      keepAliveTimeoutMs: Duration.toMillis(settings.keepaliveTimeout),
      tls
    })
    return yield* serveOn(listener, tlsFiles, settings, logFormat)
  })

const serveOn = (
  listener: NodeListener,
  tlsFiles: TlsFiles | undefined,
  settings: ServerSettings,
  logFormat: LogFormat
): Effect.Effect<void, HistoryUnavailable | AccessSetupFailed> => {
  const nodeServer = listener.server
  const lifecycle = Layer.effectDiscard(Effect.gen(function*() {
    const registry = yield* PipeRegistry
    const address = nodeServer.address()
    const url = typeof address === "string" || address === null
      ? String(address)
      : `${listener.scheme}://${address.family === "IPv6" ? `[${address.address}]` : address.address}:${address.port}`
    yield* Console.log(`pipe listening on ${url}`)
    if (tlsFiles !== undefined) yield* reloadCertificate(listener, tlsFiles)
    if (Option.isSome(settings.adminPort)) {
      // Its finalizer is added first, so it runs after the graceful shutdown: checks see `draining` to the end.
      const admin = yield* serveAdmin(settings.host, settings.adminPort.value, settings.nodeName)
      const where = admin.address()
      yield* Console.log(`pipe admin on ${typeof where === "object" && where !== null ? where.port : String(where)}`)
    }
    // Runs before the platform's own finalizers (finalizers run in reverse): the graceful shutdown.
    yield* Effect.addFinalizer(() => gracefulShutdown(listener, registry, settings))
  }))
  // Built after `serve` has registered the platform's handlers, so that it can take those away.
  const serving = Layer.effectDiscard(Effect.sync(() => withoutUpgrades(nodeServer))).pipe(
    Layer.provide(HttpServer.serve(pipeApp))
  )
  // Built last, so that its finalizer (the graceful shutdown) runs first: while the platform still serves the
  // requests in flight, which must be answered (a waiting party's 503, a transfer finishing within the grace).
  return lifecycle.pipe(
    Layer.provide(serving),
    Layer.provideMerge(PipeRegistry.layer),
    // Access control and abuse limits (protocol §11-§12); a tokens file it cannot use fails the start.
    Layer.provide(
      Layer.mergeAll(AccessControl.layer, ConnectionLimit.layer).pipe(Layer.provideMerge(ClientAddress.layer))
    ),
    Layer.provide(TransferRunnerLive),
    // Below the registry, so it is released after it: the shutdown's aborted transfers are still recorded.
    Layer.provide(historyLayer),
    Layer.provideMerge(
      NodeHttpServer.layer(() => nodeServer, {
        host: settings.host,
        port: settings.port,
        // Our own graceful shutdown (above) decides how long connections may stay.
        disablePreemptiveShutdown: true
      })
    ),
    // One SIGHUP listener for everything that reloads (tokens file, certificate).
    Layer.provideMerge(Hangup.layer),
    Layer.provide(Layer.succeed(ServerConfig, settings)),
    Layer.provide(Logger.layer([logFormat === "json" ? Logger.consoleJson : Logger.consolePretty()])),
    Layer.launch,
    Effect.catchTag("ServeError", (error) => Effect.die(error)),
    // Every fiber of the server (request fibers inherit it through the platform): see FiberScheduler.
    Effect.provideService(Scheduler.Scheduler, new FiberScheduler())
  )
}
