// pipe benchmark: raw Node relay vs piping-server vs pipe, side by side, on 127.0.0.1 only.
// Sections, in the order they run (all by default):
//   idle:       VmRSS of fresh server processes 30 s after spawn, no traffic (median of 3 processes per server)
//   waiting:    RSS per waiting party: 200 receivers with no sender, then 200 senders with no body, distinct paths
//               (idle and waiting start fresh processes of their own; the other sections share one set of servers)
//   ttfb:       time to first byte: sender's first chunk -> receiver, and sender head -> sender's first status line
//   small:      1 KiB transfers/s with 16 sender/receiver pairs at once (node:http clients, bodies verified)
//   throughput: 2 GiB `head -c 2G /dev/zero | curl -T -` -> server -> `curl -o /dev/null`
//   fanout:     one sender, n=4 receivers, 1 GiB
//   slow:       server RSS while a `curl --limit-rate 5M` receiver holds back a 2 GiB sender
//   spectators: (pipe only) the 2 GiB relay with 0 vs 50 SSE spectators on the same path, alternating per round
//   cadence:    (pipe only) gaps between a spectator's `progress` events during a rate-limited ~10 s transfer
//   access:     (pipe only) the 2 GiB relay with vs without a --tokens-file (Bearer on every curl), one run each
//   tls:        the 2 GiB relay over HTTP/1.1, HTTPS/1.1 and h2, ours (--tls-cert) and piping-server's --enable-https
// then one comparison table (a metric per row: ours / piping-server / raw, ours÷piping, ours÷raw) and a Markdown
// summary for the README. Times and rates are reported, never judged: nothing here passes or fails on them.
// Usage: npm run bench   (or: node bench/run.mjs after `npm run build`)
// Env: BENCH_SECTIONS (idle,waiting,ttfb,small,throughput,fanout,slow,spectators,cadence,access,cluster,tls: any subset;
//      default all)
//      BENCH_SERVERS (raw,piping,pipe), BENCH_PIPE_DIR (the directory whose dist/main.js is "ours"; default the repo)
//      BENCH_IDLE_SECONDS (30), BENCH_IDLE_INSTANCES (3),
//      BENCH_WAITING (200), BENCH_WAITING_ROUNDS (3),
//      BENCH_TTFB_ROUNDS (50),
//      BENCH_SMALL_SECONDS (10), BENCH_SMALL_ROUNDS (3), BENCH_SMALL_PAIRS (16), BENCH_SMALL_BYTES (1K),
//      BENCH_SMALL_KEEPALIVE (1; 0 = a new connection per request, for every server alike),
//      BENCH_ROUNDS (5), BENCH_BYTES (2G), BENCH_FANOUT_ROUNDS (3), BENCH_FANOUT_BYTES (1G), BENCH_FANOUT_N (4),
//      BENCH_SLOW_SECONDS (5), BENCH_SLOW_RATE (5M), BENCH_SLOW_SERVERS (same as BENCH_SERVERS),
//      BENCH_SPECTATOR_ROUNDS (5), BENCH_SPECTATOR_BYTES (2G), BENCH_SPECTATORS (50),
//      BENCH_CADENCE_BYTES (1G), BENCH_CADENCE_RATE (100M, curl --limit-rate syntax), BENCH_CADENCE_EXPECT_MS (250)
//      BENCH_ACCESS_ROUNDS (1), BENCH_ACCESS_BYTES (same as BENCH_BYTES)
//      BENCH_TLS_ROUNDS (3), BENCH_TLS_BYTES (same as BENCH_BYTES)
// Smoke run: BENCH_IDLE_SECONDS=3 BENCH_IDLE_INSTANCES=1 BENCH_WAITING=20 BENCH_WAITING_ROUNDS=1 BENCH_TTFB_ROUNDS=5 \
//            BENCH_SMALL_SECONDS=2 BENCH_SMALL_ROUNDS=1 \
//            BENCH_ROUNDS=1 BENCH_BYTES=64M BENCH_FANOUT_ROUNDS=1 BENCH_FANOUT_BYTES=32M BENCH_SLOW_SECONDS=2 \
//            BENCH_SPECTATOR_ROUNDS=1 BENCH_SPECTATOR_BYTES=64M BENCH_CADENCE_BYTES=64M BENCH_CADENCE_RATE=16M node bench/run.mjs
// Against another build of ours: BENCH_PIPE_DIR=/path/to/checkout node bench/run.mjs (build it there first).
import { execFileSync } from "node:child_process"
import { mkdtempSync } from "node:fs"
import os from "node:os"
import { dirname, join, resolve } from "node:path"
import { fileURLToPath } from "node:url"
import { accessMarkdown, accessRounds, printAccess, startAccessServers } from "./lib/access.mjs"
import { clusterSection } from "./lib/cluster.mjs"
import { comparisonMarkdown, comparisonText, LEGEND } from "./lib/compare.mjs"
import { receive, sendZeros, transfer } from "./lib/curl.mjs"
import { idle, printIdle, startFresh } from "./lib/idle.mjs"
import { exited, installCleanup, kill, killAll, rssMB, sleep } from "./lib/proc.mjs"
import { fmt, humanBytes, mbps, median, parseBytes, ratio, signed, textTable } from "./lib/report.mjs"
import { checkPrerequisites, SERVERS, startServer } from "./lib/servers.mjs"
import { printSmall, small } from "./lib/small.mjs"
import {
  cadence,
  cadenceMarkdown,
  printCadence,
  printSpectators,
  spectatorRounds,
  spectatorsMarkdown
} from "./lib/spectators.mjs"
import { printTls, startTlsServers, tlsMarkdown, tlsRounds } from "./lib/tls.mjs"
import { printTtfb, ttfb } from "./lib/ttfb.mjs"
import { printWaiting, waiting } from "./lib/waiting.mjs"

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..")

