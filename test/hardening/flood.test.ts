// Spectator flood (protocol §4 limits, §8 `--max-spectators`, `--max-spectators-total`): 1,000 connection
// attempts on one path while a transfer streams through it. Exactly the limit is admitted, every other attempt
// gets the documented 429, and the transfer is not disturbed. (Whether its throughput stays within noise of an
// unwatched one is a benchmark question: here only completion and integrity are the bar.)
import { describe, expect, it } from "vitest"
import { PrngSource } from "../support/data.js"
import { pool } from "../support/hardening-random.js"
import { type Attempt, attemptSpectator, type Spectator, watchPath } from "../support/hardening-sse.js"
import { healthz, pipePath, snapshot, uniqueName, waitForProbe, waitForReceivers } from "../support/pipe.js"
import { useServer } from "../support/server.js"
import { curlReceiver, curlSender } from "../support/transfer.js"
import { waitFor, within } from "../support/wait.js"

const ATTEMPTS = 1_000
const LIMIT = 50
const SIZE = 50_000_000

const refusedWith = (attempts: ReadonlyArray<Attempt>, body: string) =>
  attempts.filter((a) =>
    !a.admitted && a.status === 429 && a.body === body && /^\d+$/.test(String(a.headers["retry-after"]))
  )

describe("flood: 1,000 spectator attempts on one path during a transfer (default --max-spectators 50)", () => {
  const server = useServer(["--retention", "0s"])

  it(
    "exactly 50 admitted, 950 refused with 429, Retry-After and the documented line; the transfer intact",
    async () => {
      const path = pipePath(uniqueName("flood"))
      // The transfer streams the whole time: released in step with the flood, the rest after it.
      const source = new PrngSource(path, { size: SIZE, holdAt: 1_000_000 })
      const receiver = curlReceiver(server(), path)
      await waitForReceivers(server(), path, 1)
      const sender = curlSender(server(), path, source)
      await waitForProbe(server(), path, (p) => p.state === "streaming", "streaming")
      await receiver.waitForBytes(1_000_000)

      let answered = 0
      const started = performance.now()
      // 100 attempts in flight at a time (admitted ones stay open), so the server's accept queue is the only limit.
      const attempts = await pool(ATTEMPTS, 100, async () => {
        const attempt = await attemptSpectator(server(), `${path}?progress`)
        source.release(1_000_000 + Math.floor(((SIZE / 2) * ++answered) / ATTEMPTS))
        return attempt
      })
      const floodSeconds = (performance.now() - started) / 1000
      const admitted = attempts.flatMap((a) => (a.admitted ? [a.spectator] : []))
      const refused = refusedWith(attempts, `[ERROR] Too many spectators on '${path}' (limit ${LIMIT}).\n`)
      const other = attempts.filter((a) => !a.admitted && !refused.includes(a))
      console.log(
        `[flood] ${ATTEMPTS} attempts in ${
          floodSeconds.toFixed(1)
        } s: ${admitted.length} admitted, ${refused.length} refused with 429, ` +
          `${other.length} other; receiver had ${receiver.bytes} bytes when the flood ended`
      )
      expect(other.map((a) => (a.admitted ? "admitted" : `${a.status} ${JSON.stringify(a.body)}`)).slice(0, 10))
        .toEqual([])
      expect({ admitted: admitted.length, refused: refused.length }).toEqual({
        admitted: LIMIT,
        refused: ATTEMPTS - LIMIT
      })
      expect(await snapshot(server(), path)).toMatchObject({ state: "streaming" })
      expect((await healthz(server())).spectators).toBe(LIMIT)

      // The transfer, watched by its 50, completes intact; each of them sees the same done.
      source.release()
      const [sent, received] = await Promise.all([sender.result, receiver.result])
      expect({ sender: sent.code, receiver: received.code, bytes: received.bytes, sha256: received.sha256 }).toEqual({
        sender: 0,
        receiver: 0,
        bytes: SIZE,
        sha256: source.digest.hex()
      })
      const dones = await within(Promise.all(admitted.map((s) => s.done)), 15_000, "done for the 50 admitted")
      for (const done of dones) {
        expect(done).toMatchObject({
          ok: true,
          bytes: SIZE,
          error: null,
          transferId: dones[0]?.transferId
        })
      }

      // A slot freed is a slot again.
      admitted[0]?.close()
      await waitFor(async () => (await healthz(server())).spectators === LIMIT - 1, { what: "one spectator gone" })
      const again = await attemptSpectator(server(), `${path}?progress`)
      expect(again.admitted).toBe(true)
      if (again.admitted) again.spectator.close()
      for (const s of admitted) s.close()
      await waitFor(async () => (await healthz(server())).spectators === 0, { what: "every spectator released" })
    },
    60_000
  )
})

describe("the server-wide cap: --max-spectators-total 20", () => {
  const server = useServer(["--retention", "0s", "--max-spectators-total", "20"])

  it("20 across 4 paths are admitted; the 21st, on any path, gets 429 with the server-wide line", async () => {
    const paths = Array.from({ length: 5 }, (_, i) => pipePath(uniqueName(`total-${i}`)))
    const held: Array<Spectator> = []
    for (let i = 0; i < 20; i++) {
      const spectator = await watchPath(server(), paths[i % 4] ?? "")
      await spectator.firstState
      held.push(spectator)
    }
    expect((await healthz(server())).spectators).toBe(20)
    const body = "[ERROR] Too many spectators on this server (limit 20).\n"
    // A fifth path (no spectator yet) and a path that already has five: both refused, server-wide.
    const refusals = await Promise.all(
      [paths[4] ?? "", paths[0] ?? ""].map((p) => attemptSpectator(server(), `${p}?progress`))
    )
    expect(refusals.map((a) => (a.admitted ? "admitted" : { status: a.status, body: a.body }))).toEqual([
      { status: 429, body },
      { status: 429, body }
    ])
    expect(refusedWith(refusals, body)).toHaveLength(2)
    expect((await healthz(server())).spectators).toBe(20)

    // The cap counts connections, not paths: one leaves, one may come (on the path that had none).
    held[0]?.close()
    await waitFor(async () => (await healthz(server())).spectators === 19, { what: "one spectator gone" })
    const admitted = await watchPath(server(), paths[4] ?? "")
    await admitted.firstState
    const over = await attemptSpectator(server(), `${paths[1]}?progress`)
    expect(over.admitted ? "admitted" : over.status).toBe(429)
    for (const s of [admitted, ...held]) s.close()
    await waitFor(async () => (await healthz(server())).spectators === 0, { what: "every spectator released" })
  }, 30_000)
})
