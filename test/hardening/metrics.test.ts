// Operations (protocol §6): after a known sequence — 2 completed transfers, 1 aborted, refusals of 3 kinds —
// /metrics parsed strictly (Prometheus text 0.0.4) shows exactly those counts, every family has HELP and TYPE,
// the duration histogram is cumulative and ends at +Inf = _count; /healthz decodes with the protocol's Schema;
// the log has one structured line per transfer end and never a payload byte.
import { Schema } from "effect"
import { randomUUID } from "node:crypto"
import { readFileSync } from "node:fs"
import { describe, expect, it } from "vitest"
import { Health } from "../../src/schema/Health.js"
import type { DoneEvent } from "../../src/schema/PipeEvent.js"
import { TRUNCATED } from "../support/curl.js"
import { prngBytes, PrngSource } from "../support/data.js"
import {
  checkHistogram,
  type Exposition,
  parseExposition,
  samplesOf,
  sampleValue,
  scrapeMetrics
} from "../support/hardening-prom.js"
import { watchPath } from "../support/hardening-sse.js"
import { sha256 } from "../support/hash.js"
import { request } from "../support/http.js"
import { pipePath, uniqueName, waitForNoPipes, waitForProbe, waitForReceivers } from "../support/pipe.js"
import { type ServerHandle, useServer } from "../support/server.js"
import { curlReceiver, curlSender } from "../support/transfer.js"
import { waitFor, within } from "../support/wait.js"

const decodeHealth = Schema.decodeUnknownSync(Health)

const server = useServer(["--retention", "0s"])

const families = {
  pipe_transfers_started_total: "counter",
  pipe_transfers_completed_total: "counter",
  pipe_transfers_aborted_total: "counter",
  pipe_bytes_relayed_total: "counter",
  pipe_rejected_requests_total: "counter",
  pipe_transfers_active: "gauge",
  pipe_waiting_parties: "gauge",
  pipe_spectators_active: "gauge",
  pipe_open_pipes: "gauge",
  pipe_transfer_duration_seconds: "histogram"
} as const

/** Every family has a non-empty HELP and a TYPE; the protocol's families have the right type. */
const expectWellDescribed = (exposition: Exposition, required: ReadonlyArray<keyof typeof families>): void => {
  for (const family of exposition.values()) {
    expect(family.help, `HELP of ${family.name}`).toMatch(/\S/)
    expect(family.type, `TYPE of ${family.name}`).toBeDefined()
  }
  for (const name of required) expect(exposition.get(name)?.type, `family ${name}`).toBe(families[name])
}

const healthOf = async (s: ServerHandle, path = "/healthz") => {
  const reply = await request(s.url, path)
  expect(reply.status).toBe(200)
  expect(reply.headers["content-type"]).toMatch(/^application\/json/)
  return decodeHealth(JSON.parse(reply.text))
}

interface TransferEndLine {
  readonly message: string
  readonly level: string
  readonly annotations: Readonly<Record<string, unknown>>
}

/** The server's log: the harness's command line, the listening line, then only JSON objects, one per line. */
const logLines = (s: ServerHandle): Array<TransferEndLine> => {
  const lines = readFileSync(s.logFile, "utf8").split("\n").filter((l) => l !== "")
  const [command, listening, ...rest] = lines
  expect(command).toMatch(/^\$ node dist\/main\.js server /)
  expect(listening).toMatch(/^pipe listening on http:\/\/127\.0\.0\.1:\d+$/)
  return rest.map((line) => {
    try {
      return JSON.parse(line) as TransferEndLine
    } catch {
      throw new Error(`log line is not JSON: ${JSON.stringify(line)}`)
    }
  })
}