const SECTIONS = [
  "idle",
  "waiting",
  "ttfb",
  "small",
  "throughput",
  "fanout",
  "slow",
  "spectators",
  "cadence",
  "access",
  "cluster",
  "tls"
]
/** Sections that compare all of BENCH_SERVERS; the others run on pipe only. */
const COMPARATIVE = ["idle", "waiting", "ttfb", "small", "throughput", "fanout", "slow"]
/** Sections that need server processes nobody has sent traffic to; they get fresh ones, the others share one set. */
const FRESH = ["idle", "waiting", "access", "cluster", "tls"]

function readConfig(env = process.env) {
  const list = (v, dflt) => (v ?? dflt).split(",").map((s) => s.trim()).filter(Boolean)
  const sections = list(env.BENCH_SECTIONS, SECTIONS.join(","))
  for (const s of sections) {
    if (!SECTIONS.includes(s)) throw new Error(`unknown section "${s}" in BENCH_SECTIONS (${SECTIONS.join(",")})`)
  }
  const comparative = sections.some((s) => COMPARATIVE.includes(s))
  let servers = comparative ? list(env.BENCH_SERVERS, "raw,piping,pipe") : []
  for (const key of servers) if (!SERVERS[key]) throw new Error(`unknown server "${key}" in BENCH_SERVERS`)
  const pipeOnly = sections.some((s) => !COMPARATIVE.includes(s))
  if (pipeOnly && !servers.includes("pipe")) servers = [...servers, "pipe"]
  const spectators = Number(env.BENCH_SPECTATORS ?? 50)
  if (!(Number.isInteger(spectators) && spectators >= 1)) throw new Error("BENCH_SPECTATORS must be a positive integer")
  const count = (name, dflt, min = 1) => {
    const n = Number(env[name] ?? dflt)
    if (!(Number.isInteger(n) && n >= min)) throw new Error(`${name} must be an integer ≥ ${min}`)
    return n
  }
  const seconds = (name, dflt) => {
    const n = Number(env[name] ?? dflt)
    if (!(Number.isFinite(n) && n > 0)) throw new Error(`${name} must be a positive number of seconds`)
    return n
  }
  return {
    sections: new Set(sections),
    servers,
    sharedServers: sections.some((s) => !FRESH.includes(s)) ? servers : [],
    pipeDir: resolve(env.BENCH_PIPE_DIR ?? ROOT),
    idleSeconds: seconds("BENCH_IDLE_SECONDS", 30),
    idleInstances: count("BENCH_IDLE_INSTANCES", 3),
    waiting: count("BENCH_WAITING", 200),
    waitingRounds: count("BENCH_WAITING_ROUNDS", 3),
    ttfbRounds: count("BENCH_TTFB_ROUNDS", 50),
    smallSeconds: seconds("BENCH_SMALL_SECONDS", 10),
    smallRounds: count("BENCH_SMALL_ROUNDS", 3),
    smallPairs: count("BENCH_SMALL_PAIRS", 16),
    smallBytes: parseBytes(env.BENCH_SMALL_BYTES ?? "1K"),
    smallKeepAlive: !["0", "false", "off", "no"].includes(String(env.BENCH_SMALL_KEEPALIVE ?? "1").toLowerCase()),
    comparativeServers: comparative
      ? servers.filter((k) => list(env.BENCH_SERVERS, "raw,piping,pipe").includes(k))
      : [],
    rounds: Number(env.BENCH_ROUNDS ?? 5),
    bytes: parseBytes(env.BENCH_BYTES ?? "2G"),
    fanoutRounds: Number(env.BENCH_FANOUT_ROUNDS ?? 3),
    fanoutBytes: parseBytes(env.BENCH_FANOUT_BYTES ?? "1G"),
    fanoutN: Number(env.BENCH_FANOUT_N ?? 4),
    slowSeconds: Number(env.BENCH_SLOW_SECONDS ?? 5),
    slowRate: env.BENCH_SLOW_RATE ?? "5M",
    slowBytes: parseBytes(env.BENCH_SLOW_BYTES ?? "2G"),
    slowServers: list(env.BENCH_SLOW_SERVERS, servers.join(",")).filter((k) => servers.includes(k)),
    spectatorRounds: Number(env.BENCH_SPECTATOR_ROUNDS ?? 5),
    spectatorBytes: parseBytes(env.BENCH_SPECTATOR_BYTES ?? "2G"),
    spectators,
    cadenceBytes: parseBytes(env.BENCH_CADENCE_BYTES ?? "1G"),
    cadenceRate: env.BENCH_CADENCE_RATE ?? "100M",
    cadenceExpectMs: Number(env.BENCH_CADENCE_EXPECT_MS ?? 250),
    accessRounds: count("BENCH_ACCESS_ROUNDS", 1),
    accessBytes: parseBytes(env.BENCH_ACCESS_BYTES ?? env.BENCH_BYTES ?? "2G"),
    // Scaling out (issue 14): the `cluster` section starts its own nodes and HAProxy.
    clusterRounds: count("BENCH_CLUSTER_ROUNDS", 2),
    clusterBytes: parseBytes(env.BENCH_CLUSTER_BYTES ?? "1G"),
    clusterAggCount: count("BENCH_CLUSTER_AGG_COUNT", 12),
    clusterAggBytes: parseBytes(env.BENCH_CLUSTER_AGG_BYTES ?? "200M"),
    // HTTPS and h2 (issue 15): the `tls` section starts its own servers, ours and piping-server's.
    tlsRounds: count("BENCH_TLS_ROUNDS", 3),
    tlsBytes: parseBytes(env.BENCH_TLS_BYTES ?? env.BENCH_BYTES ?? "2G")
  }
}

