#!/usr/bin/env node
// Starts N pipe nodes and HAProxy (deploy/haproxy/pipe.cfg) on loopback, for trying a cluster by hand:
//
//   npm run build && node deploy/local-cluster.mjs [N=3] [--port 8080]
//
// Then e.g. `curl -T file http://127.0.0.1:8080/x` and `curl http://127.0.0.1:8080/api/v1/pipe/x`: both land on
// the node named in their `X-Pipe-Node`. Node k listens on port+k, its admin port on port+100+k. Ctrl-C stops
// everything (each node drains first).
import { spawn } from "node:child_process"
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"

const root = join(dirname(fileURLToPath(import.meta.url)), "..")
const args = process.argv.slice(2)
const portFlag = args.indexOf("--port")
const port = portFlag === -1 ? 8080 : Number(args[portFlag + 1])
const count = Number(args.find((a, i) => /^\d+$/.test(a) && args[i - 1] !== "--port") ?? 3)
const haproxy = process.env.HAPROXY ?? "/usr/sbin/haproxy"

const children = []
const run = (name, command, argv) => {
  const child = spawn(command, argv, { stdio: ["ignore", "pipe", "pipe"] })
  for (const stream of [child.stdout, child.stderr]) {
    stream.on("data", (chunk) => {
      for (const line of String(chunk).split("\n")) if (line !== "") process.stdout.write(`[${name}] ${line}\n`)
    })
  }
  child.on("exit", (code, signal) => process.stdout.write(`[${name}] exited (${code ?? signal})\n`))
  children.push(child)
  return child
}

const dir = mkdtempSync(join(tmpdir(), "pipe-local-cluster-"))
const nodes = Array.from(
  { length: count },
  (_, i) => ({ name: `node${i + 1}`, port: port + 1 + i, admin: port + 101 + i })
)
for (const node of nodes) {
  run(node.name, process.execPath, [
    join(root, "dist", "main.js"),
    "server",
    "--host",
    "127.0.0.1",
    "--port",
    String(node.port),
    "--admin-port",
    String(node.admin),
    "--node-name",
    node.name,
    "--trust-proxy",
    "127.0.0.1/32",
    "--log-format",
    "pretty"
  ])
}
const config = readFileSync(join(root, "deploy", "haproxy", "pipe.cfg"), "utf8")
  .replace(/^ {4}bind :8080$/m, `    bind 127.0.0.1:${port}`)
  .replace(/^ {4}server node.*\n/gm, "")
  .replace(/^ {4}default-server check port 9090/m, "    default-server check") +
  nodes.map((n) => `    server ${n.name} 127.0.0.1:${n.port} port ${n.admin}\n`).join("")
writeFileSync(join(dir, "haproxy.cfg"), config)
run("haproxy", haproxy, ["-f", join(dir, "haproxy.cfg"), "-db"])
console.log(
  `pipe cluster: http://127.0.0.1:${port} -> ${nodes.map((n) => `${n.name} :${n.port} (admin :${n.admin})`).join(", ")}`
)

const stop = () => {
  for (const child of children) child.kill("SIGTERM")
  rmSync(dir, { recursive: true, force: true })
}
process.on("SIGINT", stop)
process.on("SIGTERM", stop)
