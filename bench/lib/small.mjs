// Section small: how many small transfers a server completes per second.
// P pairs (16) run at once, each on its own path: a receiver GET and a sender PUT of B bytes (1 KB) start together,
// and the next transfer on that path starts when both ended. Every received body is compared byte for byte with
// the one sent (each transfer's body is distinct, so a body delivered to the wrong receiver is caught too).
// node:http clients in the bench process, through one agent per run whose keepAlive is the same for every server.
import http from "node:http"
import { performance } from "node:perf_hooks"
import { exchange } from "./client.mjs"
import { cpuSeconds, sleep } from "./proc.mjs"
import { fmt, humanBytes, median, percentile, textTable } from "./report.mjs"

/** A body of `size` bytes that differs per pair and per transfer. */
const payload = (size, pair, seq) => Buffer.alloc(size, `${pair}:${seq};`)

/** Why one transfer did not count, or null if it did. */
function problemOf(recv, send, body) {
  if (recv.status === "rejected") return `receiver: ${recv.reason.message}`
  if (send.status === "rejected") return `sender: ${send.reason.message}`
  if (recv.value.status !== 200) return `receiver: HTTP ${recv.value.status}`
  if (send.value.status < 200 || send.value.status >= 300) return `sender: HTTP ${send.value.status}`
  if (!recv.value.body.equals(body)) {
    return `receiver: ${recv.value.body.length} bytes that differ from the ${body.length} sent`
  }
  return null
}

/** One pair's loop until the deadline. After a failure the pair moves to a fresh path, as a user would. */
async function pairLoop(server, { pair, round, deadline, agent, size, out }) {
  let gen = 0
  for (let seq = 0; performance.now() < deadline; seq++) {
    const url = server.url(`bench-small-${round}-${server.key}-${pair}-${gen}-${process.pid}`, 1)
    const body = payload(size, pair, seq)
    const t0 = performance.now()
    const [recv, send] = await Promise.allSettled([
      exchange(url, { agent }),
      exchange(url, { method: "PUT", body, agent })
    ])
    const problem = problemOf(recv, send, body)
    if (problem === null) {
      out.latencies.push(performance.now() - t0)
      continue
    }
    out.failures.push(`pair ${pair} transfer ${seq}: ${problem}`)
    gen++
    await sleep(50)
  }
}

async function oneRun(server, cfg, round) {
  const agent = new http.Agent({ keepAlive: cfg.smallKeepAlive, maxSockets: Infinity })
  const out = { latencies: [], failures: [] }
  const cpu0 = cpuSeconds(server.pid)
  const bench0 = process.cpuUsage()
  const t0 = performance.now()
  const deadline = t0 + cfg.smallSeconds * 1000
  await Promise.all(
    Array.from(
      { length: cfg.smallPairs },
      (_, pair) => pairLoop(server, { pair, round, deadline, agent, size: cfg.smallBytes, out })
    )
  )
  // The clock runs until the last transfer started before the deadline has ended.
  const seconds = (performance.now() - t0) / 1000
  const bench = process.cpuUsage(bench0)
  agent.destroy()
  return {
    rate: out.latencies.length / seconds,
    transfers: out.latencies.length,
    seconds,
    p50: percentile(out.latencies, 50),
    p99: percentile(out.latencies, 99),
    serverCpu: server.alive() ? (cpuSeconds(server.pid) - cpu0) / seconds : NaN,
    benchCpu: (bench.user + bench.system) / 1e6 / seconds,
    failures: out.failures
  }
}

/** Rounds alternate the servers so that drift hits all alike. */
export async function small(servers, cfg) {
  console.log(
    `\nSmall transfers: ${cfg.smallRounds} round(s) × ${cfg.smallSeconds} s per server, ${cfg.smallPairs} pairs at once, ` +
      `${humanBytes(cfg.smallBytes)} each, node:http agent keepAlive ${cfg.smallKeepAlive ? "on" : "off"}`
  )
  const res = {
    cfg: {
      seconds: cfg.smallSeconds,
      pairs: cfg.smallPairs,
      bytes: cfg.smallBytes,
      keepAlive: cfg.smallKeepAlive,
      rounds: cfg.smallRounds
    },
    byKey: {}
  }
  for (const s of servers) res.byKey[s.key] = { runs: [], failures: [] }
  for (let round = 1; round <= cfg.smallRounds; round++) {
    for (const s of servers) {
      const r = res.byKey[s.key]
      const label = `round ${round}/${cfg.smallRounds}  ${s.key.padEnd(6)}`
      if (!s.alive()) {
        r.failures.push(`${label}: server not running (${JSON.stringify(s.exitInfo())})`)
        continue
      }
      const run = await oneRun(s, cfg, round)
      r.runs.push(run)
      r.failures.push(...run.failures.map((f) => `${label}: ${f}`))
      console.log(
        `  ${label}  ${fmt(run.rate).padStart(5)} transfers/s  (${run.transfers} in ${fmt(run.seconds, 2)} s; ` +
          `p50 ${fmt(run.p50, 1)} ms, p99 ${fmt(run.p99, 1)} ms; server CPU ${fmt(run.serverCpu * 100)}%, ` +
          `bench CPU ${fmt(run.benchCpu * 100)}%)${
            run.failures.length ? `  ${run.failures.length} FAILED, first: ${run.failures[0]}` : ""
          }`
      )
      await sleep(500)
    }
  }
  for (const r of Object.values(res.byKey)) r.median = median(r.runs.map((x) => x.rate))
  return res
}

export function printSmall(servers, res) {
  const c = res.cfg
  console.log(
    `\nSmall transfers (${c.pairs} pairs × ${humanBytes(c.bytes)}, ${c.seconds} s per run, keepAlive ${
      c.keepAlive ? "on" : "off"
    }; ` +
      "CPU = share of one core over the run)"
  )
  const med = (r, k) => median(r.runs.map((x) => x[k]))
  const rows = servers.filter((s) => res.byKey[s.key]).map((s) => {
    const r = res.byKey[s.key]
    const rates = r.runs.map((x) => x.rate)
    return [
      s.label,
      String(r.runs.length),
      fmt(r.median),
      rates.length ? `${fmt(Math.min(...rates))}–${fmt(Math.max(...rates))}` : "–",
      fmt(med(r, "p50"), 1),
      fmt(med(r, "p99"), 1),
      `${fmt(med(r, "serverCpu") * 100)}%`,
      `${fmt(med(r, "benchCpu") * 100)}%`,
      String(r.failures.length)
    ]
  })
  console.log(
    textTable([
      "server",
      "runs",
      "transfers/s (median)",
      "min–max",
      "p50 ms",
      "p99 ms",
      "server CPU",
      "bench CPU",
      "failed"
    ], rows)
  )
  for (const s of servers) {
    const f = res.byKey[s.key]?.failures ?? []
    f.slice(0, 5).forEach((x) => console.log(`    - ${x}`))
    if (f.length > 5) console.log(`    … ${f.length - 5} more`)
  }
}
