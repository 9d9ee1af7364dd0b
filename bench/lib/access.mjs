// Section "access" of the bench, our server only (issue 16): the 2 GiB relay on a server with a --tokens-file
// (every curl sends `Authorization: Bearer`) vs the same build without one, alternating per round. Access control
// is checked once per request, before any byte moves, so the data path should not notice it; this says by how much.
import { randomBytes } from "node:crypto"
import { writeFileSync } from "node:fs"
import { join } from "node:path"
import { transfer } from "./curl.mjs"
import { cpuSeconds } from "./proc.mjs"
import { fmt, humanBytes, markdownTable, mbps, median, textTable } from "./report.mjs"
import { startServer } from "./servers.mjs"

const maxTimeFor = (bytes) => Math.ceil(bytes / 20e6 + 30)

/**
 * Two fresh processes of our server, one with a tokens file, each warmed up with the same transfer: the two
 * sides differ in the flag only (not in age, heap or JIT state).
 */
export async function startAccessServers(ctx, logDir, warmBytes) {
  const token = randomBytes(24).toString("base64url")
  const file = join(logDir, "bench-tokens")
  writeFileSync(file, `${token} send,receive,watch\n`)
  const plain = await startServer("pipe", { ...ctx, logName: "pipe-access-plain", extraArgs: [] })
  const withTokens = await startServer("pipe", { ...ctx, logName: "pipe-tokens", extraArgs: ["--tokens-file", file] })
  const auth = ["-H", `Authorization: Bearer ${token}`]
  for (const [server, extraArgs] of [[plain, []], [withTokens, auth]]) {
    await transfer(server, `bench-access-warm-${process.pid}`, warmBytes, {
      maxTimeS: maxTimeFor(warmBytes),
      extraArgs
    })
  }
  return { plain, withTokens, token }
}

export async function accessRounds(plain, withTokens, token, cfg) {
  const bytes = cfg.accessBytes
  console.log(
    `\nAccess control: ${cfg.accessRounds} round(s) × ${humanBytes(bytes)}, one sender -> one receiver, ` +
      "without vs with --tokens-file (Bearer on every curl), order alternating per round"
  )
  // MB/s per run, and the server's CPU seconds per run (less sensitive than wall time to other work on the box).
  const res = { bytes, plain: [], tokens: [], cpu: { plain: [], tokens: [] }, failures: [] }
  const auth = ["-H", `Authorization: Bearer ${token}`]
  for (let round = 1; round <= cfg.accessRounds; round++) {
    const order = round % 2 ? ["plain", "tokens"] : ["tokens", "plain"]
    for (const kind of order) {
      const server = kind === "plain" ? plain : withTokens
      const name = `bench-access-${round}-${kind}-${process.pid}`
      const cpuBefore = cpuSeconds(server.pid)
      const r = await transfer(server, name, bytes, {
        maxTimeS: maxTimeFor(bytes),
        extraArgs: kind === "plain" ? [] : auth
      })
      const cpu = cpuSeconds(server.pid) - cpuBefore
      const label = `round ${round}/${cfg.accessRounds}  ${kind === "plain" ? "no tokens file " : "--tokens-file "}`
      if (r.problems.length) {
        res.failures.push(`${label}: ${r.problems.join("; ")}`)
        console.log(`  ${label}  FAILED: ${r.problems.join("; ")}`)
        continue
      }
      const rate = mbps(bytes, r.ms)
      res[kind].push(rate)
      res.cpu[kind].push(cpu)
      console.log(`  ${label}  ${fmt(rate)} MB/s  server CPU ${fmt(cpu, 2)} s`)
    }
  }
  return res
}

const rowsOf = (res) => {
  const without = median(res.plain)
  const withTokens = median(res.tokens)
  return [[
    `throughput ${humanBytes(res.bytes)}`,
    `${fmt(without)} MB/s`,
    `${fmt(withTokens)} MB/s`,
    Number.isFinite(without) && Number.isFinite(withTokens) && without > 0
      ? `${(withTokens / without).toFixed(3)}×`
      : "–"
  ]]
}

const header = ["metric", "no tokens file", "--tokens-file", "with ÷ without"]

export function printAccess(res) {
  console.log("\nAccess control (MB = 10^6 B; median of the rounds)")
  console.log(textTable(header, rowsOf(res)))
}

export function accessMarkdown(res) {
  return markdownTable(header, rowsOf(res))
}
