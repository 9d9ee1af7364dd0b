// Fault matrix (protocol §3 "Disconnects", §4.1 `done`): 100 senders and 100 receivers killed mid-stream at
// seeded random points and sizes, n=1 and n=3 mixed, ten transfers at a time. Real curl processes for every
// sender and receiver (SIGKILL is the fault), one SSE spectator per transfer.
// The bar: no silent truncation — a receiver that exits 0 has every byte with the right sha256, a receiver of a
// broken transfer exits 18/56 — every spectator sees `done` with the right `ok`, and afterwards nothing is left.
import { describe, expect, it } from "vitest"
import { type CurlResult, TRUNCATED } from "../support/curl.js"
import { PrngSource } from "../support/data.js"
import { sampleValue, scrapeMetrics } from "../support/hardening-prom.js"
import { pool, prngPrefixSha256, Random, suiteSeed } from "../support/hardening-random.js"
import { watchPath } from "../support/hardening-sse.js"
import { healthz, pipePath, uniqueName, waitForReceivers } from "../support/pipe.js"
import { useServer } from "../support/server.js"
import { curlReceiver, curlSender, expectNothingLeft } from "../support/transfer.js"
import { waitFor, within } from "../support/wait.js"

const KiB = 1024
const MiB = 1024 * KiB
const KILLS_PER_SIDE = 100
const AT_ONCE = 10

const seed = suiteSeed("faults")
const server = useServer(["--retention", "0s"])

/** How the sender uploads: held at the kill point (chunked or with Content-Length), or flowing freely. */
type SenderMode = "held-chunked" | "held-length" | "flowing"

interface Plan {
  readonly id: string
  readonly victim: "sender" | "receiver"
  readonly n: 1 | 3
  readonly mode: SenderMode
  /** Bytes the sender would upload (Infinity: never ends by itself). */
  readonly size: number
  /** The kill happens once the receivers have this many bytes. */
  readonly killAt: number
  /** Receivers killed (receiver faults only). */
  readonly kills: number
  readonly dataSeed: string
}

interface Outcome {
  readonly plan: Plan
  readonly violations: ReadonlyArray<string>
  /** Exit codes of the receivers that were not killed. */
  readonly codes: ReadonlyArray<number | null>
  readonly doneOk: boolean | undefined
}

const planFor = (random: Random, victim: Plan["victim"], index: number): Plan => {
  const n = random.chance(0.5) ? 1 : 3
  const id = `${victim}-${index}`
  if (victim === "sender") {
    const mode = random.pick<SenderMode>(["held-chunked", "held-length", "flowing"])
    const size = mode === "held-length" ? random.logInt(256 * KiB, 16 * MiB) : Infinity
    const killAt = random.logInt(1, mode === "held-length" ? size - 1 : 8 * MiB)
    return { id, victim, n, mode, size, killAt, kills: 0, dataSeed: `${seed}/${id}` }
  }
  const mode = random.pick<SenderMode>(["held-chunked", "held-length"])
  const size = random.logInt(256 * KiB, 16 * MiB)
  const killAt = random.logInt(1, size - 1)
  return { id, victim, n, mode, size, killAt, kills: n === 1 ? 1 : random.int(1, 3), dataSeed: `${seed}/${id}` }
}

/** A receiver's result judged on its own: exit 0 only with everything, otherwise 18/56 and an intact prefix. */
const judgeReceiver = (plan: Plan, label: string, got: CurlResult, fullSha: string | undefined): Array<string> => {
  const v: Array<string> = []
  if (got.code === 0) {
    if (got.bytes !== plan.size || got.sha256 !== fullSha) {
      v.push(
        `${label}: SILENT TRUNCATION — exit 0 with ${got.bytes} of ${plan.size} bytes (sha ok: ${
          got.sha256 === fullSha
        })`
      )
    }
    return v
  }
  if (!(TRUNCATED as ReadonlyArray<number | null>).includes(got.code)) {
    v.push(
      `${label}: exit ${got.code} (signal ${got.signal}), expected 18 or 56; stderr ${
        JSON.stringify(got.stderr.trim())
      }`
    )
  }
  if (got.sha256 !== prngPrefixSha256(plan.dataSeed, got.bytes)) {
    v.push(`${label}: the ${got.bytes} bytes received are not the sender's prefix`)
  }
  return v
}