describe("operations: /metrics, /healthz and the transfer log after a known sequence", () => {
  it(
    "counts exactly 2 completed, 1 aborted and 3 kinds of refusals; strict format; healthz decodes; logs one line per transfer, no payload",
    async () => {
      const marker = `PIPE-PAYLOAD-MARKER-${randomUUID()}`
      const first = await scrapeMetrics(server())
      expectWellDescribed(first, [
        "pipe_transfers_started_total",
        "pipe_transfers_completed_total",
        "pipe_transfers_aborted_total",
        "pipe_bytes_relayed_total",
        "pipe_transfers_active",
        "pipe_waiting_parties",
        "pipe_spectators_active",
        "pipe_open_pipes"
      ])
      for (
        const name of [
          "pipe_transfers_started_total",
          "pipe_transfers_completed_total",
          "pipe_transfers_aborted_total",
          "pipe_bytes_relayed_total"
        ]
      ) {
        expect(sampleValue(first, name), name).toBe(0)
      }
      const dones: Array<{ readonly name: string; readonly receivers: number; readonly done: DoneEvent }> = []

      // 1. Completed: curl → curl, chunked, the marker at both ends of the payload.
      const name1 = uniqueName("metrics-one")
      const payload1 = Buffer.concat([
        Buffer.from(`${marker}\n`),
        prngBytes(name1, 1_000_000),
        Buffer.from(`\n${marker}\n`)
      ])
      {
        const path = pipePath(name1)
        const spectator = await watchPath(server(), path)
        await spectator.firstState
        const receiver = curlReceiver(server(), path)
        await waitForReceivers(server(), path, 1)
        const [sent, got] = await Promise.all([curlSender(server(), path, payload1).result, receiver.result])
        expect({ sent: sent.code, got: got.code, sha: got.sha256 }).toEqual({ sent: 0, got: 0, sha: sha256(payload1) })
        dones.push({ name: name1, receivers: 1, done: await within(spectator.done, 5_000, "done 1") })
        spectator.close()
      }

      // 2. Completed: in-process, n=2, with Content-Length and the marker in the middle.
      const name2 = uniqueName("metrics-two")
      const payload2 = Buffer.concat([
        prngBytes(name2, 1_250_000),
        Buffer.from(marker),
        prngBytes(`${name2}/b`, 1_250_000)
      ])
      {
        const path = pipePath(name2)
        const spectator = await watchPath(server(), path)
        await spectator.firstState
        const receivers = [request(server().url, `${path}?n=2`), request(server().url, `${path}?n=2`)]
        await waitForReceivers(server(), path, 2)
        const sent = await request(server().url, `${path}?n=2`, { method: "PUT", body: payload2 })
        expect(sent.text).toContain("[INFO] All receiver(s) received successfully.\n")
        for (const r of await Promise.all(receivers)) {
          expect({ status: r.status, sha: sha256(r.body) }).toEqual({ status: 200, sha: sha256(payload2) })
        }
        dones.push({ name: name2, receivers: 2, done: await within(spectator.done, 5_000, "done 2") })
        spectator.close()
      }

      // 3. Aborted: the sender is killed after exactly 300,000 bytes.
      const name3 = uniqueName("metrics-aborted")
      const abortedBytes = 300_000
      {
        const path = pipePath(name3)
        const spectator = await watchPath(server(), path)
        await spectator.firstState
        const receiver = curlReceiver(server(), path)
        await waitForReceivers(server(), path, 1)
        const source = new PrngSource(name3, { size: 10_000_000, holdAt: abortedBytes })
        const sender = curlSender(server(), path, source)
        await receiver.waitForBytes(abortedBytes)
        // While it streams, /healthz (both paths) decodes and shows it.
        await waitForProbe(server(), path, (p) => p.state === "streaming", "streaming")
        for (const at of ["/healthz", "/api/v1/pipe/health"]) {
          expect(await healthOf(server(), at), at).toMatchObject({
            status: "ok",
            pipes: 1,
            transfers: 1,
            spectators: 1
          })
        }
        sender.kill()
        const got = await receiver.result
        expect(TRUNCATED).toContain(got.code)
        dones.push({ name: name3, receivers: 1, done: await within(spectator.done, 5_000, "done 3") })
        spectator.close()
      }

      // 4. Refusals of three kinds: 2 invalid paths, 1 method, 3 n out of range.
      const refusals = await Promise.all([
        request(server().url, "/api/v1/pipe/a/../b"),
        request(server().url, "/%2e%2e", { method: "PUT", body: "x" }),
        request(server().url, pipePath(uniqueName("m")), { method: "DELETE" }),
        request(server().url, `${pipePath(uniqueName("m"))}?n=0`),
        request(server().url, `${pipePath(uniqueName("m"))}?n=257`, { method: "PUT", body: "x" }),
        request(server().url, `${pipePath(uniqueName("m"))}?n=999`)
      ])
      expect(refusals.map((r) => r.status)).toEqual([400, 400, 405, 400, 400, 400])

      await waitForNoPipes(server())
      await waitFor(async () => (await healthOf(server())).spectators === 0, { what: "spectators released" })

      // ---- /metrics ---------------------------------------------------------------------------------------
      const metrics = await scrapeMetrics(server())
      expectWellDescribed(metrics, Object.keys(families) as Array<keyof typeof families>)
      const [d1, d2, d3] = dones.map((d) => d.done)
      expect([d1?.ok, d2?.ok, d3?.ok]).toEqual([true, true, false])
      expect([d1?.bytes, d2?.bytes, d3?.bytes]).toEqual([payload1.length, payload2.length, abortedBytes])
      expect({
        started: sampleValue(metrics, "pipe_transfers_started_total"),
        completed: sampleValue(metrics, "pipe_transfers_completed_total"),
        aborted: sampleValue(metrics, "pipe_transfers_aborted_total"),
        bytes: sampleValue(metrics, "pipe_bytes_relayed_total"),
        active: sampleValue(metrics, "pipe_transfers_active"),
        waiting: sampleValue(metrics, "pipe_waiting_parties"),
        spectators: sampleValue(metrics, "pipe_spectators_active"),
        pipes: sampleValue(metrics, "pipe_open_pipes")
      }).toEqual({
        started: 3,
        completed: 2,
        aborted: 1,
        bytes: payload1.length + payload2.length + abortedBytes,
        active: 0,
        waiting: 0,
        spectators: 0,
        pipes: 0
      })
      const rejected = samplesOf(metrics, "pipe_rejected_requests_total")
      const byReason = Object.fromEntries(
        rejected.filter((s) => s.labels["reason"] !== undefined && s.value > 0).map((
          s
        ) => [s.labels["reason"], s.value])
      )
      expect(byReason).toEqual({ InvalidPath: 2, MethodNotAllowed: 1, ReceiverCountOutOfRange: 3 })
      // A series without the reason label (registered at zero) may exist; it must count nothing.
      for (const s of rejected.filter((s) => s.labels["reason"] === undefined)) expect(s.value).toBe(0)

      const histogram = exposition(metrics, "pipe_transfer_duration_seconds")
      const [series, ...more] = checkHistogram(histogram)
      expect(more).toHaveLength(0)
      const durations = dones.map((d) => d.done.durationSec)
      expect(series?.count).toBe(3)
      expect(series?.sum).toBeCloseTo(durations.reduce((a, b) => a + b, 0), 6)
      // Cumulative by definition: each bucket holds exactly the transfers that took at most its bound.
      for (const [le, count] of series?.buckets ?? []) {
        expect(count, `le=${le}`).toBe(durations.filter((d) => d <= le).length)
      }

      // ---- /healthz ---------------------------------------------------------------------------------------
      const version = (await request(server().url, "/version")).text.trim()
      for (const at of ["/healthz", "/api/v1/pipe/health"]) {
        const health = await healthOf(server(), at)
        expect(health, at).toMatchObject({ status: "ok", version, pipes: 0, transfers: 0, spectators: 0 })
        expect(health.uptimeSec).toBeGreaterThanOrEqual(0)
      }

      // ---- the log ----------------------------------------------------------------------------------------
      const ended = await waitFor(
        () => {
          const found = logLines(server()).filter((l) => l.message === "transfer ended")
          return found.length >= 3 ? found : undefined
        },
        { what: "3 transfer-end lines in the log" }
      )
      expect(ended).toHaveLength(3)
      for (const { name, receivers, done } of dones) {
        const lines = ended.filter((l) => l.annotations["transferId"] === done.transferId)
        expect(lines, `one line for ${done.transferId}`).toHaveLength(1)
        const { annotations, level } = lines[0] as TransferEndLine
        expect(level).toBe("INFO")
        expect([name, pipePath(name)]).toContain(annotations["path"])
        expect(annotations).toMatchObject({ outcome: done.ok ? "complete" : "aborted", bytes: done.bytes, receivers })
        expect(annotations["durationSec"]).toBeTypeOf("number")
        if (done.ok) expect(annotations["error"]).toBeUndefined()
        else expect(annotations["error"]).toBe(done.error)
      }
      const log = readFileSync(server().logFile)
      expect(log.includes(marker), "the payload marker in the log").toBe(false)
      expect(log.includes(payload1.subarray(5_000, 5_064)), "payload bytes in the log").toBe(false)
      expect(log.includes(payload2.subarray(5_000, 5_064)), "payload bytes in the log").toBe(false)
    },
    60_000
  )
})

