import type { IncomingMessage, Server, ServerResponse } from "node:http"
import type { Http2SecureServer, Http2ServerRequest, Http2ServerResponse, ServerHttp2Session } from "node:http2"
import type { Socket } from "node:net"
import type { TlsCredentials } from "./TlsCredentials.js"

// Not `import … from "node:http"`: an ES import of it evaluates its lazy `WebSocket` exports, which loads
// Node's bundled undici, web streams, perf_hooks and worker_threads (measured: idle RSS 87.5 -> 83.8 MB).
// `node:http2` likewise, and only when the server speaks TLS.
const { createServer } = process.getBuiltinModule("node:http")

/** What the listener needs to know of the node it serves. */
export interface ListenerOptions {
  /** `X-Pipe-Node` on every answer: behind a balancer, where a path lives. */
  readonly nodeName: string
  readonly keepAliveTimeoutMs: number
  /** `--tls-cert`/`--tls-key`: HTTPS with h2 and HTTP/1.1 on the one port (protocol §11). */
  readonly tls: TlsCredentials | undefined
}

/** The Node server under the platform, and what the graceful shutdown needs of it. */
export interface NodeListener {
  readonly server: Server | Http2SecureServer
  readonly scheme: "http" | "https"
  /** Ends every connection still open, idle or not (the last step of the graceful shutdown). */
  readonly closeAllConnections: () => void
  /** TLS only: new connections get this certificate; connections already open keep theirs. */
  readonly setCredentials: (credentials: TlsCredentials) => void
}

// Node's own defaults suit a web server, not a pipe server.
const timeouts = (options: ListenerOptions) => ({
  // Behind a balancer the proxy reuses its connections: it must close an idle one before we do.
  keepAliveTimeout: options.keepAliveTimeoutMs,
  // Node's default would cut every request still uploading after 5 minutes: an 8-hour transfer is one request.
  requestTimeout: 0,
  // Slowloris: a client gets 20 s to finish sending its headers, and headers are capped at 16 KiB.
  headersTimeout: 20_000,
  maxHeaderSize: 16 * 1024
})

/**
 * The Node server under the platform, set up for a pipe server: hour-long requests, HTTP/1.0 clients
 * answered as such, every answer naming its node, and no raw-socket upgrade path.
 *
 * With TLS it is `node:http2`'s secure server with `allowHTTP1`: ALPN picks h2 or http/1.1 per connection,
 * and both kinds of request reach the same `'request'` listeners, h1 ones as `node:http` objects, h2 ones as
 * its compatibility objects. The platform's `NodeHttpServer` serves that server as it is (it takes a
 * `node:http2` server and tells the two apart per request), so nothing of the platform is forked or wrapped:
 * the data path alone looks at which one it holds (`NodeWire`).
 */
export const makeNodeListener = (options: ListenerOptions): NodeListener => {
  const listener = options.tls === undefined ? plainListener(options) : secureListener(options, options.tls)
  // A client's FIN stays a departure (Node's default, and piping-server's): a killed curl sends one, and
  // a waiting party's slot must be freed at once; a client that half-closes is taken as gone.
  listener.server.prependListener(
    "request",
    (req: IncomingMessage | Http2ServerRequest, res: ServerResponse | Http2ServerResponse) => {
      // Set before any handler runs, so that it is on every answer: the platform's responses merge it into
      // their `writeHead`, and the data path writes its responses on this same `res`.
      res.setHeader("x-pipe-node", options.nodeName)
      if (req.httpVersion === "1.0" && !("stream" in res)) answerAsHttp10(res)
    }
  )
  return listener
}

const plainListener = (options: ListenerOptions): NodeListener => {
  const server = createServer(timeouts(options))
  return {
    server,
    scheme: "http",
    closeAllConnections: () => server.closeAllConnections(),
    setCredentials: () => {}
  }
}

/**
 * Node 24's h2 session loses a dead client while it is sending to it. The write fails with ECONNRESET (a
 * client killed with our data unread), and the session takes that as a finished write. It reads again, but
 * it has already queued the next write, so it stops reading before the read that would report the dead
 * socket. That next write never completes, and the session, its streams and their transfers wait: a sender
 * whose h2 receiver was killed mid-stream heard nothing until `--stall-timeout`. Node's own trace
 * (`NODE_DEBUG_NATIVE=http2`) shows `write finished with status -104`, then `ReadStart()`, `ReadStop()`.
 * Asking the session's TLS socket to read once a second lets that read happen. The session then ends, and its
 * streams close with a reset. On a live session it is a read Node would have made anyway. Measured: a killed
 * receiver went unnoticed for 15 s of 15 without it, and is seen within a second with it.
 */
