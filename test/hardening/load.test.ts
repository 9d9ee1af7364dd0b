// Load: 100 transfers of 10 MB at once, each watched by 5 SSE spectators (500 spectator connections).
// Parties: every 10th transfer uses real curl for its sender and receiver; the other 90 use in-process Node
// http clients (chunked or with Content-Length), because 200 curl processes next to the server would measure
// process scheduling on 2 cores, not the server. Every sender's body is a distinct seeded stream.
// The bar: all 100 are streaming at the same time, all complete with sha256 equal, and every spectator sees its
// transfer's `done` with ok:true and the right byte count; afterwards nothing is left.
import type { IncomingMessage } from "node:http"
import { describe, expect, it } from "vitest"
import type { CurlProcess } from "../support/curl.js"
import { PrngSource } from "../support/data.js"
import { sampleValue, scrapeMetrics } from "../support/hardening-prom.js"
import { pool, suiteSeed } from "../support/hardening-random.js"
import { type Spectator, watchPath } from "../support/hardening-sse.js"
import { BodyReader, openRequest } from "../support/http.js"
import { healthz, pipePath, uniqueName } from "../support/pipe.js"
import { peakRssBytes } from "../support/proc.js"
import { useServer } from "../support/server.js"
import { curlReceiver, curlSender, expectNothingLeft } from "../support/transfer.js"
import { waitFor, within } from "../support/wait.js"

const TRANSFERS = 100
const SPECTATORS_EACH = 5
const SIZE = 10_000_000
/** Each sender holds here until all 100 transfers stream at once. */
const HOLD_AT = 1_000_000

const seed = suiteSeed("load")
const server = useServer(["--retention", "0s"])

interface Lane {
  readonly index: number
  readonly path: string
  readonly source: PrngSource
  readonly viaCurl: boolean
  readonly spectators: ReadonlyArray<Spectator>
  /** Resolves with the receiver's byte count and sha256 once its response ended cleanly. */
  receiver?: Promise<{ readonly bytes: number; readonly sha256: string }>
  /** Resolves with the sender's response text once it ended cleanly. */
  sender?: Promise<string>
}

/** A receiver in this process: GET, body hashed as it arrives, resolves on a clean end only. */
const nodeReceiver = (path: string): Promise<{ bytes: number; sha256: string }> => {
  const { req, response } = openRequest(server().url, path)
  req.end()
  return response.then(async (res: IncomingMessage) => {
    if (res.statusCode !== 200) throw new Error(`receiver on ${path}: ${res.statusCode}`)
    const reader = new BodyReader(res, false)
    await reader.complete
    return { bytes: reader.bytes, sha256: reader.digest.hex() }
  })
}

/** A sender in this process: PUT, chunked or with Content-Length, the body piped with backpressure. */
const nodeSender = (path: string, source: PrngSource, withLength: boolean): Promise<string> => {
  const headers: Record<string, string> = withLength ? { "content-length": String(SIZE) } : {}
  const { req, response } = openRequest(server().url, path, { method: "PUT", headers })
  source.pipe(req)
  return response.then(async (res) => {
    if (res.statusCode !== 200) throw new Error(`sender on ${path}: ${res.statusCode}`)
    return (await new BodyReader(res).complete).toString("utf8")
  })
}

const fromCurl = (process: CurlProcess) =>
  process.result.then((r) => {
    if (r.code !== 0) throw new Error(`curl exited ${r.code}: ${r.stderr}`)
    return r
  })