/** Generous per-transfer time limit: 20 MB/s worst case plus 30 s. */
const maxTimeFor = (bytes) => Math.ceil(bytes / 20e6 + 30)

function machine() {
  const run = (cmd, args) => {
    try {
      return execFileSync(cmd, args, { encoding: "utf8" }).trim()
    } catch {
      return "?"
    }
  }
  return {
    nproc: run("nproc", []),
    cpu: os.cpus()[0]?.model ?? "?",
    node: process.version,
    curl: run("curl", ["--version"]).split(" ").slice(0, 2).join(" "),
    os: `${os.type()} ${os.release()}`,
    date: new Date().toISOString().slice(0, 10)
  }
}

const loadavg = () => os.loadavg().map((x) => x.toFixed(2)).join(" ")

// ---------------------------------------------------------------- results bookkeeping

/** Per server: a list of MB/s figures and a list of failure descriptions. */
function newResults(servers) {
  return Object.fromEntries(servers.map((s) => [s.key, { runs: [], failures: [] }]))
}

function record(results, server, label, outcome) {
  const r = results[server.key]
  if (outcome.problems.length === 0) {
    r.runs.push(outcome.mbps)
    console.log(
      `  ${label}  ${server.key.padEnd(6)}  ${fmt(outcome.mbps).padStart(5)} MB/s  (${fmt(outcome.ms / 1000, 2)} s)`
    )
  } else {
    r.failures.push(`${label}: ${outcome.problems.join("; ")}`)
    console.log(`  ${label}  ${server.key.padEnd(6)}  FAILED: ${outcome.problems.join("; ")}`)
  }
}