const readAgain = (session: ServerHttp2Session): void => {
  if (session.destroyed) return
  const handle: unknown = Reflect.get(session.socket, "_handle")
  if (typeof handle !== "object" || handle === null) return
  const readStart: unknown = Reflect.get(handle, "readStart")
  if (typeof readStart === "function") Reflect.apply(readStart, handle, [])
}

const kickEveryMs = 1_000

const uploadWindow = 1024 * 1024
const sessionWindow = 4 * 1024 * 1024

const secureListener = (options: ListenerOptions, credentials: TlsCredentials): NodeListener => {
  const { createSecureServer } = process.getBuiltinModule("node:http2")
  const server = createSecureServer({
    allowHTTP1: true,
    cert: credentials.cert,
    key: credentials.key,
    // Node's 10 MB per session is a handful of fast streams' buffers; a browser multiplexes dozens of pipes
    // and dashboards on one session, and going over it resets them all (ENHANCE_YOUR_CALM).
    maxSessionMemory: 64,
    // An h2 upload moves one flow-control window per round trip through our event loop: with the protocol's
    // 64 KiB a curl sender managed 60-150 MiB/s on loopback, with 1 MiB per stream (and 4 MiB per session,
    // below) ~250. The window is also what a paused sender may still push at us, so it stays small.
    settings: { initialWindowSize: uploadWindow }
  })
  // The HTTP/1.1 connections of this server are `node:http`'s, and read these from the server itself.
  Object.assign(server, timeouts(options))
  // `closeAllConnections` is `node:http`'s alone: the TLS server keeps its sockets and sessions here.
  const sockets = new Set<Socket>()
  const sessions = new Set<ServerHttp2Session>()
  server.on("secureConnection", (socket: Socket) => {
    sockets.add(socket)
    socket.once("close", () => sockets.delete(socket))
  })
  server.on("session", (session: ServerHttp2Session) => {
    session.setLocalWindowSize(sessionWindow)
    sessions.add(session)
    session.once("close", () => sessions.delete(session))
  })
  const kick = setInterval(() => {
    for (const session of sessions) readAgain(session)
  }, kickEveryMs)
  kick.unref()
  server.once("close", () => clearInterval(kick))
  return {
    server,
    scheme: "https",
    closeAllConnections: () => {
      for (const session of sessions) session.destroy()
      for (const socket of sockets) socket.destroy()
    },
    setCredentials: (next) => server.setSecureContext({ cert: next.cert, key: next.key })
  }
}

/**
 * Node writes `HTTP/1.1` on every status line; a 1.0 client is owed a 1.0 one (the framing Node already
 * picks for it is 1.0's: no chunks, close-delimited or `Content-Length`). As piping-server does, only the
 * version of the line changes, in the one place Node builds it.
 */
const answerAsHttp10 = (res: ServerResponse) => {
  const storeHeader: unknown = Reflect.get(res, "_storeHeader")
  if (typeof storeHeader !== "function") return
  Reflect.set(res, "_storeHeader", function(this: ServerResponse, firstLine: string, ...rest: Array<unknown>) {
    return Reflect.apply(storeHeader, this, [firstLine.replace(/^HTTP\/1\.1 /, "HTTP/1.0 "), ...rest])
  })
}

/**
 * Upgrade and `Expect: 100-continue` requests become ordinary requests, answered as Node does by itself.
 *
 * Upgrades: the platform takes them through Node's `'upgrade'` event with a raw socket; we serve no
 * WebSocket, and a pipe party must never lose its HTTP framing. Without an `'upgrade'` listener Node hands
 * these to `'request'` like any other.
 *
 * `Expect: 100-continue` (curl sends it for uploads over 1 MB): the platform writes the `100 Continue` only
 * when its own body reader starts, and the data path reads the Node request directly, so such a sender would
 * wait a second for nothing. Without a `'checkContinue'` listener Node answers `100 Continue` at once.
 *
 * Call after the platform has registered its handlers.
 */
export const withoutUpgrades = (server: Server | Http2SecureServer): void => {
  server.removeAllListeners("upgrade")
  server.removeAllListeners("checkContinue")
}
