// Pipe exhaustion (protocol §8 `--max-pipes`, §3 `--wait-timeout`): 200 receivers rush 200 new paths on a server
// capped at 50 pipes. Exactly 50 are held, the other 150 get a one-line 503 with Retry-After, a path that already
// exists still takes its sender, every held receiver gets its 408 when the wait times out, and nothing is left.
import { describe, expect, it } from "vitest"
import { prngBytes } from "../support/data.js"
import { sampleValue, scrapeMetrics } from "../support/hardening-prom.js"
import { sha256 } from "../support/hash.js"
import { BodyReader, openRequest, request } from "../support/http.js"
import { expectTransferWorks, healthz, pipePath, uniqueName, waitForReceivers } from "../support/pipe.js"
import { useServer } from "../support/server.js"
import { expectNothingLeft } from "../support/transfer.js"
import { waitFor, within } from "../support/wait.js"

const MAX_PIPES = 50
const RUSH = 200
const WAIT_TIMEOUT_SEC = 3

describe(`--max-pipes ${MAX_PIPES} --wait-timeout ${WAIT_TIMEOUT_SEC}s: 200 receivers on 200 new paths`, () => {
  const server = useServer([
    "--retention",
    "0s",
    "--max-pipes",
    String(MAX_PIPES),
    "--wait-timeout",
    `${WAIT_TIMEOUT_SEC}s`
  ])

  it(
    "exactly the cap is held, the rest get 503; an existing path still works; the held ones time out with 408; nothing left",
    async () => {
      // A path that exists before the rush: its receiver holds one of the 50.
      const existing = pipePath(uniqueName("limits-existing"))
      const existingReceiver = openRequest(server().url, existing)
      existingReceiver.req.end()
      await waitForReceivers(server(), existing, 1)

      const started = performance.now()
      let answered = 0
      const rush = Array.from({ length: RUSH }, () => {
        const { req, response } = openRequest(server().url, pipePath(uniqueName("limits")))
        req.end()
        return response.then(async (res) => ({
          status: res.statusCode ?? 0,
          retryAfter: res.headers["retry-after"],
          body: (await new BodyReader(res).complete).toString("utf8"),
          afterSec: (performance.now() - started) / 1000,
          answered: ++answered
        }))
      })
      // The 503s come at once; the admitted stay waiting.
      await waitFor(async () => sampleValue(await scrapeMetrics(server()), "pipe_waiting_parties") === MAX_PIPES, {
        what: `${MAX_PIPES} parties waiting (the cap)`
      })
      expect((await healthz(server())).pipes).toBe(MAX_PIPES)
      // Every refusal is in before a slot frees up (the existing path's transfer below frees one).
      await waitFor(() => answered >= RUSH - (MAX_PIPES - 1), { what: `${RUSH - (MAX_PIPES - 1)} refusals answered` })

      // The existing path is not a new pipe: its sender joins and the transfer completes.
      // Read the receiver while the sender waits: its success is said only once the receiver read the end.
      const body = prngBytes(existing, 200_000)
      const [sent, got] = await Promise.all([
        request(server().url, existing, { method: "PUT", body }),
        existingReceiver.response.then((res) => new BodyReader(res).complete)
      ])
      expect(sent.text).toContain("[INFO] All receiver(s) received successfully.\n")
      expect(sha256(got)).toBe(sha256(body))

      const answers = await within(Promise.all(rush), (WAIT_TIMEOUT_SEC + 10) * 1000, "every rushed receiver answered")
      const refused = answers.filter((a) => a.status === 503)
      const timedOut = answers.filter((a) => a.status === 408)
      console.log(
        `[limits] ${RUSH} receivers on new paths, cap ${MAX_PIPES} (one taken by an existing path): ${refused.length} × 503, ${timedOut.length} × 408 ` +
          `after ${Math.min(...timedOut.map((a) => a.afterSec)).toFixed(2)}–${
            Math.max(...timedOut.map((a) => a.afterSec)).toFixed(2)
          } s`
      )
      expect({ refused: refused.length, timedOut: timedOut.length }).toEqual({
        refused: RUSH - (MAX_PIPES - 1),
        timedOut: MAX_PIPES - 1
      })
      for (const a of refused) {
        expect(a.body).toMatch(/^\[ERROR\] [^\n]+\n$/)
        expect(a.body).toContain(String(MAX_PIPES))
        expect(a.retryAfter).toMatch(/^\d+$/)
      }
      for (const a of timedOut) {
        expect(a.body).toBe("[ERROR] Timed out waiting for the other side.\n")
        expect(a.afterSec).toBeGreaterThanOrEqual(WAIT_TIMEOUT_SEC * 0.9)
      }

      await expectNothingLeft(server())
      expect(sampleValue(await scrapeMetrics(server()), "pipe_waiting_parties")).toBe(0)
      await expectTransferWorks(server(), pipePath(uniqueName("limits-after")))
    },
    60_000
  )
})