/** One timed transfer, or a failure if the server process is gone. */
async function measure(server, name, bytes, n) {
  if (!server.alive()) return { problems: [`server not running (${JSON.stringify(server.exitInfo())})`] }
  const r = await transfer(server, name, bytes, { n, maxTimeS: maxTimeFor(bytes) })
  return { ...r, mbps: mbps(n * bytes, r.ms) }
}

/** Rounds of transfers, alternating servers inside each round so drift hits all alike. */
async function rounds(servers, { rounds, bytes, n, tag }) {
  const results = newResults(servers)
  for (let round = 1; round <= rounds; round++) {
    for (const server of servers) {
      const name = `bench-${tag}-${round}-${server.key}-${process.pid}`
      record(results, server, `round ${round}/${rounds}`, await measure(server, name, bytes, n))
      await sleep(200)
    }
  }
  return results
}

function summaryRows(servers, results) {
  const med = (key) => median(results[key]?.runs ?? [])
  return servers.map((s) => {
    const r = results[s.key]
    const m = med(s.key)
    return {
      key: s.key,
      label: s.label,
      runs: `${r.runs.length}${r.failures.length ? ` (+${r.failures.length} failed)` : ""}`,
      median: m,
      vsRaw: ratio(m, med("raw")),
      vsPiping: ratio(m, med("piping")),
      spread: r.runs.length ? `${fmt(Math.min(...r.runs))}–${fmt(Math.max(...r.runs))}` : "–"
    }
  })
}

function printSummary(title, rows) {
  console.log(`\n${title}`)
  console.log(
    textTable(
      ["server", "runs", "median MB/s", "min–max", "vs raw", "vs piping-server"],
      rows.map((r) => [r.label, r.runs, fmt(r.median), r.spread, r.vsRaw, r.vsPiping])
    )
  )
}

// ---------------------------------------------------------------- phases

async function warmUp(servers, bytes) {
  console.log(`\nWarm-up: one ${humanBytes(bytes)} transfer per server (not counted)`)
  const results = newResults(servers)
  for (const server of servers) {
    record(results, server, "warm-up", await measure(server, `bench-warmup-${server.key}-${process.pid}`, bytes, 1))
  }
  return results
}

/** Samples VmRSS at t = 1..seconds while a rate-limited receiver holds back a fast sender. */
async function slowReceiver(server, cfg) {
  const name = `bench-slow-${server.key}-${process.pid}`
  const url = server.url(name, 1)
  await sleep(1000) // let the previous phase settle
  const baseline = rssMB(server.pid)
  // Both curls stop themselves shortly after the last sample, so that -w still reports their byte counts.
  const maxTimeS = cfg.slowSeconds + 0.3
  const t0 = Date.now()
  const receiver = receive(url, { maxTimeS, extraArgs: ["--limit-rate", cfg.slowRate] })
  const sender = sendZeros(url, cfg.slowBytes, { maxTimeS })
  const samples = []
  for (let i = 1; i <= cfg.slowSeconds; i++) {
    await sleep(t0 + i * 1000 - Date.now())
    samples.push(server.alive() ? rssMB(server.pid) : NaN)
  }
  const stopper = setTimeout(() => [receiver.child, sender.child, sender.head].forEach((c) => kill(c)), 2000)
  const [s, r] = await Promise.all([sender.done, receiver.done])
  clearTimeout(stopper)
  await Promise.all([receiver.child, sender.child, sender.head].map(exited))
  await sleep(1000)
  const after = server.alive() ? rssMB(server.pid) : NaN
  const peak = Math.max(...samples)
  return { baseline, samples, peak, growth: peak - baseline, after, received: r.bytes, sent: s.bytes }
}

