import type { IncomingMessage, Server, ServerResponse } from "node:http"

// Not `import … from "node:http"`: an ES import of it evaluates its lazy `WebSocket` exports, which loads
// Node's bundled undici, web streams, perf_hooks and worker_threads (measured: idle RSS 87.5 -> 83.8 MB).
const { createServer } = process.getBuiltinModule("node:http")

/** What the listener needs to know of the node it serves. */
export interface ListenerOptions {
  /** `X-Pipe-Node` on every answer: behind a balancer, where a path lives. */
  readonly nodeName: string
  readonly keepAliveTimeoutMs: number
}

/**
 * The Node HTTP server under the platform, set up for a pipe server: hour-long requests, HTTP/1.0 clients
 * answered as such, every answer naming its node, and no raw-socket upgrade path.
 */
export const makeNodeListener = (options: ListenerOptions): Server => {
  const server = createServer({
    // Behind a balancer the proxy reuses its connections: it must close an idle one before we do.
    keepAliveTimeout: options.keepAliveTimeoutMs,
    // Node's default would cut every request still uploading after 5 minutes: an 8-hour transfer is one request.
    requestTimeout: 0,
    // Slowloris: a client gets 20 s to finish sending its headers, and headers are capped at 16 KiB.
    headersTimeout: 20_000,
    maxHeaderSize: 16 * 1024
  })
  // A client's FIN stays a departure (Node's default, and piping-server's): a killed curl sends one, and
  // a waiting party's slot must be freed at once; a client that half-closes is taken as gone.
  server.prependListener("request", (req: IncomingMessage, res: ServerResponse) => {
    // Set before any handler runs, so that it is on every answer: the platform's responses merge it into
    // their `writeHead`, and the data path writes its responses on this same `res`.
    res.setHeader("x-pipe-node", options.nodeName)
    if (req.httpVersion === "1.0") answerAsHttp10(res)
  })
  return server
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
export const withoutUpgrades = (server: Server): void => {
  server.removeAllListeners("upgrade")
  server.removeAllListeners("checkContinue")
}
