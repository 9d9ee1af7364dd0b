// Section idle: RSS of a server that has never had a request, BENCH_IDLE_SECONDS after its spawn.
// Every instance is a fresh process of its own: only the readiness check's bare TCP connect ever reaches it, whereas
// the shared servers have had traffic by the time the other sections run. Instances start one after another,
// interleaved by server so that any drift hits all alike, and each is sampled on its own clock.
// Extra instances give a median without waiting 30 s per round.
import { performance } from "node:perf_hooks"
import { assertNodeProcess, rssMB, sleep } from "./proc.mjs"
import { fmt, median, textTable } from "./report.mjs"
import { startServer } from "./servers.mjs"

/** Seconds after spawn to sample: a few early ones show whether RSS is still settling, the last one counts. */
const sampleTimes = (seconds) => [...new Set([1, 5, 10, 20, seconds])].filter((t) => t <= seconds).sort((a, b) => a - b)

/**
 * Starts `instances` fresh processes of each server (ctx(key) = startServer's options); pushes
 * { key, instance, server } onto `out` as each one is up, so that a caller can stop them even if a later start fails.
 */
export async function startFresh(keys, instances, ctx, out = []) {
  for (let i = 1; i <= instances; i++) {
    for (const key of keys) {
      const server = await startServer(key, { ...ctx(key), logName: `fresh-${key}-${i}` })
      out.push({ key, instance: i, server })
      console.log(`  started fresh ${server.label} #${i} (pid ${server.pid}, ${assertNodeProcess(server.pid)})`)
    }
  }
  return out
}

/** Samples every fresh instance at sampleTimes after its own spawn. No request is ever sent to them. */
export async function idle(fresh, cfg) {
  const times = sampleTimes(cfg.idleSeconds)
  console.log(
    `\nIdle: VmRSS at ${times.map((t) => `${t}`).join(", ")} s after spawn, no traffic, ` +
      `${cfg.idleInstances} fresh instance(s) per server`
  )
  const sampled = await Promise.all(fresh.map(async ({ key, instance, server }) => {
    const samples = []
    for (const t of times) {
      await sleep(server.startedAt + t * 1000 - performance.now())
      samples.push(server.alive() ? rssMB(server.pid) : NaN)
    }
    return { key, instance, pid: server.pid, startRss: server.startRss, samples }
  }))
  const byKey = {}
  for (const s of sampled) (byKey[s.key] ??= { instances: [] }).instances.push(s)
  for (const r of Object.values(byKey)) {
    r.final = r.instances.map((s) => s.samples.at(-1))
    r.median = median(r.final.filter(Number.isFinite))
    r.failures = r.instances.filter((s) => !s.samples.every(Number.isFinite)).map((s) =>
      `instance #${s.instance} died while idle`
    )
  }
  return { times, seconds: cfg.idleSeconds, byKey }
}

export function printIdle(servers, res) {
  console.log(`\nIdle RSS (MB = 10^6 B; median over instances per column; ${res.seconds} s column counts)`)
  const rows = servers.filter((s) => res.byKey[s.key]).map((s) => {
    const r = res.byKey[s.key]
    const col = (i) => fmt(median(r.instances.map((x) => x.samples[i]).filter(Number.isFinite)), 1)
    const finals = r.final.filter(Number.isFinite)
    return [
      s.label,
      r.instances.map((x) => x.pid).join(","),
      fmt(median(r.instances.map((x) => x.startRss)), 1),
      ...res.times.map((_, i) => col(i)),
      finals.length ? `${fmt(Math.min(...finals), 1)}–${fmt(Math.max(...finals), 1)}` : "–"
    ]
  })
  console.log(
    textTable(["server", "pids", "at ready", ...res.times.map((t) => `t=${t}s`), `min–max at ${res.seconds}s`], rows)
  )
}