async function slowReceivers(servers, cfg) {
  console.log(
    `\nSlow receiver: sender pushes ${
      humanBytes(cfg.slowBytes)
    }, receiver --limit-rate ${cfg.slowRate} for ${cfg.slowSeconds} s`
  )
  const out = {}
  for (const server of servers) {
    if (!server.alive()) {
      out[server.key] = null
      continue
    }
    out[server.key] = await slowReceiver(server, cfg)
    const o = out[server.key]
    console.log(`  ${server.key.padEnd(6)}  RSS ${fmt(o.baseline)} -> ${o.samples.map((x) => fmt(x)).join(" ")} MB`)
  }
  return out
}

function printSlow(servers, slow, cfg) {
  console.log(`\nSlow receiver RSS (MB = 10^6 B; receiver --limit-rate ${cfg.slowRate}, ${cfg.slowSeconds} s)`)
  const secs = Array.from({ length: cfg.slowSeconds }, (_, i) => `t=${i + 1}s`)
  const rows = servers.filter((s) => slow[s.key]).map((s) => {
    const o = slow[s.key]
    const mb = (b) => (Number.isFinite(b) ? fmt(b / 1e6, 1) : "–")
    return [
      s.label,
      fmt(o.baseline),
      ...o.samples.map((x) => fmt(x)),
      fmt(o.peak),
      signed(o.growth),
      fmt(o.after),
      mb(o.received),
      mb(o.sent),
      mb(o.sent - o.received)
    ]
  })
  console.log(textTable(
    ["server", "baseline", ...secs, "peak", "growth", "1 s after", "recv MB", "sent MB*", "sender ahead MB"],
    rows
  ))
  console.log("  * sent = curl's size_upload, which includes the chunked-encoding framing (~0.02%)")
}

// ---------------------------------------------------------------- report

/** The comparison rows of every comparative section that ran, in the order of the sections. */
function comparisonRows(out, cfg, startRss) {
  const rows = []
  const values = (get) => Object.fromEntries(["pipe", "piping", "raw"].map((k) => [k, get(k)]))
  const med = (results) => (k) => median(results[k]?.runs ?? [])
  if (out.idle) {
    rows.push({
      metric: `idle RSS ${cfg.idleSeconds} s after spawn, no traffic (median of ${cfg.idleInstances} fresh processes)`,
      better: "lower",
      unit: "MB",
      digits: 1,
      values: values((k) => out.idle.byKey[k]?.median ?? NaN)
    })
  }
  if (out.wait) {
    for (const role of ["receiver", "sender"]) {
      rows.push({
        metric: `RSS per waiting ${role} (${cfg.waiting} on distinct paths, median of ${cfg.waitingRounds})`,
        better: "lower",
        unit: "KB",
        digits: 1,
        values: values((k) => out.wait.byKey[k]?.[`${role}KB`] ?? NaN)
      })
    }
  }
  if (out.ttfb) {
    rows.push({
      metric: `TTFB sender's first chunk -> receiver (median of ${cfg.ttfbRounds})`,
      better: "lower",
      unit: "ms",
      digits: 2,
      values: values((k) => out.ttfb.byKey[k]?.receiverMs ?? NaN)
    })
    rows.push({
      metric: `TTFB sender head -> sender's first status line, receiver waiting (median of ${cfg.ttfbRounds})`,
      better: "lower",
      unit: "ms",
      digits: 2,
      values: values((k) => out.ttfb.byKey[k]?.senderMs ?? NaN)
    })
  }
  if (out.small) {
    rows.push({
      metric: `${
        humanBytes(cfg.smallBytes)
      } transfers/s, ${cfg.smallPairs} pairs at once (median of ${cfg.smallRounds} × ${cfg.smallSeconds} s)`,
      better: "higher",
      digits: 0,
      values: values((k) => out.small.byKey[k]?.median ?? NaN)
    })
  }
  if (out.thr) {
    rows.push({
      metric: `throughput MB/s (median of ${cfg.rounds} × ${humanBytes(cfg.bytes)})`,
      better: "higher",
      digits: 0,
      values: values(med(out.thr))
    })
  }
  if (out.fan) {
    rows.push({
      metric: `fan-out n=${cfg.fanoutN} aggregate MB/s (median of ${cfg.fanoutRounds} × ${
        humanBytes(cfg.fanoutBytes)
      })`,
      better: "higher",
      digits: 0,
      values: values(med(out.fan))
    })
  }
  // Only sections with servers of their own (tls, access, cluster) ran: no comparable start to show.
  if (Object.values(startRss).some(Number.isFinite)) {
    rows.push({
      metric: "RSS at start (readiness line)",
      better: "lower",
      unit: "MB",
      digits: 0,
      values: values((k) => startRss[k] ?? NaN)
    })
  }
  if (out.slow) {
    const slow = (k, f) => (out.slow[k] ? out.slow[k][f] : NaN)
    rows.push({
      metric: `slow-receiver peak RSS (${cfg.slowSeconds} s at ${cfg.slowRate}/s)`,
      better: "lower",
      unit: "MB",
      digits: 0,
      values: values((k) => slow(k, "peak"))
    })
    // A ratio of two growths of a few MB either way says nothing: the row shows the values only.
    rows.push({
      metric: "slow-receiver RSS growth",
      better: "lower",
      unit: "MB",
      digits: 0,
      signed: true,
      noRatio: true,
      values: values((k) => slow(k, "growth"))
    })
  }
  return rows
}

