import { Context, Duration, Option } from "effect"
import type { Cidr } from "./domain/Cidr.js"

/** Everything `pipe server` can be told (protocol §8); each has a flag and a `PIPE_*` variable. */
export interface ServerSettings {
  readonly host: string
  readonly port: number
  readonly maxSpectators: number
  readonly maxSpectatorsTotal: number
  readonly spectatorTtl: Duration.Duration
  readonly retention: Duration.Duration
  readonly progressInterval: Duration.Duration
  readonly maxReceivers: number
  readonly maxPipes: number
  readonly waitTimeout: Option.Option<Duration.Duration>
  readonly shutdownGrace: Duration.Duration
  /** A transfer that moves no byte for this long ends as aborted. */
  readonly stallTimeout: Duration.Duration
  /** How long a path's last result is kept after its transfer (protocol §9). */
  readonly historyTtl: Duration.Duration
  /** Paths whose last result is kept; beyond it the oldest record goes. */
  readonly historyMax: number
  /** Where the history's SQLite file lives; none keeps it in memory. */
  readonly dataDir: Option.Option<string>
  // Access control and abuse limits (protocol §11-§12, issue 16)
  /** Peers whose `X-Forwarded-*` headers are believed; none by default. */
  readonly trustProxy: ReadonlyArray<Cidr>
  /** `<token> <roles> [<path-prefix>]` lines; with it (or a secret) pipes need a token. */
  readonly tokensFile: Option.Option<string>
  /** The file holding the HMAC key of signed capability tokens. */
  readonly tokenSecret: Option.Option<string>
  /** Spectators need no token even when senders and receivers do. */
  readonly publicWatch: boolean
  /** Pipe requests open at once from one client address; then 429. */
  readonly maxConnectionsPerIp: Option.Option<number>
  /** Bytes one transfer may carry; then it is cut. */
  readonly maxTransferBytes: Option.Option<number>
  // Scaling out behind a load balancer (issue 14, protocol §11)
  /** Sent as `X-Pipe-Node` on every answer, so an operator sees which node holds a path. */
  readonly nodeName: string
  /** A second listener serving only `/healthz` and `/metrics`, for health checks and scrapes per node. */
  readonly adminPort: Option.Option<number>
  /** How long an idle keep-alive connection stays open (Node's `keepAliveTimeout`). */
  readonly keepaliveTimeout: Duration.Duration
  /** `late`: a sender's 200 and status lines wait until its body has been read (what nginx can carry). */
  readonly senderStatus: SenderStatusMode
  /** The base URL printed by `/help` and the home page, instead of one built from the request's headers. */
  readonly publicUrl: Option.Option<string>
  // HTTPS and HTTP/2 on the listener itself (issue 15, protocol §11)
  /** PEM certificate (chain); with `tlsKey` the port speaks HTTPS, h2 and HTTP/1.1 by ALPN. */
  readonly tlsCert: Option.Option<string>
  /** PEM private key of `tlsCert`. */
  readonly tlsKey: Option.Option<string>
}

export type SenderStatusMode = "early" | "late"

export class ServerConfig extends Context.Service<ServerConfig, ServerSettings>()("pipe/ServerConfig") {}

export const defaultSettings: ServerSettings = {
  host: "0.0.0.0",
  port: 8080,
  maxSpectators: 50,
  maxSpectatorsTotal: 5_000,
  spectatorTtl: Duration.minutes(30),
  retention: Duration.seconds(30),
  progressInterval: Duration.millis(250),
  maxReceivers: 256,
  maxPipes: 10_000,
  waitTimeout: Option.none(),
  shutdownGrace: Duration.seconds(30),
  stallTimeout: Duration.minutes(10),
  historyTtl: Duration.hours(24),
  historyMax: 100_000,
  dataDir: Option.none(),
  // Access control and abuse limits (protocol §11-§12, issue 16)
  trustProxy: [],
  tokensFile: Option.none(),
  tokenSecret: Option.none(),
  publicWatch: false,
  maxConnectionsPerIp: Option.none(),
  maxTransferBytes: Option.none(),
  // Scaling out behind a load balancer (issue 14)
  nodeName: "pipe",
  adminPort: Option.none(),
  keepaliveTimeout: Duration.seconds(5),
  senderStatus: "early",
  publicUrl: Option.none(),
  // HTTPS and HTTP/2 (issue 15)
  tlsCert: Option.none(),
  tlsKey: Option.none()
}

export type LogFormat = "json" | "pretty"
