// The `cluster` section (issue 14): pipe nodes behind HAProxy running deploy/haproxy/pipe.cfg, all on loopback.
//   1. one 1 GiB transfer through HAProxy vs straight to a node (alternating, same run): the proxy's cost;
//   2. 12 concurrent 200 MB transfers: aggregate MB/s of 3 nodes behind HAProxy vs one node alone.
// On one machine the nodes share its cores, so (2) measures what the proxy and the hash spread cost, not
// what more machines would give.
import { readFileSync, writeFileSync } from "node:fs"
import { createServer } from "node:net"
import { join } from "node:path"
import { performance } from "node:perf_hooks"
import { transfer } from "./curl.mjs"
import { exited, kill, start } from "./proc.mjs"
import { startServer } from "./servers.mjs"

const freePort = () =>
  new Promise((resolve, reject) => {
    const server = createServer()
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address()
      server.close(() => resolve(port))
    })
  })

const mbps = (bytes, ms) => bytes / 1e6 / (ms / 1000)

async function startHaproxy(root, logDir, nodes) {
  const port = await freePort()
  const config = readFileSync(join(root, "deploy", "haproxy", "pipe.cfg"), "utf8")
    .replace(/^ {4}bind :8080$/m, `    bind 127.0.0.1:${port}`)
    .replace(/^ {4}server node.*\n/gm, "")
    .replace(/^ {4}default-server check port 9090/m, "    default-server check")
    .replace(/^ {4}log stdout.*\n/m, "") +
    nodes.map((n) => `    server ${n.name} 127.0.0.1:${n.server.port} port ${n.admin}\n`).join("")
  const file = join(logDir, "haproxy.cfg")
  writeFileSync(file, config)
  const child = start("/usr/sbin/haproxy", ["-f", file, "-db"], { stdio: ["ignore", "ignore", "ignore"] })
  const baseUrl = `http://127.0.0.1:${port}`
  // Ready once every node's health check passed: each answers some path's HEAD.
  for (let attempt = 0; attempt < 100; attempt++) {
    const seen = new Set()
    for (let i = 0; i < 30; i++) {
      const res = await fetch(`${baseUrl}/ready-${i}`, { method: "HEAD" }).catch(() => undefined)
      seen.add(res?.headers.get("x-pipe-node"))
    }
    if (nodes.every((n) => seen.has(n.name))) break
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
  return {
    url: (name, n) => `${baseUrl}/${name}${n > 1 ? `?n=${n}` : ""}`,
    async stop() {
      kill(child, "SIGKILL")
      await exited(child)
    }
  }
}

const startNode = async (ctx, name) => {
  const admin = await freePort()
  const server = await startServer("pipe", {
    ...ctx,
    logName: `cluster-${name}`,
    extraArgs: ["--node-name", name, "--admin-port", String(admin)]
  })
  return { name, admin, server }
}

const concurrent = async (target, label, count, bytes, maxTimeS) => {
  const t0 = performance.now()
  const results = await Promise.all(
    Array.from({ length: count }, (_, i) => transfer(target, `agg-${label}-${Date.now()}-${i}`, bytes, { maxTimeS }))
  )
  const ms = performance.now() - t0
  return {
    mbps: mbps(results.reduce((sum, r) => sum + r.delivered, 0), ms),
    problems: results.flatMap((r) => r.problems)
  }
}

/** Runs the section; resolves with its figures (and prints them as it goes). */
export async function clusterSection({ root, pipeDir, logDir }, cfg) {
  const ctx = { root, pipeDir, logDir }
  const nodes = []
  let proxy
  const problems = []
  try {
    for (const name of ["c1", "c2", "c3"]) nodes.push(await startNode(ctx, name))
    proxy = await startHaproxy(root, logDir, nodes)
    console.log(`\nCluster: 3 pipe nodes behind HAProxy (deploy/haproxy/pipe.cfg), loopback`)
    // 1. The proxy's cost on one transfer: the same node, straight and through HAProxy, alternating.
    const direct = { direct: [], proxied: [] }
    for (let round = 1; round <= cfg.clusterRounds; round++) {
      for (const [key, target] of [["direct", nodes[0].server], ["proxied", proxy]]) {
        const r = await transfer(target, `one-${key}-${round}-${Date.now()}`, cfg.clusterBytes, {
          maxTimeS: Math.ceil(cfg.clusterBytes / 20e6 + 30)
        })
        problems.push(...r.problems)
        direct[key].push(mbps(r.delivered, r.ms))
        console.log(`  round ${round}  ${key.padEnd(7)}  ${mbps(r.delivered, r.ms).toFixed(0)} MB/s`)
      }
    }
    const best = (xs) => Math.max(...xs)
    const ratio = best(direct.proxied) / best(direct.direct)
    console.log(
      `  1 transfer of ${(cfg.clusterBytes / 2 ** 30).toFixed(2)} GiB: direct ${
        best(direct.direct).toFixed(0)
      } MB/s, ` +
        `through HAProxy ${best(direct.proxied).toFixed(0)} MB/s (${ratio.toFixed(2)}x)`
    )
    // 2. Aggregate: 12 concurrent transfers on one node alone, then spread by the hash over 3 behind HAProxy.
    const maxTimeS = Math.ceil((cfg.clusterAggCount * cfg.clusterAggBytes) / 20e6 + 30)
    const one = await concurrent(nodes[0].server, "one", cfg.clusterAggCount, cfg.clusterAggBytes, maxTimeS)
    const three = await concurrent(proxy, "three", cfg.clusterAggCount, cfg.clusterAggBytes, maxTimeS)
    problems.push(...one.problems, ...three.problems)
    console.log(
      `  ${cfg.clusterAggCount} concurrent × ${(cfg.clusterAggBytes / 1e6).toFixed(0)} MB: one node ` +
        `${one.mbps.toFixed(0)} MB/s, 3 nodes behind HAProxy ${three.mbps.toFixed(0)} MB/s ` +
        `(${(three.mbps / one.mbps).toFixed(2)}x; the nodes share this machine's cores)`
    )
    for (const p of problems) console.log(`    - ${p}`)
    return { direct, ratio, one: one.mbps, three: three.mbps, problems }
  } finally {
    await proxy?.stop()
    for (const n of nodes) await n.server.stop()
  }
}
