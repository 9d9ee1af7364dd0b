// Sections 4 and 5 of the bench, our server only:
//   4. spectators: 2 GiB relay with 0 vs K (50) SSE spectators attached on the same path, alternating per round
//   5. cadence: one spectator times every `progress` event of a rate-limited ~10 s transfer
// Spectators are in-process node:http clients (see sse.mjs): light on a 2-core box, but the bench process itself
// then competes with the server and the curls for CPU while it parses their events.
import { performance } from "node:perf_hooks"
import { receive, sendZeros, transfer } from "./curl.mjs"
import { cpuSeconds, exited, kill, sleep } from "./proc.mjs"
import { fmt, humanBytes, markdownTable, mbps, median, percentile, textTable } from "./report.mjs"
import { checkSpectator, openSpectator } from "./sse.mjs"

/** Generous per-transfer time limit: 20 MB/s worst case plus 30 s (as in run.mjs). */
const maxTimeFor = (bytes) => Math.ceil(bytes / 20e6 + 30)
/** How long spectators stay connected after their `done`, to catch a duplicate `done` or stray events. */
const LINGER_MS = 500
const ratio3 = (
  x,
  base
) => (Number.isFinite(x) && Number.isFinite(base) && base > 0 ? `${(x / base).toFixed(3)}×` : "–")

/** Opens k spectators on url and waits until each has its replayed `state`. */
async function attachSpectators(url, k, bytes) {
  const specs = Array.from({ length: k }, () => openSpectator(url, { timeoutMs: (maxTimeFor(bytes) + 60) * 1000 }))
  const settled = await Promise.allSettled(specs.map((s) => s.attached))
  const failed = settled.filter((s) => s.status === "rejected").map((s) => s.reason.message)
  return { specs, failed }
}

/** Waits (bounded) for every spectator's `done`, lingers, closes them all, and checks each. */
async function collectSpectators(specs, expectBytes, waitMs = 10_000) {
  let timer
  await Promise.race([
    Promise.all(specs.map((s) => s.finished)),
    new Promise((r) => {
      timer = setTimeout(r, waitMs)
    })
  ])
  clearTimeout(timer)
  await sleep(LINGER_MS)
  specs.forEach((s) => s.close())
  return specs.map((s) => checkSpectator(s, expectBytes))
}

// ---------------------------------------------------------------- 4. spectators

export async function spectatorRounds(server, cfg) {
  const K = cfg.spectators
  const bytes = cfg.spectatorBytes
  console.log(
    `\n4. Spectators: ${cfg.spectatorRounds} rounds × ${humanBytes(bytes)} on ${server.label}, ` +
      `0 vs ${K} SSE spectators (in-process node:http clients) on the same path, order alternating per round`
  )
  const res = {
    K,
    bytes,
    // runs: MB/s; cpu: server CPU seconds (user+sys) during the transfer; benchCpu: this process's CPU seconds
    byK: {
      0: { runs: [], failures: [], cpu: [], benchCpu: [] },
      [K]: { runs: [], failures: [], cpu: [], benchCpu: [] }
    },
    pairs: [], // per round: MB/s with K / MB/s with 0
    checked: 0,
    bad: 0,
    checkFailures: [],
    counts: [],
    states: new Map(),
    comments: 0
  }
  for (let round = 1; round <= cfg.spectatorRounds; round++) {
    const order = round % 2 ? [0, K] : [K, 0]
    const thisRound = {}
    for (const k of order) {
      const label = `round ${round}/${cfg.spectatorRounds}  ${String(k).padStart(2)} spectators`
      if (!server.alive()) {
        res.byK[k].failures.push(`${label}: server not running (${JSON.stringify(server.exitInfo())})`)
        console.log(`  ${label}  FAILED: server not running`)
        continue
      }
      const name = `bench-spec-${round}-${k}-${process.pid}`
      const url = server.url(name, 1)
      const { specs, failed } = await attachSpectators(url, k, bytes)
      if (failed.length) {
        console.log(`  ${label}  ${failed.length} spectator(s) failed to attach: ${[...new Set(failed)].join(" | ")}`)
      }
      const cpu0 = cpuSeconds(server.pid)
      const bench0 = process.cpuUsage()
      const r = await transfer(server, name, bytes, { n: 1, maxTimeS: maxTimeFor(bytes) })
      const benchUse = process.cpuUsage(bench0)
      const cpu = server.alive() ? cpuSeconds(server.pid) - cpu0 : NaN
      const benchCpu = (benchUse.user + benchUse.system) / 1e6
      const speed = mbps(bytes, r.ms)
      const checks = await collectSpectators(specs, bytes)
      let note = ""
      if (k > 0) {
        const bad = checks.map((c, i) => ({ ...c, i })).filter((c) => c.problems.length)
        res.checked += checks.length
        res.bad += bad.length
        // One line per distinct problem in this run, with how many spectators had it.
        const byProblem = new Map()
        bad.forEach((c) => c.problems.forEach((p) => byProblem.set(p, [...(byProblem.get(p) ?? []), c.i + 1])))
        byProblem.forEach((who, p) =>
          res.checkFailures.push(`${label}: ${who.length}/${checks.length} spectator(s): ${p}`)
        )
        checks.forEach((c) => {
          res.counts.push(c.counts)
          res.states.set(c.states, (res.states.get(c.states) ?? 0) + 1)
        })
        res.comments += specs.reduce((s, x) => s + x.comments, 0)
        const prog = checks.map((c) => c.counts.progress)
        note = `  spectators ${checks.length - bad.length}/${checks.length} ok; progress events/spectator ` +
          `${Math.min(...prog)}–${Math.max(...prog)}`
      }
      if (r.problems.length === 0) {
        res.byK[k].runs.push(speed)
        res.byK[k].cpu.push(cpu)
        res.byK[k].benchCpu.push(benchCpu)
        thisRound[k] = speed
        console.log(
          `  ${label}  ${fmt(speed).padStart(5)} MB/s  (${fmt(r.ms / 1000, 2)} s; server CPU ${fmt(cpu, 2)} s, ` +
            `bench process ${fmt(benchCpu, 2)} s)${note}`
        )
      } else {
        res.byK[k].failures.push(`${label}: ${r.problems.join("; ")}`)
        console.log(`  ${label}  FAILED: ${r.problems.join("; ")}${note}`)
      }
      await sleep(200)
    }
    if (thisRound[0] && thisRound[K]) res.pairs.push(thisRound[K] / thisRound[0])
  }
  return res
}

