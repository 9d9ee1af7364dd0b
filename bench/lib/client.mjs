// In-process node:http clients for the sections that need many parties or exact timings (waiting, small, ttfb):
// spawning a curl per request would make the client, not the server, the thing we measure.
import { once } from "node:events"
import http from "node:http"
import net from "node:net"
import { performance } from "node:perf_hooks"

const HOST = "127.0.0.1"

/**
 * Follows one request: when its response head and first body byte arrived (performance.now(), ms), its status,
 * and its whole body. `ended` resolves once the body ended cleanly and rejects if the exchange broke first.
 */
export function track(req) {
  const t = { req, status: null, headAt: NaN, firstBodyAt: NaN, chunks: [], bytes: 0 }
  let onFirst
  t.firstBody = new Promise((resolve) => {
    onFirst = resolve
  })
  t.ended = new Promise((resolve, reject) => {
    req.on("error", reject)
    req.on("response", (res) => {
      t.headAt = performance.now()
      t.status = res.statusCode
      res.on("data", (chunk) => {
        if (t.bytes === 0) {
          t.firstBodyAt = performance.now()
          onFirst(t.firstBodyAt)
        }
        t.bytes += chunk.length
        t.chunks.push(chunk)
      })
      res.on("end", () => resolve(t))
      res.on("error", reject)
      // A response cut short ends with close and no end; without this the promise would never settle.
      res.on("close", () => {
        if (!res.complete) reject(new Error("response closed before its end"))
      })
    })
  })
  t.ended.catch(() => {})
  t.body = () => Buffer.concat(t.chunks)
  return t
}

/**
 * One whole exchange: sends `body` (or nothing) and resolves with { status, body } once the response ended.
 * Rejects on any error or after timeoutMs, so a broken transfer cannot stall a loop.
 */
export async function exchange(url, { method = "GET", body, agent, timeoutMs = 10_000 } = {}) {
  const headers = body ? { "content-length": String(body.length) } : {}
  const req = http.request(url, { method, agent, headers })
  const t = track(req)
  const timer = setTimeout(() => req.destroy(new Error(`no complete answer within ${timeoutMs} ms`)), timeoutMs)
  req.end(body)
  try {
    await t.ended
    return { status: t.status, body: t.body() }
  } finally {
    clearTimeout(timer)
  }
}

/** A TCP connection to the server that is already established, so that a timing starts after the handshake. */
export async function connected(port) {
  const socket = net.connect({ port, host: HOST, noDelay: true })
  await once(socket, "connect")
  return socket
}

/** Resolves with `promise`'s value, or with `fallback` after ms. */
export function within(promise, ms, fallback = null) {
  let timer
  const late = new Promise((resolve) => {
    timer = setTimeout(() => resolve(fallback), ms)
  })
  return Promise.race([promise, late]).finally(() => clearTimeout(timer))
}