function printMarkdown(rows, { spec, cad }, m) {
  console.log("\n## Benchmark (Markdown)\n")
  if (rows.length) console.log(`${comparisonMarkdown(rows)}\n\n${LEGEND}.`)
  if (spec) {
    console.log(
      `\nSSE spectators on the transfer's own path (in-process node:http clients in the bench process, ` +
        `attached before the transfer; order alternating per round):\n`
    )
    console.log(spectatorsMarkdown(spec))
  }
  if (cad) {
    console.log(
      `\nSpectator \`progress\` cadence: one spectator, gaps between consecutive periodic \`progress\` events ` +
        `(the extra one published with \`done\` excluded); p99 is nearest-rank over ~${
          cad.ticks ?? "?"
        } gaps, so close to the max:\n`
    )
    console.log(cadenceMarkdown(cad))
  }
  console.log(
    `\nMachine: ${m.nproc} vCPU (${m.cpu}), ${m.os}, Node ${m.node}, ${m.curl}; loopback 127.0.0.1; ` +
      `MB = 10^6 bytes, KB = 10^3 bytes; ` +
      `measured ${m.date} with \`npm run bench\`.`
  )
}

/** Stops every server that is still running; returns { key: "how it stopped" }. */
async function stopAll(servers) {
  const running = servers.filter((s) => s.alive())
  const hows = await Promise.all(running.map((s) => s.stop()))
  return Object.fromEntries(running.map((s, i) => [s.key, hows[i]]))
}

function printObservations(servers, phases, stops, fresh) {
  console.log("\nObservations")
  for (const s of servers) {
    const failures = phases.flatMap(([phase, res]) => (res[s.key]?.failures ?? []).map((f) => `${phase} ${f}`))
    console.log(
      `  ${s.label}: ${failures.length} failed transfer(s); RSS at start ${fmt(s.startRss)} MB; ` +
        `stopped by ${
          stops[s.key] ?? `nothing: it had exited earlier (${JSON.stringify(s.exitInfo())})`
        }; log ${s.logFile}`
    )
    failures.slice(0, 20).forEach((f) => console.log(`    - ${f}`))
    if (failures.length > 20) console.log(`    … ${failures.length - 20} more`)
    if (s.stderrTail.length) {
      console.log(`    stderr (last ${s.stderrTail.length} lines):\n      ${s.stderrTail.join("\n      ")}`)
    }
  }
  for (const { server: s, instance, stop } of fresh) {
    console.log(
      `  fresh ${s.label} #${instance} (idle): stopped by ${
        stop ?? `nothing: it had exited earlier (${JSON.stringify(s.exitInfo())})`
      }; log ${s.logFile}`
    )
    if (s.stderrTail.length) {
      console.log(`    stderr (last ${s.stderrTail.length} lines):\n      ${s.stderrTail.join("\n      ")}`)
    }
  }
}

// ---------------------------------------------------------------- main