export function printSpectators(res) {
  const { K } = res
  const m0 = median(res.byK[0].runs)
  const mK = median(res.byK[K].runs)
  const row = (k) => {
    const r = res.byK[k]
    return [
      String(k),
      `${r.runs.length}${r.failures.length ? ` (+${r.failures.length} failed)` : ""}`,
      fmt(median(r.runs)),
      r.runs.length ? `${fmt(Math.min(...r.runs))}–${fmt(Math.max(...r.runs))}` : "–",
      k === 0 ? "1.000×" : ratio3(mK, m0),
      fmt(median(r.cpu), 2),
      fmt(median(r.benchCpu), 2)
    ]
  }
  console.log(`\nSpectators (pipe, ${humanBytes(res.bytes)} relay, MB = 10^6 B; goal: ${K} spectators ≥ 0.97× of 0)`)
  console.log(
    textTable([
      "spectators",
      "runs",
      "median MB/s",
      "min–max",
      "vs 0 spectators",
      "server CPU s (median)",
      "bench CPU s (median)"
    ], [row(0), row(K)])
  )
  console.log(
    `  ratio of medians ${ratio3(mK, m0)}; median of per-round ratios ${ratio3(median(res.pairs), 1)} ` +
      `(${res.pairs.map((p) => p.toFixed(3)).join(", ")}) — ${
        Number.isFinite(mK / m0) ? (mK / m0 >= 0.97 ? "meets" : "MISSES") : "cannot judge"
      } the 0.97× goal`
  )
  const c0 = median(res.byK[0].cpu)
  const cK = median(res.byK[K].cpu)
  console.log(
    `  server CPU per transfer: ${fmt(cK, 2)} s with ${K} spectators vs ${fmt(c0, 2)} s without ` +
      `(${
        Number.isFinite(cK / c0) ? `${cK >= c0 ? "+" : ""}${fmt((cK / c0 - 1) * 100)}%` : "–"
      }; user+sys from /proc, less sensitive to other load than MB/s)`
  )
  const okCount = res.checked - res.bad
  console.log(
    `  spectator checks (exactly one done, ok: true, bytes = ${res.bytes}, ids increasing, one transferId, ` +
      `last progress = done bytes, nothing after done): ${okCount}/${res.checked} ok`
  )
  if (res.counts.length) {
    const per = (key) => res.counts.map((c) => c[key])
    const span = (xs) => (Math.min(...xs) === Math.max(...xs) ? `${xs[0]}` : `${Math.min(...xs)}–${Math.max(...xs)}`)
    console.log(
      `  events per spectator: state ${span(per("state"))}, progress ${span(per("progress"))}, ` +
        `done ${span(per("done"))}, other ${span(per("other"))}; keepalive comments ${res.comments}`
    )
    console.log(`  state sequences seen: ${[...res.states].map(([s, n]) => `${s} (${n})`).join("; ")}`)
  }
  res.checkFailures.slice(0, 10).forEach((f) => console.log(`    - ${f}`))
  if (res.checkFailures.length > 10) console.log(`    … ${res.checkFailures.length - 10} more`)
  for (const k of [0, K]) res.byK[k].failures.forEach((f) => console.log(`    - transfer ${f}`))
}

