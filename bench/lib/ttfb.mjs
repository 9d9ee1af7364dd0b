// Section ttfb: how long the first byte takes, one transfer at a time.
// Each round: a receiver GET waits on a fresh path; then a sender PUT (chunked) sends its head, and
//   sender   = head written -> first response body byte at the sender (the `[INFO] ...` line), if any comes;
//   receiver = the sender writes a first chunk -> its first byte arrives at the receiver.
// Both sockets are connected before their clock starts, so neither figure includes the TCP handshake.
// Clocks are performance.now() in the bench process, which runs both clients.
import { once } from "node:events"
import http from "node:http"
import { performance } from "node:perf_hooks"
import { connected, track, within } from "./client.mjs"
import { sleep } from "./proc.mjs"
import { fmt, median, percentile, textTable } from "./report.mjs"

/** How long the receiver waits alone before the sender comes: enough for its request head to be handled. */
const RECEIVER_HEAD_START_MS = 100
/** A sender that hears nothing this long after its head is counted as "server sends the sender nothing". */
const SENDER_WAIT_MS = 1000
const CHUNK_BYTES = 1024
const STEP_MS = 5000

async function ttfbRound(server, name) {
  const url = server.url(name, 1)
  const chunk = Buffer.alloc(CHUNK_BYTES, `${name};`)
  const [rSock, sSock] = await Promise.all([connected(server.port), connected(server.port)])
  const recv = track(http.request(url, { createConnection: () => rSock }))
  recv.req.end()
  await sleep(RECEIVER_HEAD_START_MS)
  const send = track(
    http.request(url, { method: "PUT", headers: { "transfer-encoding": "chunked" }, createConnection: () => sSock })
  )
  try {
    await once(send.req, "socket")
    const tHead = performance.now()
    send.req.flushHeaders()
    await within(send.firstBody, SENDER_WAIT_MS)
    const senderMs = send.firstBodyAt - tHead // NaN when nothing came
    const tChunk = performance.now()
    send.req.write(chunk)
    const got = await within(recv.firstBody, STEP_MS)
    if (got === null) {
      return { problem: `receiver got no byte within ${STEP_MS} ms of the first chunk (HTTP ${recv.status})` }
    }
    const receiverMs = recv.firstBodyAt - tChunk
    send.req.end()
    const ended = await within(Promise.all([recv.ended, send.ended]).then(() => true), STEP_MS, false)
    if (!ended) return { problem: `transfer did not end within ${STEP_MS} ms of the sender's end` }
    if (recv.status !== 200 || !recv.body().equals(chunk)) {
      return { problem: `receiver: HTTP ${recv.status}, ${recv.bytes} bytes (expected the ${CHUNK_BYTES} sent)` }
    }
    if (send.status < 200 || send.status >= 300) return { problem: `sender: HTTP ${send.status}` }
    return { senderMs, receiverMs, senderHeadMs: send.headAt - tHead }
  } catch (err) {
    return { problem: err.message }
  } finally {
    rSock.destroy()
    sSock.destroy()
  }
}

/** Rounds alternate the servers so that drift hits all alike. */
export async function ttfb(servers, cfg) {
  console.log(
    `\nTTFB: ${cfg.ttfbRounds} round(s) per server; receiver waits ${RECEIVER_HEAD_START_MS} ms alone, then the sender ` +
      `(first chunk ${CHUNK_BYTES} B once the sender heard back or after ${SENDER_WAIT_MS} ms)`
  )
  const res = { rounds: cfg.ttfbRounds, byKey: {} }
  for (const s of servers) res.byKey[s.key] = { receiver: [], sender: [], senderHead: [], silent: 0, failures: [] }
  for (let round = 1; round <= cfg.ttfbRounds; round++) {
    for (const s of servers) {
      const r = res.byKey[s.key]
      if (!s.alive()) {
        r.failures.push(`round ${round}: server not running (${JSON.stringify(s.exitInfo())})`)
        continue
      }
      const o = await ttfbRound(s, `bench-ttfb-${round}-${s.key}-${process.pid}`)
      if (o.problem) {
        r.failures.push(`round ${round}: ${o.problem}`)
        continue
      }
      r.receiver.push(o.receiverMs)
      if (Number.isFinite(o.senderMs)) r.sender.push(o.senderMs)
      else r.silent++
      if (Number.isFinite(o.senderHeadMs)) r.senderHead.push(o.senderHeadMs)
    }
    if (round % 10 === 0 || round === cfg.ttfbRounds) {
      console.log(
        `  round ${round}/${cfg.ttfbRounds}  ` + servers.map((s) => {
          const r = res.byKey[s.key]
          return `${s.key} recv ${fmt(median(r.receiver), 2)} ms, send ${
            r.sender.length ? `${fmt(median(r.sender), 2)} ms` : "n/a"
          }`
        }).join(" | ")
      )
    }
  }
  for (const r of Object.values(res.byKey)) {
    r.receiverMs = median(r.receiver)
    // Only a server that answered the sender in most rounds gets a figure; one that never does is "n/a".
    r.senderMs = r.sender.length > r.silent ? median(r.sender) : "n/a"
  }
  return res
}

export function printTtfb(servers, res) {
  console.log(
    `\nTTFB (ms, ${res.rounds} rounds; p90 nearest-rank; "sender" = head sent -> first response body byte, ` +
      "\"head\" = -> response head)"
  )
  const stats = (xs) => [fmt(median(xs), 2), fmt(percentile(xs, 90), 2), fmt(xs.length ? Math.min(...xs) : NaN, 2)]
  const rows = servers.filter((s) => res.byKey[s.key]).map((s) => {
    const r = res.byKey[s.key]
    return [
      s.label,
      ...stats(r.receiver),
      ...(typeof r.senderMs === "string" ? ["n/a", "n/a", "n/a"] : stats(r.sender)),
      fmt(median(r.senderHead), 2),
      String(r.silent),
      String(r.failures.length)
    ]
  })
  console.log(
    textTable([
      "server",
      "receiver p50",
      "p90",
      "min",
      "sender p50",
      "p90",
      "min",
      "sender head p50",
      "silent",
      "failed"
    ], rows)
  )
  for (const s of servers) {
    ;(res.byKey[s.key]?.failures ?? []).slice(0, 5).forEach((f) => console.log(`    - ${s.key} ${f}`))
  }
}
