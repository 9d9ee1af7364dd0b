// The process contract: the first stdout line, and a clean exit on SIGINT/SIGTERM that breaks nothing silently.
import { describe, expect, it } from "vitest"
import { TRUNCATED } from "./support/curl.js"
import { PrngSource } from "./support/data.js"
import { request } from "./support/http.js"
import { pipePath, uniqueName, waitForReceivers } from "./support/pipe.js"
import { type ServerHandle, startServer } from "./support/server.js"
import { curlReceiver, curlSender } from "./support/transfer.js"
import { within } from "./support/wait.js"

/** Runs `body` against a fresh server that is always stopped afterwards. */
const withServer = async (
  flags: ReadonlyArray<string>,
  body: (server: ServerHandle) => Promise<void>
): Promise<void> => {
  const server = await startServer(flags)
  try {
    await body(server)
  } finally {
    await server.stop()
  }
}

describe("process lifecycle", () => {
  it.each(["SIGINT", "SIGTERM"] as const)("an idle server exits 0 on %s", async (signal) => {
    await withServer([], async (server) => {
      expect((await request(server.url, "/healthz")).status).toBe(200)
      server.kill(signal)
      expect(await within(server.exited, 5_000, `exit after ${signal}`)).toEqual({ code: 0, signal: null })
    })
  })

  it(
    "SIGTERM with a waiting receiver and a transfer in flight: exits 0 after the grace, the transfer visibly broken",
    async () => {
      await withServer(["--shutdown-grace", "1s"], async (server) => {
        const waitingPath = pipePath(uniqueName("shutdown-waiting"))
        const waiting = curlReceiver(server, waitingPath)
        await waitForReceivers(server, waitingPath, 1)
        const path = pipePath(uniqueName("shutdown-streaming"))
        const receiver = curlReceiver(server, path, ["--limit-rate", "1M"])
        await waitForReceivers(server, path, 1)
        const sender = curlSender(server, path, new PrngSource(path, { size: 1024 * 1024 * 1024 }))
        await receiver.waitForBytes(256 * 1024)

        const started = Date.now()
        server.kill("SIGTERM")
        expect(await within(server.exited, 8_000, "exit after SIGTERM")).toEqual({ code: 0, signal: null })
        expect(Date.now() - started).toBeGreaterThanOrEqual(900) // the running transfer had its grace
        const [cut, released] = await Promise.all([receiver.result, waiting.result, sender.result])
        expect(TRUNCATED).toContain(cut.code)
        expect(released.code).not.toBeNull()
      })
    },
    30_000
  )
})