describe("load: 100 concurrent 10 MB transfers, 5 spectators each", () => {
  it("all streaming at once, all intact, every spectator sees its done", async () => {
    const lanes: Array<Lane> = []
    const paths = Array.from({ length: TRANSFERS }, (_, i) => pipePath(uniqueName(`load-${i}`)))
    // 500 spectators, attached before anything moves (50 at a time so the accept queue never overflows).
    const spectators = await pool(TRANSFERS * SPECTATORS_EACH, 50, async (i) => {
      const path = paths[Math.floor(i / SPECTATORS_EACH)] ?? ""
      const spectator = await watchPath(server(), path)
      await within(spectator.firstState, 10_000, `first state on ${path}`)
      return spectator
    })
    for (let index = 0; index < TRANSFERS; index++) {
      const path = paths[index] ?? ""
      lanes.push({
        index,
        path,
        source: new PrngSource(`${seed}/${index}`, { size: SIZE, holdAt: HOLD_AT }),
        viaCurl: index % 10 === 0,
        spectators: spectators.slice(index * SPECTATORS_EACH, (index + 1) * SPECTATORS_EACH)
      })
    }
    expect((await healthz(server())).spectators).toBe(TRANSFERS * SPECTATORS_EACH)

    const started = performance.now()
    for (const lane of lanes) {
      if (lane.viaCurl) {
        lane.receiver = fromCurl(curlReceiver(server(), lane.path))
      } else {
        lane.receiver = nodeReceiver(lane.path)
      }
    }
    await waitFor(async () => sampleValue(await scrapeMetrics(server()), "pipe_waiting_parties") === TRANSFERS, {
      what: `${TRANSFERS} receivers waiting`,
      timeoutMs: 20_000
    })
    for (const lane of lanes) {
      if (lane.viaCurl) {
        lane.sender = fromCurl(curlSender(server(), lane.path, lane.source)).then((r) => r.stdoutText)
      } else {
        lane.sender = nodeSender(lane.path, lane.source, lane.index % 2 === 1)
      }
    }
    lanes.forEach((lane) => {
      lane.receiver?.catch(() => {})
      lane.sender?.catch(() => {})
    })
    // Every transfer streaming at the same instant: the server holds 100 transfers, not a queue of them.
    let peak = 0
    await waitFor(async () => (peak = Math.max(peak, (await healthz(server())).transfers)) === TRANSFERS, {
      what: `${TRANSFERS} transfers streaming at once`,
      timeoutMs: 30_000
    })
    const released = performance.now()
    for (const lane of lanes) lane.source.release()

    const results = await within(
      Promise.all(lanes.map(async (lane) => ({ lane, received: await lane.receiver, sent: await lane.sender }))),
      90_000,
      "all 100 transfers"
    )
    const seconds = (performance.now() - released) / 1000
    const dones = await within(
      Promise.all(lanes.flatMap((lane) => lane.spectators.map(async (s) => ({ lane, done: await s.done })))),
      20_000,
      "every spectator's done"
    )
    console.log(
      `[load] ${TRANSFERS} × ${
        SIZE / 1e6
      } MB with ${SPECTATORS_EACH} spectators each: peak ${peak} concurrent transfers, ` +
        `${((TRANSFERS * (SIZE - HOLD_AT)) / 1e6 / seconds).toFixed(0)} MB/s aggregate after release (${
          seconds.toFixed(1)
        } s), ` +
        `${((performance.now() - started) / 1000).toFixed(1)} s from the first receiver; server peak RSS ${
          (peakRssBytes(server().pid) / 2 ** 20).toFixed(0)
        } MiB`
    )

    const broken = results.flatMap(({ lane, received, sent }) => {
      const wrong: Array<string> = []
      if (received?.bytes !== SIZE || received.sha256 !== lane.source.digest.hex()) {
        wrong.push(
          `${lane.path}: received ${received?.bytes} bytes, sha256 ${
            received?.sha256 === lane.source.digest.hex() ? "equal" : "DIFFERENT"
          }`
        )
      }
      if (!sent?.endsWith("[INFO] All receiver(s) received successfully.\n")) {
        wrong.push(`${lane.path}: sender read ${JSON.stringify(sent)}`)
      }
      return wrong
    })
    expect(broken).toEqual([])
    const wrongDone = dones.flatMap(({ lane, done }) =>
      done.ok && done.bytes === SIZE && done.error === null ? [] : [`${lane.path}: ${JSON.stringify(done)}`]
    )
    expect(wrongDone).toEqual([])
    // Each path's five spectators saw the same transfer.
    for (const lane of lanes) {
      expect(new Set(dones.filter((d) => d.lane === lane).map((d) => d.done.transferId)).size).toBe(1)
    }

    for (const s of spectators) s.close()
    await waitFor(async () => (await healthz(server())).spectators === 0, { what: "every spectator released" })
    await expectNothingLeft(server())
    const metrics = await scrapeMetrics(server())
    expect(sampleValue(metrics, "pipe_transfers_completed_total")).toBe(TRANSFERS)
    expect(sampleValue(metrics, "pipe_bytes_relayed_total")).toBe(TRANSFERS * SIZE)
  }, 180_000)
})