export function spectatorsMarkdown(res) {
  const { K } = res
  const m0 = median(res.byK[0].runs)
  const mK = median(res.byK[K].runs)
  const okCount = res.checked - res.bad
  const rows = [0, K].map((k) => {
    const r = res.byK[k]
    return [
      k === 0 ? "0" : `${K} SSE spectators`,
      `${fmt(median(r.runs))} (${r.runs.length} runs, ${
        r.runs.length ? `${fmt(Math.min(...r.runs))}–${fmt(Math.max(...r.runs))}` : "–"
      })`,
      k === 0 ? "1.000×" : `${ratio3(mK, m0)} (per-round median ${ratio3(median(res.pairs), 1)})`,
      fmt(median(r.cpu), 2),
      k === 0 ? "–" : `${okCount}/${res.checked} saw exactly one \`done\` with \`ok: true\` and ${res.bytes} bytes`
    ]
  })
  return markdownTable(
    [
      "pipe, same path",
      `MB/s (median of ${res.byK[0].runs.length} × ${humanBytes(res.bytes)})`,
      "vs 0 spectators (goal ≥ 0.97×)",
      "server CPU s per transfer (median)",
      "spectator checks"
    ],
    rows
  )
}

// ---------------------------------------------------------------- 5. cadence

const gapStats = (gaps, expect) => ({
  gaps: gaps.length,
  mean: gaps.length ? gaps.reduce((a, b) => a + b, 0) / gaps.length : NaN,
  p50: percentile(gaps, 50),
  p99: percentile(gaps, 99),
  max: gaps.length ? Math.max(...gaps) : NaN,
  min: gaps.length ? Math.min(...gaps) : NaN,
  late: gaps.filter((g) => g > 1.5 * expect).length,
  early: gaps.filter((g) => g < 0.5 * expect).length
})
const diffs = (xs) => xs.slice(1).map((x, i) => x - xs[i])

export async function cadence(server, cfg) {
  const bytes = cfg.cadenceBytes
  const expect = cfg.cadenceExpectMs
  console.log(
    `\n5. Cadence: one spectator times each progress event of a ${humanBytes(bytes)} transfer, ` +
      `sender curl --limit-rate ${cfg.cadenceRate} (expected interval ${expect} ms)`
  )
  if (!server.alive()) return { failed: `server not running (${JSON.stringify(server.exitInfo())})` }
  const name = `bench-cadence-${process.pid}`
  const url = server.url(name, 1)
  const maxTimeS = maxTimeFor(bytes) + 60
  const { specs, failed } = await attachSpectators(url, 1, bytes)
  if (failed.length) return { failed: `spectator did not attach: ${failed[0]}` }
  const spec = specs[0]
  const t0 = performance.now()
  const receiver = receive(url, { maxTimeS })
  const sender = sendZeros(url, bytes, { maxTimeS, extraArgs: ["--limit-rate", cfg.cadenceRate] })
  const [s, r] = await Promise.all([sender.done, receiver.done])
  const ms = performance.now() - t0
  await Promise.all([receiver.child, sender.child, sender.head].map((c) => (kill(c), exited(c))))
  const [check] = await collectSpectators([spec], bytes)
  const transferProblems = []
  if (s.code !== 0 || s.httpCode !== 200) {
    transferProblems.push(`sender: curl exit ${s.code ?? s.signal}, HTTP ${s.httpCode} ${s.stderr}`)
  }
  if (r.code !== 0 || r.httpCode !== 200 || r.bytes !== bytes) {
    transferProblems.push(`receiver: curl exit ${r.code ?? r.signal}, HTTP ${r.httpCode}, ${r.bytes} bytes ${r.stderr}`)
  }

  const ev = spec.events
  const done = ev.find((e) => e.event === "done")
  const streaming = ev.find((e) => e.event === "state" && e.data.state === "streaming")
  const progress = ev.filter((e) => e.event === "progress")
  // The end-of-transfer progress is published together with `done` (same `at`): it is not a tick.
  const final = done && progress.length && progress.at(-1).data.at === done.data.at ? progress.at(-1) : undefined
  const ticks = final ? progress.slice(0, -1) : progress
  const byArrival = gapStats(diffs(ticks.map((e) => e.t)), expect)
  const byAt = gapStats(diffs(ticks.map((e) => e.data.at)), expect)
  const latency = ticks.map((e) => performance.timeOrigin + e.t - e.data.at)
  const dupIds = ticks.length - new Set(ticks.map((e) => e.id)).size
  const noAdvance = diffs(ticks.map((e) => e.data.bytes)).filter((d) => d <= 0).length
  const out = {
    bytes,
    rate: cfg.cadenceRate,
    expect,
    ms,
    check,
    transferProblems,
    events: ev.length,
    progressCount: progress.length,
    ticks: ticks.length,
    hasFinal: Boolean(final),
    byArrival,
    byAt,
    dupIds,
    noAdvance,
    latency: {
      p50: percentile(latency, 50),
      p99: percentile(latency, 99),
      max: latency.length ? Math.max(...latency) : NaN
    },
    firstTickAfterStreamingMs: streaming && ticks.length ? ticks[0].data.at - streaming.data.at : NaN,
    finalAfterLastTickMs: final && ticks.length ? final.data.at - ticks.at(-1).data.at : NaN,
    done: done?.data,
    expectedTicks: done ? Math.floor((done.data.durationSec * 1000) / expect) : NaN
  }
  console.log(
    `  transfer ${fmt(ms / 1000, 2)} s, ${fmt(mbps(bytes, ms))} MB/s; spectator: ${ev.length} events, ` +
      `${progress.length} progress (${ticks.length} ticks${final ? " + 1 final" : ""})`
  )
  return out
}

