import { Config, Console, Effect, Option } from "effect"
import * as Command from "effect/cli/Command"
import * as Flag from "effect/cli/Flag"
import { hostname } from "node:os"
import type { Cidr } from "../domain/Cidr.js"
import { parseCidrList } from "../domain/Cidr.js"
import type { LogFormat, SenderStatusMode } from "../ServerConfig.js"
import { defaultSettings } from "../ServerConfig.js"
import { parseDuration } from "./Duration.js"
import { listenFailure } from "./ListenFailure.js"
import { setExitCode } from "./PipeTarget.js"

const envName = (flag: string) => `PIPE_${flag.toUpperCase().replace(/-/g, "_")}`

// The help says once that every flag is also `PIPE_<FLAG>` (see the command's description): one line per flag.
const text = (flag: string, fallback: string, description: string, metavar = "TEXT") =>
  Flag.String(flag).pipe(
    Flag.withFallbackConfig(Config.String(envName(flag))),
    Flag.withDefault(fallback),
    Flag.withMetavar(metavar),
    Flag.withDescription(`${description} (default ${fallback})`)
  )

const integer = (flag: string, fallback: number, description: string) =>
  Flag.Int(flag).pipe(
    Flag.withFallbackConfig(Config.Int(envName(flag))),
    Flag.withDefault(fallback),
    Flag.withMetavar("N"),
    Flag.withDescription(`${description} (default ${fallback})`)
  )

/** Said after the CLI's own `Invalid value for flag --<flag>: "<raw>".` */
const notADuration = () => "Expected a duration like 250ms, 30s, 30m, 1h"

const duration = (flag: string, fallback: string, description: string) =>
  text(flag, fallback, description, "TIME").pipe(Flag.filterMap(parseDuration, notADuration))

const optionalText = (flag: string, metavar: string, description: string) =>
  Flag.String(flag).pipe(
    Flag.withFallbackConfig(Config.String(envName(flag))),
    Flag.optional,
    Flag.withMetavar(metavar),
    Flag.withDescription(`${description} (default none)`)
  )

const optionalCount = (flag: string, description: string) =>
  Flag.Int(flag).pipe(
    Flag.withFallbackConfig(Config.Int(envName(flag))),
    Flag.filter((n) => n >= 1, () => "Expected a whole number of at least 1"),
    Flag.optional,
    Flag.withMetavar("N"),
    Flag.withDescription(`${description} (default none)`)
  )

/** `https://pipe.example.com[:port][/prefix]`, kept without its trailing slash. */
const publicUrlOf = (raw: string): Option.Option<string> => {
  if (!/^https?:\/\/[A-Za-z0-9.:[\]-]+(\/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*)?$/.test(raw)) return Option.none()
  return Option.some(raw.replace(/\/+$/, ""))
}

