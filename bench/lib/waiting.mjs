// Section waiting: what one party that waits for its other side costs the server in RSS.
// N receivers (GET, no sender ever) on N distinct paths, then N senders (PUT with chunked headers and never a body
// byte, as `curl -T -` on an idle stdin) on N other paths. RSS delta ÷ N, KB = 10^3 B.
// Each party is a node:http request with its own socket (agent: false), so N parties are N connections.
// Every measurement gets a fresh server process: V8 keeps freed heap pages resident, so on a process that has
// already held N parties the next N reuse that memory and the delta reads near zero, while the very first batch
// also pays for heap growth. A fresh process per measurement makes every round the same experiment; a small
// warm-up batch first pays for code that runs on the first request only (JIT, lazy modules).
// Every connection is closed, and its close awaited, before the process is stopped and the next one starts.
import { once } from "node:events"
import http from "node:http"
import { within } from "./client.mjs"
import { rssBytes, sleep } from "./proc.mjs"
import { fmt, median, textTable } from "./report.mjs"
import { SERVERS, startServer } from "./servers.mjs"

/** Parties opened and closed on each fresh server before its measurement, so first-use costs are paid. */
const WARM_PARTIES = 20
/** How long the parties sit before RSS is read: enough for the server to have handled every request head. */
const SETTLE_MS = 1000
/** How long a sender may take to answer: all three servers send a sender its 200 and a first line at once. */
const ANSWER_MS = 3000

/** Median of a few VmRSS reads 100 ms apart: one read can land in the middle of a GC. */
async function steadyRss(pid, reads = 5) {
  const xs = []
  for (let i = 0; i < reads; i++) {
    xs.push(rssBytes(pid))
    if (i < reads - 1) await sleep(100)
  }
  return median(xs)
}

/** Opens one waiting party; `ready` resolves once its request head is out (a sender: once the server answered). */
function openParty(url, role) {
  const sender = role === "sender"
  const req = http.request(url, {
    method: sender ? "PUT" : "GET",
    agent: false,
    headers: sender ? { "transfer-encoding": "chunked" } : {}
  })
  const party = { req, role, status: null, error: null, closing: false }
  req.on("error", (err) => {
    if (!party.closing) party.error = err.code ?? err.message
  })
  req.on("response", (res) => {
    party.status = res.statusCode
    res.resume() // drain a sender's [INFO] lines
  })
  const socket = once(req, "socket").then(([s]) => s)
  party.closed = socket.then((s) => (s.closed ? undefined : once(s, "close"))).catch(() => {})
  const connected = socket.then((s) => (s.connecting ? once(s, "connect") : undefined))
  if (sender) req.flushHeaders()
  else req.end()
  party.ready = sender ? connected.then(() => within(once(req, "response"), ANSWER_MS)) : connected
  party.ready = party.ready.catch((err) => {
    party.error ??= err.code ?? err.message
  })
  return party
}

/** Destroys every party's connection and waits (bounded) until each socket has closed. */
async function closeAll(parties) {
  parties.forEach((p) => {
    p.closing = true
    p.req.destroy()
  })
  const closed = await within(Promise.all(parties.map((p) => p.closed)).then(() => true), 5000, false)
  if (!closed) throw new Error("client sockets did not close within 5 s")
}

/** Problems among opened parties: errors, refusals, and senders that got no answer. */
function problemsOf(parties) {
  const count = (pred) => parties.filter(pred).length
  const problems = []
  const errors = [...new Set(parties.map((p) => p.error).filter(Boolean))]
  if (errors.length) problems.push(`${count((p) => p.error)} error(s): ${errors.join(", ")}`)
  const refused = count((p) => p.status !== null && (p.status < 200 || p.status >= 300))
  if (refused) problems.push(`${refused} answered non-2xx (${[...new Set(parties.map((p) => p.status))].join(",")})`)
  const silent = count((p) => p.role === "sender" && p.status === null && !p.error)
  if (silent) problems.push(`${silent} sender(s) got no answer within ${ANSWER_MS} ms`)
  return problems
}