const runPlan = async (plan: Plan): Promise<Outcome> => {
  const v: Array<string> = []
  const path = pipePath(uniqueName(`fault-${plan.id}`))
  const target = plan.n === 1 ? path : `${path}?n=${plan.n}`
  const spectator = await watchPath(server(), path)
  const receivers = Array.from({ length: plan.n }, () => curlReceiver(server(), target))
  const source = new PrngSource(plan.dataSeed, {
    size: plan.size,
    holdAt: plan.mode === "flowing" ? Infinity : plan.killAt
  })
  const lengthArgs = plan.mode === "held-length"
    ? ["-H", "Transfer-Encoding:", "-H", `Content-Length: ${plan.size}`, "-H", "Expect:"]
    : []
  let sender: ReturnType<typeof curlSender> | undefined
  let codes: Array<number | null> = []
  let doneOk: boolean | undefined
  try {
    await spectator.firstState
    await waitForReceivers(server(), path, plan.n)
    sender = curlSender(server(), target, source, lengthArgs)
    if (plan.mode === "flowing") await receivers[0]?.waitForBytes(plan.killAt, 30_000)
    else await Promise.all(receivers.map((r) => r.waitForBytes(plan.killAt, 30_000)))

    if (plan.victim === "sender") {
      sender.kill()
      const got = await Promise.all(receivers.map((r) => within(r.result, 15_000, `${plan.id}: receiver exit`)))
      codes = got.map((r) => r.code)
      got.forEach((r, i) => v.push(...judgeReceiver(plan, `${plan.id} receiver ${i}`, r, undefined)))
      if (plan.mode !== "flowing") {
        got.forEach((r, i) => {
          if (r.bytes !== plan.killAt) {
            v.push(`${plan.id} receiver ${i}: ${r.bytes} bytes, the sender had sent exactly ${plan.killAt}`)
          }
        })
      }
      const done = await within(spectator.done, 15_000, `${plan.id}: done`)
      doneOk = done.ok
      if (done.ok || done.error === null) {
        v.push(`${plan.id}: spectator saw done ${JSON.stringify(done)}, expected ok:false with an error`)
      }
      const most = Math.max(...got.map((r) => r.bytes))
      if (plan.mode === "flowing" ? done.bytes < most : done.bytes !== plan.killAt) {
        v.push(
          `${plan.id}: done.bytes ${done.bytes}, receivers got up to ${most} (sent ${
            plan.mode === "flowing" ? "≥" : ""
          }${plan.killAt})`
        )
      }
      await sender.result
    } else {
      const killed = receivers.slice(0, plan.kills)
      const survivors = receivers.slice(plan.kills)
      killed.forEach((r) => r.kill())
      await Promise.all(killed.map((r) => r.result))
      if (survivors.length === 0) {
        // Every receiver is gone and the sender is idle: the server must notice by itself, before any more data.
        const done = await within(spectator.done, 15_000, `${plan.id}: done after every receiver died`)
        doneOk = done.ok
        if (done.ok || done.bytes !== plan.killAt) {
          v.push(`${plan.id}: spectator saw done ${JSON.stringify(done)}, expected ok:false with bytes ${plan.killAt}`)
        }
        source.release()
        const sent = await within(sender.result, 15_000, `${plan.id}: sender exit`)
        if (
          !/\[ERROR\] All receiver\(s\) aborted halfway\.\n$/.test(sent.stdoutText) ||
          sent.stdoutText.includes("Sent successfully")
        ) {
          v.push(
            `${plan.id}: sender read ${JSON.stringify(sent.stdoutText)}, expected to end with the all-aborted line`
          )
        }
      } else {
        source.release()
        const got = await Promise.all(survivors.map((r) => within(r.result, 30_000, `${plan.id}: survivor exit`)))
        codes = got.map((r) => r.code)
        const fullSha = source.digest.hex()
        got.forEach((r, i) => {
          v.push(...judgeReceiver(plan, `${plan.id} survivor ${i}`, r, fullSha))
          if (r.code !== 0) {
            v.push(`${plan.id} survivor ${i}: exit ${r.code}, a surviving receiver of n=${plan.n} must get everything`)
          }
        })
        const sent = await within(sender.result, 30_000, `${plan.id}: sender exit`)
        const aborted = sent.stdoutText.split("[INFO] A receiver aborted.\n").length - 1
        if (
          sent.code !== 0 || aborted !== plan.kills ||
          !sent.stdoutText.endsWith("[INFO] All receiver(s) received successfully.\n")
        ) {
          v.push(
            `${plan.id}: sender exit ${sent.code}, ${aborted} abort line(s) for ${plan.kills} killed, read ${
              JSON.stringify(sent.stdoutText)
            }`
          )
        }
        const done = await within(spectator.done, 15_000, `${plan.id}: done`)
        doneOk = done.ok
        if (!done.ok || done.bytes !== plan.size) {
          v.push(`${plan.id}: spectator saw done ${JSON.stringify(done)}, expected ok:true with ${plan.size} bytes`)
        }
      }
    }
  } catch (error) {
    v.push(`${plan.id}: ${error instanceof Error ? error.message : String(error)}`)
  } finally {
    spectator.close()
    source.release()
    sender?.kill()
    receivers.forEach((r) => r.kill())
  }
  return { plan, violations: v, codes, doneOk }
}