const serverOptions = {
  host: text("host", defaultSettings.host, "Address to listen on", "ADDR"),
  port: integer("port", defaultSettings.port, "Port to listen on, 0 for any"),
  maxSpectators: integer("max-spectators", defaultSettings.maxSpectators, "Spectators per path"),
  maxSpectatorsTotal: integer(
    "max-spectators-total",
    defaultSettings.maxSpectatorsTotal,
    "Spectators on the whole server"
  ),
  spectatorTtl: duration("spectator-ttl", "30m", "Longest spectator connection"),
  retention: duration("retention", "30s", "How long a finished result stays live"),
  progressInterval: duration("progress-interval", "250ms", "Cadence of progress events"),
  maxReceivers: integer("max-receivers", defaultSettings.maxReceivers, "Largest n a transfer may ask for"),
  maxPipes: integer("max-pipes", defaultSettings.maxPipes, "Paths alive at once; then 503"),
  waitTimeout: text("wait-timeout", "none", "Longest wait for the other side", "TIME").pipe(
    Flag.filterMap(
      (raw) => raw === "none" ? Option.some(Option.none()) : Option.map(parseDuration(raw), Option.some),
      () => "Expected none, or a duration like 250ms, 30s, 30m, 1h"
    )
  ),
  shutdownGrace: duration("shutdown-grace", "30s", "On SIGTERM, time left to transfers"),
  stallTimeout: duration("stall-timeout", "10m", "A transfer idle this long is aborted"),
  historyTtl: duration("history-ttl", "24h", "How long a path's last result is kept"),
  historyMax: integer("history-max", defaultSettings.historyMax, "Paths whose last result is kept"),
  dataDir: Flag.String("data-dir").pipe(
    Flag.withFallbackConfig(Config.String(envName("data-dir"))),
    Flag.optional,
    Flag.withMetavar("DIR"),
    Flag.withDescription("Keep last results in DIR (default memory)")
  ),
  // Access control and abuse limits (protocol §11-§12, issue 16)
  trustProxy: text("trust-proxy", "none", "Proxies whose X-Forwarded-* count", "CIDR,..").pipe(
    Flag.filterMap(
      (raw): Option.Option<ReadonlyArray<Cidr>> => {
        if (raw.trim() === "none") return Option.some([])
        const parsed = parseCidrList(raw)
        return parsed._tag === "Ok" ? Option.some(parsed.list) : Option.none()
      },
      () => "Expected none, or addresses/CIDRs like 10.0.0.0/8,::1"
    )
  ),
  tokensFile: optionalText("tokens-file", "FILE", "Tokens with roles (pipes need one)"),
  tokenSecret: optionalText("token-secret", "FILE", "Key of signed tokens (pipe token)"),
  publicWatch: Flag.Boolean("public-watch").pipe(
    Flag.withFallbackConfig(Config.Boolean(envName("public-watch"))),
    Flag.withDefault(false),
    Flag.withDescription("Spectators need no token (default off)")
  ),
  maxConnectionsPerIp: optionalCount("max-connections-per-ip", "Pipe requests per client; then 429"),
  maxTransferBytes: optionalCount("max-transfer-bytes", "Bytes per transfer; then it is cut"),
  logFormat: Flag.Literals("log-format", ["json", "pretty"]).pipe(
    Flag.withFallbackConfig(Config.Literals(["json", "pretty"], envName("log-format"))),
    Flag.withDefault<LogFormat>("json"),
    Flag.withMetavar("json|pretty"),
    Flag.withDescription("Log lines (default json)")
  ),
  // Scaling out behind a load balancer (issue 14, protocol §11)
  nodeName: Flag.String("node-name").pipe(
    Flag.withFallbackConfig(Config.String(envName("node-name"))),
    Flag.withDefault(hostname()),
    Flag.filterMap(
      (raw) => /^[A-Za-z0-9._:-]{1,64}$/.test(raw) ? Option.some(raw) : Option.none(),
      () => "Expected 1 to 64 of A-Z a-z 0-9 . _ : -"
    ),
    Flag.withMetavar("NAME"),
    Flag.withDescription("X-Pipe-Node on every answer (default host name)")
  ),
  adminPort: Flag.Int("admin-port").pipe(
    Flag.withFallbackConfig(Config.Int(envName("admin-port"))),
    Flag.optional,
    Flag.withMetavar("N"),
    Flag.withDescription("Serve /healthz, /metrics also on N (default none)")
  ),
  keepaliveTimeout: duration("keepalive-timeout", "5s", "Idle keep-alive connection lifetime"),
  senderStatus: text("sender-status", "early", "late: lines wait for the body", "MODE").pipe(
    Flag.filterMap(
      (raw): Option.Option<SenderStatusMode> => raw === "early" || raw === "late" ? Option.some(raw) : Option.none(),
      () => "Expected early or late"
    )
  ),
  publicUrl: Flag.String("public-url").pipe(
    Flag.withFallbackConfig(Config.String(envName("public-url"))),
    Flag.filterMap(publicUrlOf, () => "Expected an http:// or https:// URL without query or fragment"),
    Flag.optional,
    Flag.withMetavar("URL"),
    Flag.withDescription("Base URL in /help and the home page (default Host)")
  ),
  // HTTPS and HTTP/2 on the listener itself (issue 15, protocol §11)
  tlsCert: optionalText("tls-cert", "FILE", "PEM certificate: HTTPS, h2 + HTTP/1.1"),
  tlsKey: optionalText("tls-key", "FILE", "PEM private key of --tls-cert")
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
      yield* serve(settings, logFormat).pipe(
        // A start-up the server cannot make (an unusable --data-dir): one line, exit 1, as for a taken port.
        Effect.catchTag(["HistoryUnavailable", "AccessSetupFailed", "TlsSetupFailed"], (error) =>
          Effect.andThen(Console.error(`pipe: ${error.message}`), setExitCode(1))),
        Effect.catchDefect((defect) => {
          const message = listenFailure(defect, settings.host, settings.port)
          return message === undefined
            ? Effect.die(defect)
            : Effect.andThen(Console.error(`pipe: ${message}`), setExitCode(1))
        })
      )
    })
).pipe(
  Command.withDescription(
    "Runs until SIGINT/SIGTERM, then drains and exits 0 (1 if it cannot listen).\n" +
      "Each flag is also an env var (--max-pipes: PIPE_MAX_PIPES). TIME: 30s, 5m, 1h.\n" +
      "SIGHUP reloads --tokens-file, --token-secret and the --tls-cert/--tls-key pair."
  ),
  Command.withShortDescription("Run the pipe server"),
  Command.withExamples([
    { command: "pipe server --port 8080 --retention 5m" },
    { command: "PIPE_HOST=127.0.0.1 PIPE_PORT=9000 pipe server --log-format pretty" }
  ])
)