/** N parties of one role on distinct paths; returns RSS before, while they wait and after they are gone. */
async function measureRole(server, role, n, tag) {
  const base = await steadyRss(server.pid)
  const parties = Array.from(
    { length: n },
    (_, i) => openParty(server.url(`bench-wait-${tag}-${role}-${i}-${process.pid}`, 1), role)
  )
  await Promise.all(parties.map((p) => p.ready))
  await sleep(SETTLE_MS)
  const loaded = server.alive() ? await steadyRss(server.pid) : NaN
  const problems = problemsOf(parties)
  await closeAll(parties)
  await sleep(SETTLE_MS)
  const after = server.alive() ? await steadyRss(server.pid) : NaN
  return { base, loaded, after, perPartyKB: (loaded - base) / n / 1e3, problems }
}

async function warm(server, role) {
  const parties = Array.from(
    { length: WARM_PARTIES },
    (_, i) => openParty(server.url(`bench-wait-warm-${role}-${i}-${process.pid}`, 1), role)
  )
  await Promise.all(parties.map((p) => p.ready))
  await closeAll(parties)
  await sleep(SETTLE_MS)
}

/** One measurement on a fresh process of `key`, which is stopped again whatever happens. */
async function freshMeasure(key, role, n, round, ctx) {
  const server = await startServer(key, { ...ctx(key), logName: `waiting-${key}-${role}-${round}` })
  try {
    await sleep(SETTLE_MS) // let start-up work finish before the warm-up
    await warm(server, role)
    const m = await measureRole(server, role, n, `${round}-${key}`)
    if (!server.alive()) m.problems.push(`server exited (${JSON.stringify(server.exitInfo())})`)
    return m
  } finally {
    await server.stop()
  }
}

/** Rounds alternate the servers; inside a round each server gets a process for its receivers, then one for its senders. */
export async function waiting(keys, cfg, ctx) {
  const n = cfg.waiting
  console.log(
    `\nWaiting parties: ${cfg.waitingRounds} round(s) × (${n} waiting receivers, ${n} waiting senders), ` +
      `each batch on a fresh server process after ${WARM_PARTIES} warm-up parties; every party on its own path and connection`
  )
  const res = { n, rounds: cfg.waitingRounds, byKey: {} }
  for (const key of keys) res.byKey[key] = { receiver: [], sender: [], failures: [] }
  for (let round = 1; round <= cfg.waitingRounds; round++) {
    for (const key of keys) {
      const r = res.byKey[key]
      for (const role of ["receiver", "sender"]) {
        const label = `round ${round}/${cfg.waitingRounds}  ${key.padEnd(6)}  ${n} ${role}s`
        const m = await freshMeasure(key, role, n, round, ctx)
        const mb = (b) => fmt(b / 1e6, 1)
        console.log(
          `  ${label.padEnd(35)}  ${fmt(m.perPartyKB, 1).padStart(6)} KB each  ` +
            `(RSS ${mb(m.base)} -> ${mb(m.loaded)} -> ${mb(m.after)} MB after close)` +
            (m.problems.length ? `  PROBLEMS: ${m.problems.join("; ")}` : "")
        )
        if (m.problems.length) r.failures.push(`${label}: ${m.problems.join("; ")}`)
        else r[role].push(m)
      }
    }
  }
  for (const r of Object.values(res.byKey)) {
    for (const role of ["receiver", "sender"]) r[`${role}KB`] = median(r[role].map((m) => m.perPartyKB))
  }
  return res
}

export function printWaiting(keys, res) {
  const servers = keys.map((key) => ({ key, label: SERVERS[key].label }))
  console.log(
    `\nWaiting parties (RSS delta ÷ ${res.n}, KB = 10^3 B, median of ${res.rounds} round(s); ` +
      "\"left\" = RSS 1 s after all closed minus before)"
  )
  const span = (xs) => (xs.length ? `${fmt(Math.min(...xs), 1)}–${fmt(Math.max(...xs), 1)}` : "–")
  const left = (ms) => fmt(median(ms.map((m) => (m.after - m.base) / 1e6)), 1)
  const rows = servers.filter((s) => res.byKey[s.key]).map((s) => {
    const r = res.byKey[s.key]
    const kb = (role) => r[role].map((m) => m.perPartyKB)
    return [
      s.label,
      fmt(r.receiverKB, 1),
      span(kb("receiver")),
      left(r.receiver),
      fmt(r.senderKB, 1),
      span(kb("sender")),
      left(r.sender),
      String(r.failures.length)
    ]
  })
  console.log(
    textTable(["server", "KB/receiver", "min–max", "left MB", "KB/sender", "min–max", "left MB", "failed"], rows)
  )
  for (const s of servers) (res.byKey[s.key]?.failures ?? []).forEach((f) => console.log(`    - ${f}`))
}