const summarise = (label: string, outcomes: ReadonlyArray<Outcome>): void => {
  const count = (p: (o: Outcome) => boolean) => outcomes.filter(p).length
  const codes = outcomes.flatMap((o) => o.codes)
  console.log(
    `[faults] ${label}: ${outcomes.length} kills; n=1 ${count((o) => o.plan.n === 1)}, n=3 ${
      count((o) => o.plan.n === 3)
    }; ` +
      `modes ${
        ["held-chunked", "held-length", "flowing"].map((m) => `${m} ${count((o) => o.plan.mode === m)}`).join(", ")
      }; ` +
      `done ok:false ${count((o) => o.doneOk === false)}, ok:true ${count((o) => o.doneOk === true)}; ` +
      `receiver exits ${
        JSON.stringify(Object.fromEntries([...new Set(codes)].map((c) => [
          String(c),
          codes.filter((x) => x === c).length
        ])))
      }; ` +
      `violations ${outcomes.reduce((sum, o) => sum + o.violations.length, 0)}`
  )
}

/** Nothing left: no pipe, transfer, spectator or waiting party, and the server's sockets back to the baseline. */
const expectAllReleased = async (): Promise<void> => {
  await expectNothingLeft(server())
  await waitFor(async () => (await healthz(server())).spectators === 0, { what: "/healthz spectators 0" })
  const metrics = await scrapeMetrics(server())
  expect({
    waiting: sampleValue(metrics, "pipe_waiting_parties"),
    active: sampleValue(metrics, "pipe_transfers_active"),
    spectators: sampleValue(metrics, "pipe_spectators_active")
  }).toEqual({ waiting: 0, active: 0, spectators: 0 })
  expect(await healthz(server())).toMatchObject({ pipes: 0, transfers: 0, spectators: 0 })
}

describe("fault matrix: parties killed mid-stream, 10 transfers at a time", () => {
  it.each(["sender", "receiver"] as const)(
    `${KILLS_PER_SIDE} %s kills: no silent truncation, every done right, nothing left`,
    async (victim) => {
      const random = new Random(`${seed}/${victim}`)
      const plans = Array.from({ length: KILLS_PER_SIDE }, (_, i) => planFor(random, victim, i))
      const started = performance.now()
      const outcomes = await pool(plans.length, AT_ONCE, (i) => runPlan(plans[i] as Plan))
      summarise(`${victim} kills in ${((performance.now() - started) / 1000).toFixed(1)} s`, outcomes)
      expect(outcomes.flatMap((o) => o.violations)).toEqual([])
      expect(outcomes.filter((o) => o.doneOk !== undefined)).toHaveLength(KILLS_PER_SIDE)
      await expectAllReleased()
    },
    150_000
  )
})
