// curl-driven transfers: `head -c N /dev/zero | curl -T - URL` as the sender,
// `curl -o /dev/null URL` as each receiver. Byte counts come from curl's -w write-out.
import { performance } from "node:perf_hooks"
import { collectStdout, exited, kill, start } from "./proc.mjs"

/** Runs one curl; resolves with { code, signal, httpCode, bytes, stderr }. */
function curl(args, { stdin = "ignore", maxTimeS, extraArgs = [] }) {
  const child = start("curl", ["-sS", "-o", "/dev/null", "--max-time", String(maxTimeS), ...extraArgs, ...args], {
    stdio: [stdin, "pipe", "pipe"]
  })
  const stdout = collectStdout(child)
  let stderr = ""
  child.stderr.setEncoding("utf8")
  child.stderr.on("data", (d) => {
    stderr += d
  })
  // Watchdog in case curl itself wedges: --max-time plus a margin.
  const watchdog = setTimeout(() => kill(child, "SIGKILL"), (maxTimeS + 10) * 1000)
  const done = exited(child).then(({ code, signal }) => {
    clearTimeout(watchdog)
    const [httpCode, bytes] = stdout().trim().split(" ").map(Number)
    return { code, signal, httpCode, bytes, stderr: stderr.trim() }
  })
  return { child, done }
}

/** Sender: streams `bytes` zero bytes (from head) into a PUT to url. */
export function sendZeros(url, bytes, opts) {
  const head = start("head", ["-c", String(bytes), "/dev/zero"], { stdio: ["ignore", "pipe", "ignore"] })
  const sender = curl(["-T", "-", "-w", "%{http_code} %{size_upload}", url], { ...opts, stdin: head.stdout })
  head.stdout.destroy() // curl holds the read end now; if curl dies, head gets SIGPIPE
  const done = sender.done.then(async (r) => {
    kill(head)
    await exited(head)
    return r
  })
  return { child: sender.child, head, done }
}

/** Receiver: GETs url into /dev/null. */
export function receive(url, opts) {
  return curl(["-w", "%{http_code} %{size_download}", url], opts)
}

const is2xx = (code) => code >= 200 && code < 300

/**
 * Human-readable problems of one curl result. The byte count is checked only when `expectBytes` is given:
 * a sender's size_upload includes the chunked-encoding framing, so only receivers are counted exactly.
 */
function problemsOf(role, r, expectBytes) {
  const problems = []
  if (r.code !== 0) problems.push(`${role}: curl exit ${r.code ?? r.signal}${r.stderr ? ` (${r.stderr})` : ""}`)
  if (!is2xx(r.httpCode)) problems.push(`${role}: HTTP ${r.httpCode}`)
  if (expectBytes !== undefined && r.bytes !== expectBytes) {
    problems.push(`${role}: ${r.bytes} bytes, expected ${expectBytes}`)
  }
  return problems
}

/**
 * One sender and `n` receivers on a fresh pipe name. Receivers are started first, the sender right after.
 * The clock runs from before the first spawn until every curl has exited. `extraArgs` go to every curl (a token).
 * Resolves with { ms, delivered, problems }.
 */
export async function transfer(server, name, bytes, { n = 1, maxTimeS, extraArgs = [] }) {
  const url = server.url(name, n)
  const t0 = performance.now()
  const receivers = Array.from({ length: n }, () => receive(url, { maxTimeS, extraArgs }))
  const sender = sendZeros(url, bytes, { maxTimeS, extraArgs })
  const [s, ...rs] = await Promise.all([sender.done, ...receivers.map((r) => r.done)])
  const ms = performance.now() - t0
  const problems = [
    ...problemsOf("sender", s),
    ...rs.flatMap((r, i) => problemsOf(n > 1 ? `receiver ${i + 1}` : "receiver", r, bytes))
  ]
  const delivered = rs.reduce((sum, r) => sum + (r.bytes || 0), 0)
  return { ms, delivered, problems }
}
