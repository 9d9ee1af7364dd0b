// Pipe nodes behind a real HAProxy or nginx, on loopback ports, with the shipped configs (deploy/) rewritten
// only where a test must: its listen address, its nodes, and the timeouts it names.
import { type ChildProcess, spawn } from "node:child_process"
import { createWriteStream, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { Agent, request as httpRequest } from "node:http"
import { createServer } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { artifactPath, repoRoot } from "./artifacts.js"
import { type ServerHandle, startServer } from "./server.js"
import { waitFor } from "./wait.js"

/** A free loopback port (closed again before it is handed out). */
export const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer()
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      const port = typeof address === "object" && address !== null ? address.port : 0
      server.close(() => resolve(port))
    })
  })

export interface Node {
  readonly name: string
  readonly server: ServerHandle
  readonly adminPort: number
}

export const startNode = async (name: string, flags: ReadonlyArray<string> = []): Promise<Node> => {
  const adminPort = await freePort()
  // The proxies run on loopback: trusting it is what a deployment does for its balancer's address.
  const server = await startServer([
    ...flags,
    "--node-name",
    name,
    "--admin-port",
    String(adminPort),
    "--trust-proxy",
    "127.0.0.1/32"
  ])
  return { name, server, adminPort }
}

/** What the proxy's clients see: a `ServerHandle` for the helpers that only use its URL. */
export const proxyTarget = (port: number): ServerHandle => ({
  url: `http://127.0.0.1:${port}`,
  port,
  pid: -1,
  baselineSockets: 0,
  logFile: "",
  stop: async () => {},
  kill: () => {},
  exited: new Promise(() => {})
})

export interface Proxy {
  readonly target: ServerHandle
  readonly stop: () => Promise<void>
}

const runProxy = async (
  command: string,
  args: ReadonlyArray<string>,
  port: number,
  dir: string,
  ready: () => Promise<boolean>
): Promise<Proxy> => {
  const log = createWriteStream(artifactPath(command.split("/").at(-1) ?? "proxy", "log"))
  const child: ChildProcess = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"] })
  child.stdout?.pipe(log)
  child.stderr?.pipe(log)
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()))
  // SIGTERM, not SIGKILL: nginx's master then stops its workers (a killed master leaves them running).
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM")
      const late = setTimeout(() => child.kill("SIGKILL"), 5_000)
      await exited
      clearTimeout(late)
    }
    rmSync(dir, { recursive: true, force: true })
  }
  process.once("exit", () => child.kill("SIGTERM"))
  await waitFor(ready, { what: `${command} ready on ${port}`, timeoutMs: 15_000 }).catch(async (error: unknown) => {
    await stop()
    throw error
  })
  return { target: proxyTarget(port), stop }
}

const shipped = (path: string) => readFileSync(join(repoRoot, path), "utf8")

export interface HaproxyOptions {
  /** `timeout client` / `timeout server` / `timeout tunnel`, replacing the shipped hour (e.g. `4s`). */
  readonly idleTimeout?: string
}

/** `deploy/haproxy/pipe.cfg` with our bind address and nodes; ready once every node's check passed. */
export const startHaproxy = async (nodes: ReadonlyArray<Node>, options: HaproxyOptions = {}): Promise<Proxy> => {
  const port = await freePort()
  const dir = mkdtempSync(join(tmpdir(), "pipe-haproxy-"))
  let config = shipped("deploy/haproxy/pipe.cfg")
    .replace(/^ {4}bind :8080$/m, `    bind 127.0.0.1:${port}`)
    .replace(/^ {4}server node.*\n/gm, "")
    .replace(/^ {4}default-server check port 9090/m, "    default-server check")
  if (options.idleTimeout !== undefined) {
    config = config.replace(/^ {4}timeout (client|server|tunnel) 1h$/gm, `    timeout $1 ${options.idleTimeout}`)
  }
  config += nodes.map((node) => `    server ${node.name} 127.0.0.1:${node.server.port} port ${node.adminPort}\n`)
    .join("")
  const file = join(dir, "haproxy.cfg")
  writeFileSync(file, config)
  const target = proxyTarget(port)
  return runProxy("/usr/sbin/haproxy", ["-f", file, "-db", "-p", join(dir, "haproxy.pid")], port, dir, async () => {
    // Every node answers through it: each `healthz-<node>` key lands somewhere; all nodes seen means all UP.
    const seen = new Set<string>()
    for (let i = 0; i < 40; i++) {
      seen.add((await nodeOf(target, `/ready-${i}`).catch(() => undefined)) ?? "")
    }
    return nodes.every((node) => seen.has(node.name))
  })
}

/** `deploy/nginx/pipe.conf` with a prefix of its own, our listen address and nodes. */
export const startNginx = async (nodes: ReadonlyArray<Node>): Promise<Proxy> => {
  const port = await freePort()
  const dir = mkdtempSync(join(tmpdir(), "pipe-nginx-"))
  const site = shipped("deploy/nginx/pipe.conf")
    .replace(/^ {4}listen 8080;$/m, `    listen 127.0.0.1:${port};`)
    .replace(/^ {4}server 10\.0\.0\..*\n/gm, nodes.map((n) => `    server 127.0.0.1:${n.server.port};\n`).join(""))
  const config = `daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log info;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
${site}
}
`
  const file = join(dir, "nginx.conf")
  writeFileSync(file, config)
  const target = proxyTarget(port)
  return runProxy("/usr/sbin/nginx", ["-p", dir, "-c", file], port, dir, async () => {
    const seen = new Set<string>()
    for (let i = 0; i < 40; i++) seen.add((await nodeOf(target, `/ready-${i}`).catch(() => undefined)) ?? "")
    return nodes.every((node) => seen.has(node.name))
  })
}

const agent = new Agent({ keepAlive: true, maxSockets: 16 })

/** The node a path lives on, as the proxy routes it: `X-Pipe-Node` of a `HEAD` (which takes no slot). */
export const nodeOf = (target: ServerHandle, path: string): Promise<string | undefined> =>
  new Promise((resolve, reject) => {
    const req = httpRequest(`${target.url}${path}`, { method: "HEAD", agent }, (res) => {
      res.resume()
      const node = res.headers["x-pipe-node"]
      resolve(typeof node === "string" ? node : undefined)
    })
    req.setTimeout(5_000, () => req.destroy(new Error(`HEAD ${path} timed out`)))
    req.once("error", reject)
    req.end()
  })

/** GET on a node's admin port. */
export const adminGet = (node: Node, path: string): Promise<{ status: number; text: string }> =>
  new Promise((resolve, reject) => {
    const req = httpRequest(`http://127.0.0.1:${node.adminPort}${path}`, { agent: false }, (res) => {
      const chunks: Array<Buffer> = []
      res.on("data", (chunk: Buffer) => chunks.push(chunk))
      res.once("end", () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8") }))
    })
    req.once("error", reject)
    req.end()
  })

/** A counter of a node's `/metrics` (its admin port), summed over its labels. */
export const metric = async (node: Node, name: string): Promise<number> => {
  const { text } = await adminGet(node, "/metrics")
  return text.split("\n").filter((line) => line.startsWith(`${name} `) || line.startsWith(`${name}{`))
    .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(" ") + 1)), 0)
}