export function printCadence(c) {
  console.log(
    `\nCadence (pipe, ${
      humanBytes(c.bytes ?? 0)
    } at curl --limit-rate ${c.rate}; expected ${c.expect} ms between progress events)`
  )
  if (c.failed) {
    console.log(`  FAILED: ${c.failed}`)
    return
  }
  const row = (
    label,
    g
  ) => [
    label,
    String(c.ticks),
    String(g.gaps),
    fmt(g.mean, 1),
    fmt(g.p50, 1),
    fmt(g.p99, 1),
    fmt(g.max, 1),
    fmt(g.min, 1),
    String(g.late),
    String(g.early)
  ]
  console.log(textTable(
    [
      "clock",
      "progress ticks",
      "gaps",
      "mean ms",
      "p50 ms",
      "p99 ms",
      "max ms",
      "min ms",
      `>${1.5 * c.expect} ms`,
      `<${0.5 * c.expect} ms`
    ],
    [row("arrival (client performance.now())", c.byArrival), row("`at` (server, epoch ms)", c.byAt)]
  ))
  const d = c.done
  console.log(
    `  progress events: ${c.progressCount} (${c.ticks} periodic${
      c.hasFinal ? " + 1 final, published with done, excluded from the gaps" : ", no final one found"
    }); ` +
      `~${c.expectedTicks} expected from durationSec / ${c.expect} ms`
  )
  console.log(
    `  first tick ${fmt(c.firstTickAfterStreamingMs)} ms after the streaming state; final progress ${
      fmt(c.finalAfterLastTickMs)
    } ms after the last tick (by \`at\`)`
  )
  console.log(
    `  server stamp -> client arrival: p50 ${fmt(c.latency.p50, 1)} ms, p99 ${fmt(c.latency.p99, 1)} ms, max ${
      fmt(c.latency.max, 1)
    } ms; ` +
      `duplicate ids ${c.dupIds}; ticks without new bytes ${c.noAdvance}`
  )
  console.log(
    `  done: ${
      d
        ? `ok ${d.ok}, bytes ${d.bytes}, durationSec ${d.durationSec}, avgMbps ${d.avgMbps}, error ${
          JSON.stringify(d.error)
        }`
        : "MISSING"
    }; ` +
      `transfer ${fmt(c.ms / 1000, 2)} s`
  )
  const problems = [...c.check.problems, ...c.transferProblems]
  console.log(
    `  checks: ${problems.length ? problems.join("; ") : "ok (one done, ok: true, right bytes, ids increasing)"}`
  )
}

export function cadenceMarkdown(c) {
  if (c.failed) return `Cadence: failed (${c.failed}).`
  const row = (label, g) => [label, String(c.ticks), fmt(g.p50), fmt(g.p99), fmt(g.max), fmt(g.mean, 1)]
  return markdownTable(
    [
      `progress cadence (${humanBytes(c.bytes)} at ${c.rate}/s, expected ${c.expect} ms)`,
      "events",
      "p50 gap ms",
      "p99 gap ms",
      "max gap ms",
      "mean gap ms"
    ],
    [row("client arrival time", c.byArrival), row("server `at` field", c.byAt)]
  )
}
