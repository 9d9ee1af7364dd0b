// Section "tls" of the bench (issue 15): the 2 GiB relay over plain HTTP/1.1, HTTPS/1.1 and h2, ours and
// piping-server's `--enable-https` side by side, on fresh processes and a certificate made for the run. Every
// transfer is curl to curl, both ends on the protocol of the row (`-k`: the certificate is self-signed).
// Rounds alternate protocol and server, so drift hits all alike; the ratios come from one run.
import { execFileSync } from "node:child_process"
import net from "node:net"
import { join } from "node:path"
import { transfer } from "./curl.mjs"
import { fmt, humanBytes, markdownTable, mbps, median, textTable } from "./report.mjs"
import { startServer } from "./servers.mjs"

const maxTimeFor = (bytes) => Math.ceil(bytes / 20e6 + 30)

const PROTOCOLS = [
  { key: "http1.1", label: "HTTP/1.1", tls: false, args: ["--http1.1"] },
  { key: "https1.1", label: "HTTPS/1.1", tls: true, args: ["--http1.1", "-k"] },
  { key: "h2", label: "h2 (TLS)", tls: true, args: ["--http2", "-k"] }
]

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer()
    srv.once("error", reject)
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address()
      srv.close(() => resolve(port))
    })
  })
}

/** A self-signed EC certificate for 127.0.0.1, made with openssl in the run's log directory. */
function makeCertificate(logDir) {
  const cert = join(logDir, "bench-tls-cert.pem")
  const key = join(logDir, "bench-tls-key.pem")
  execFileSync("openssl", [
    "req",
    "-x509",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:P-256",
    "-nodes",
    "-days",
    "2",
    "-subj",
    "/CN=pipe-bench",
    "-addext",
    "subjectAltName=IP:127.0.0.1",
    "-keyout",
    key,
    "-out",
    cert
  ], { stdio: ["ignore", "ignore", "pipe"] })
  return { cert, key }
}

/**
 * Ours with `--tls-cert` (one port, ALPN h2 + http/1.1) and plain; piping-server with `--enable-https` (its
 * HTTPS port, also h2 + http/1.1 by ALPN) and its plain port. Returns, per server and protocol, a handle whose
 * `url` points at the right port and scheme.
 */
export async function startTlsServers(ctx, logDir) {
  const { cert, key } = makeCertificate(logDir)
  const oursPlain = await startServer("pipe", { ...ctx, logName: "pipe-tls-plain", extraArgs: [] })
  const oursTls = await startServer("pipe", {
    ...ctx,
    logName: "pipe-tls",
    extraArgs: ["--tls-cert", cert, "--tls-key", key]
  })
  const httpsPort = await freePort()
  const piping = await startServer("piping", {
    ...ctx,
    logName: "piping-tls",
    extraArgs: ["--enable-https", "--https-port", String(httpsPort), "--key-path", key, "--crt-path", cert]
  })
  const pipingTls = {
    ...piping,
    url: (name, n) => `https://127.0.0.1:${httpsPort}/${name}${n > 1 ? `?n=${n}` : ""}`
  }
  const on = {
    pipe: { "http1.1": oursPlain, "https1.1": oursTls, h2: oursTls },
    piping: { "http1.1": piping, "https1.1": pipingTls, h2: pipingTls }
  }
  return { on, stop: () => Promise.all([oursPlain.stop(), oursTls.stop(), piping.stop()]) }
}

export async function tlsRounds({ on }, cfg) {
  const bytes = cfg.tlsBytes
  console.log(
    `\nTLS: ${cfg.tlsRounds} round(s) × ${humanBytes(bytes)}, one sender -> one receiver, over ` +
      `${PROTOCOLS.map((p) => p.label).join(", ")}; ours and piping-server --enable-https`
  )
  const res = { bytes, runs: {}, failures: [] }
  for (const server of ["pipe", "piping"]) for (const p of PROTOCOLS) res.runs[`${server} ${p.key}`] = []
  // Warm-up, not counted: one smaller transfer per server and protocol (JIT, TLS session setup code).
  const warmBytes = Math.min(bytes, 256 * 2 ** 20)
  for (const server of ["pipe", "piping"]) {
    for (const p of PROTOCOLS) {
      await transfer(on[server][p.key], `bench-tls-warm-${p.key}-${process.pid}`, warmBytes, {
        maxTimeS: maxTimeFor(warmBytes),
        extraArgs: p.args
      })
    }
  }
  for (let round = 1; round <= cfg.tlsRounds; round++) {
    const servers = round % 2 ? ["pipe", "piping"] : ["piping", "pipe"]
    for (const p of PROTOCOLS) {
      for (const server of servers) {
        const name = `bench-tls-${round}-${p.key}-${server}-${process.pid}`
        const r = await transfer(on[server][p.key], name, bytes, { maxTimeS: maxTimeFor(bytes), extraArgs: p.args })
        const label = `round ${round}/${cfg.tlsRounds}  ${server === "pipe" ? "ours         " : "piping-server"}  ${
          p.label.padEnd(9)
        }`
        if (r.problems.length) {
          res.failures.push(`${label}: ${r.problems.join("; ")}`)
          console.log(`  ${label}  FAILED: ${r.problems.join("; ")}`)
          continue
        }
        const rate = mbps(bytes, r.ms)
        res.runs[`${server} ${p.key}`].push(rate)
        console.log(`  ${label}  ${fmt(rate)} MB/s`)
      }
    }
  }
  return res
}

const ratioOf = (a, b) => Number.isFinite(a) && Number.isFinite(b) && b > 0 ? `${(a / b).toFixed(2)}×` : "–"

const rowsOf = (res) => {
  const med = (server, p) => median(res.runs[`${server} ${p}`])
  return PROTOCOLS.map((p) => {
    const ours = med("pipe", p.key)
    const theirs = med("piping", p.key)
    return [
      `${p.label} ${humanBytes(res.bytes)}`,
      `${fmt(ours)} MB/s`,
      `${fmt(theirs)} MB/s`,
      ratioOf(ours, theirs),
      ratioOf(ours, med("pipe", "http1.1")),
      ratioOf(theirs, med("piping", "http1.1"))
    ]
  })
}

const header = ["metric", "ours", "piping-server", "ours ÷ piping", "ours ÷ ours HTTP/1.1", "piping ÷ its HTTP/1.1"]

export function printTls(res) {
  console.log("\nTLS (MB = 10^6 B; median of the rounds)")
  console.log(textTable(header, rowsOf(res)))
  res.failures.forEach((f) => console.log(`    - ${f}`))
}

export function tlsMarkdown(res) {
  return markdownTable(header, rowsOf(res))
}