describe("/metrics semantics across scrapes", () => {
  it("a series typed counter never decreases (Prometheus: a counter only goes up, or resets on restart)", async () => {
    const spectators = await Promise.all(
      Array.from({ length: 5 }, () => watchPath(server(), pipePath(uniqueName("counter"))))
    )
    await Promise.all(spectators.map((s) => s.firstState))
    const busy = await scrapeMetrics(server())
    for (const s of spectators) s.close()
    await waitFor(async () => sampleValue(await scrapeMetrics(server()), "pipe_spectators_active") === 0, {
      what: "spectators released"
    })
    const idle = await scrapeMetrics(server())
    const decreased = [...idle.values()]
      .filter((family) => family.type === "counter")
      .flatMap((family) =>
        family.samples.flatMap((sample) => {
          const before = busy.get(family.name)?.samples.find((b) =>
            b.name === sample.name && JSON.stringify(b.labels) === JSON.stringify(sample.labels)
          )
          return before !== undefined && sample.value < before.value
            ? [`${sample.name}${JSON.stringify(sample.labels)}: ${before.value} → ${sample.value}`]
            : []
        })
      )
    expect(decreased, "counters that went down").toEqual([])
  })
})

describe("the strict 0.0.4 parser (test/support/hardening-prom.ts) refuses what is malformed", () => {
  const good = "# HELP a_total A.\n# TYPE a_total counter\na_total{x=\"1\"} 3\n"
  it("accepts a well-formed exposition", () => {
    expect(sampleValue(parseExposition(good), "a_total", { x: "1" })).toBe(3)
  })
  it.each([
    ["no final newline", good.trimEnd()],
    ["a bad metric name", "1a 3\n"],
    ["a bad value", "a 3x\n"],
    ["no value", "a\n"],
    ["an unquoted label value", "a{x=1} 3\n"],
    ["a bad escape in a label value", "a{x=\"\\q\"} 3\n"],
    ["a repeated label", "a{x=\"1\",x=\"2\"} 3\n"],
    ["an unknown type", "# TYPE a countr\na 1\n"],
    ["TYPE after samples", "a 1\n# TYPE a counter\n"],
    ["two TYPE lines", "# TYPE a counter\n# TYPE a counter\na 1\n"],
    ["two HELP lines", "# HELP a x\n# HELP a y\na 1\n"],
    ["a duplicate series", "a{x=\"1\"} 1\na{x=\"1\"} 2\n"],
    ["a family split in two", "a 1\nb 1\na{x=\"1\"} 2\n"],
    ["a bucket without le", "# TYPE h histogram\nh_bucket 1\nh_sum 1\nh_count 1\n"],
    ["a bad timestamp", "a 1 12.5\n"],
    ["garbage", "hello world again\n"]
  ])("refuses %s", (_label, text) => {
    expect(() => parseExposition(text)).toThrow()
  })
  it("checks histograms: cumulative buckets ending at +Inf = _count", () => {
    const histogram = (buckets: string, count: number) =>
      parseExposition(`# HELP h H.\n# TYPE h histogram\n${buckets}h_sum 1\nh_count ${count}\n`).get("h")
    const ok = histogram("h_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 2\n", 2)
    expect(ok && checkHistogram(ok)[0]?.count).toBe(2)
    for (
      const [buckets, count] of [
        ["h_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\n", 1], // not cumulative
        ["h_bucket{le=\"1\"} 1\nh_bucket{le=\"2\"} 2\n", 2], // no +Inf
        ["h_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 2\n", 3], // +Inf ≠ _count
        ["h_bucket{le=\"2\"} 1\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 1\n", 1] // le not increasing
      ] as const
    ) {
      const family = histogram(buckets, count)
      expect(() => family && checkHistogram(family), buckets).toThrow()
    }
  })
})

const exposition = (metrics: Exposition, name: string) => {
  const family = metrics.get(name)
  if (family === undefined) throw new Error(`no family ${name} in /metrics`)
  return family
}