/** Stops the given fresh instances, noting on each how it stopped. */
async function stopFresh(instances) {
  await Promise.all(instances.map(async (f) => {
    if (f.server.alive()) f.stop = await f.server.stop()
  }))
}

/** idle and waiting: each on fresh processes nobody has sent a request to, all stopped before this returns. */
async function freshSections(cfg, ctx, out) {
  const fresh = []
  if (cfg.sections.has("idle")) {
    console.log(`\nFresh servers for idle: ${cfg.idleInstances} process(es) per server`)
    try {
      await startFresh(cfg.comparativeServers, cfg.idleInstances, ctx, fresh)
      out.idle = await idle(fresh, cfg)
      printIdle(fresh.filter((f) => f.instance === 1).map((f) => f.server), out.idle)
    } finally {
      await stopFresh(fresh)
    }
  }
  if (cfg.sections.has("waiting")) {
    out.wait = await waiting(cfg.comparativeServers, cfg, ctx)
    printWaiting(cfg.comparativeServers, out.wait)
  }
  return fresh
}

async function main() {
  installCleanup()
  const cfg = readConfig()
  checkPrerequisites(cfg.servers, { root: ROOT, pipeDir: cfg.pipeDir })
  const m = machine()
  const logDir = mkdtempSync(join(os.tmpdir(), "pipe-bench-"))
  console.log(`pipe bench — ${m.date}, ${m.nproc} vCPU (${m.cpu}), Node ${m.node}, ${m.curl}`)
  console.log(
    `sections: ${[...cfg.sections].join(", ")}; servers: ${cfg.servers.join(", ")}; ours from ${cfg.pipeDir}; ` +
      `server logs in ${logDir}; load average ${loadavg()}`
  )

  const servers = []
  let fresh = []
  try {
    const pipeArgs = cfg.spectators > 50 ? ["--max-spectators", String(cfg.spectators)] : []
    const ctx = (key) => ({ root: ROOT, pipeDir: cfg.pipeDir, logDir, extraArgs: key === "pipe" ? pipeArgs : [] })
    const has = (section) => cfg.sections.has(section)
    const out = {}
    if (FRESH.some(has)) fresh = await freshSections(cfg, ctx, out)

    if (cfg.sharedServers.length) console.log("\nShared servers for the other sections")
    for (const key of cfg.sharedServers) {
      const s = await startServer(key, ctx(key))
      servers.push(s)
      console.log(
        `  started ${s.label} (pid ${s.pid}) at ${s.baseUrl}${
          s.args.length > 1 ? `  [${s.args.slice(1).join(" ")}]` : ""
        }`
      )
    }
    const cmp = servers.filter((s) => cfg.comparativeServers.includes(s.key))
    const pipe = servers.find((s) => s.key === "pipe")
    const warm = servers.length ? await warmUp(servers, Math.min(cfg.bytes, 256 * 2 ** 20)) : {}

    if (has("ttfb")) {
      out.ttfb = await ttfb(cmp, cfg)
      printTtfb(cmp, out.ttfb)
    }

    if (has("small")) {
      out.small = await small(cmp, cfg)
      printSmall(cmp, out.small)
    }

    if (has("throughput")) {
      console.log(`\nThroughput: ${cfg.rounds} rounds × ${humanBytes(cfg.bytes)}, one sender -> one receiver`)
      out.thr = await rounds(cmp, { rounds: cfg.rounds, bytes: cfg.bytes, n: 1, tag: "thr" })
      printSummary(`Throughput (${humanBytes(cfg.bytes)}, MB = 10^6 B)`, summaryRows(cmp, out.thr))
    }

    if (has("fanout")) {
      console.log(
        `\nFan-out: ${cfg.fanoutRounds} rounds × ${humanBytes(cfg.fanoutBytes)} to n=${cfg.fanoutN} receivers`
      )
      out.fan = await rounds(cmp, { rounds: cfg.fanoutRounds, bytes: cfg.fanoutBytes, n: cfg.fanoutN, tag: "fan" })
      printSummary(
        `Fan-out n=${cfg.fanoutN} (aggregate delivered MB/s = ${cfg.fanoutN} × ${
          humanBytes(cfg.fanoutBytes)
        } / wall time)`,
        summaryRows(cmp, out.fan)
      )
    }

    if (has("slow")) {
      const slowServers = cmp.filter((s) => cfg.slowServers.includes(s.key))
      out.slow = await slowReceivers(slowServers, cfg)
      printSlow(slowServers, out.slow, cfg)
    }

    if (has("spectators")) {
      out.spec = await spectatorRounds(pipe, cfg)
      printSpectators(out.spec)
    }

    if (has("cadence")) {
      out.cad = await cadence(pipe, cfg)
      printCadence(out.cad)
    }

    if (has("access")) {
      const { plain, withTokens, token } = await startAccessServers(
        ctx("pipe"),
        logDir,
        Math.min(cfg.accessBytes, 256 * 2 ** 20)
      )
      console.log(
        `\n  started ${plain.label} twice, fresh and warmed up: without (pid ${plain.pid}) and with ` +
          `--tokens-file (pid ${withTokens.pid})`
      )
      try {
        out.access = await accessRounds(plain, withTokens, token, cfg)
      } finally {
        await Promise.all([plain.stop(), withTokens.stop()])
      }
      printAccess(out.access)
      console.log(`\nMarkdown (access control):\n${accessMarkdown(out.access)}`)
    }

    if (has("cluster")) out.cluster = await clusterSection({ root: ROOT, pipeDir: cfg.pipeDir, logDir }, cfg)

    if (has("tls")) {
      const tls = await startTlsServers({ root: ROOT, pipeDir: cfg.pipeDir, logDir }, logDir)
      console.log("\n  started ours plain and with --tls-cert, and piping-server with --enable-https (fresh)")
      try {
        out.tls = await tlsRounds(tls, cfg)
      } finally {
        await tls.stop()
      }
      printTls(out.tls)
      console.log(`\nMarkdown (TLS):\n${tlsMarkdown(out.tls)}`)
    }

    // RSS at start: the shared servers' if they ran, else the first fresh instances'.
    const startRss = Object.fromEntries([...fresh.filter((f) => f.instance === 1).map((f) => f.server), ...cmp]
      .map((s) => [s.key, s.startRss]))
    const rows = comparisonRows(out, cfg, startRss)
    if (rows.length) {
      console.log(`\nComparison (${LEGEND})`)
      console.log(comparisonText(rows))
    }
    printMarkdown(rows, out, m)
    console.log(`\nLoad average at the end: ${loadavg()} (1/5/15 min; other work on the box adds noise)`)
    const stops = await stopAll(servers)
    const specFailures = (k) => out.spec ? out.spec.byK[k].failures : []
    const pipeOnly = (failures) => ({ pipe: { failures } })
    printObservations(
      servers,
      [
        ["warm-up", warm],
        ["ttfb", out.ttfb?.byKey ?? {}],
        ["small", out.small?.byKey ?? {}],
        ["throughput", out.thr ?? {}],
        ["fan-out", out.fan ?? {}],
        ...(out.spec ?
          [
            ["spectators (0)", pipeOnly(specFailures(0))],
            [`spectators (${cfg.spectators})`, pipeOnly([...specFailures(cfg.spectators), ...out.spec.checkFailures])]
          ] :
          []),
        ...(out.cad ?
          [[
            "cadence",
            pipeOnly(
              out.cad.failed ?
                [out.cad.failed]
                : [...out.cad.check.problems, ...out.cad.transferProblems]
            )
          ]] :
          [])
      ],
      stops,
      fresh
    )
    const freshFailures = [["idle", out.idle?.byKey ?? {}], ["waiting", out.wait?.byKey ?? {}]]
      .flatMap(([phase, byKey]) =>
        Object.entries(byKey).flatMap(([k, r]) => r.failures.map((f) => `${phase} ${k}: ${f}`))
      )
    freshFailures.forEach((f) => console.log(`    - ${f}`))
  } finally {
    await stopAll(servers)
    await stopFresh(fresh)
    await killAll()
  }
}

main().catch(async (err) => {
  const plain = /is missing|BENCH_|unknown (section|server)/.test(err.message ?? "")
  console.error(`bench failed: ${plain ? err.message : (err.stack ?? err)}`)
  await killAll()
  process.exit(1)
})
