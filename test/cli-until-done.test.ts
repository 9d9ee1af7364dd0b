// `pipe watch --until-done` (issue 13, protocol §10): it ends with the transfer that is running when it
// connects, or the next one; the replayed `done` of a transfer that had already ended never ends it, however
// often a reconnection replays it. Exit status 0 only for `ok: true` of that transfer.
import { describe, expect, it } from "vitest"
import { jsonEvents, pipeCli } from "./support/cli.js"
import { spawnCurl } from "./support/curl.js"
import { prngBytes, PrngSource } from "./support/data.js"
import { request } from "./support/http.js"
import { pipePath, uniqueName, waitForReceivers } from "./support/pipe.js"
import { type ServerHandle, useServer } from "./support/server.js"
import { curlSender } from "./support/transfer.js"
import { waitFor } from "./support/wait.js"

const MB = 1_000_000

interface Snapshot {
  readonly state: string
  readonly spectators: number
  readonly done: { readonly transferId: string; readonly ok: boolean } | null
}

const snapshotOf = async (server: ServerHandle, path: string): Promise<Snapshot> => {
  const reply = await request(server.url, `${path}?progress`, { headers: { accept: "application/json" } })
  return JSON.parse(reply.text)
}

/** A transfer that completes: a curl receiver, then a curl sender of 100 kB. */
const okTransfer = async (server: ServerHandle, path: string): Promise<void> => {
  const receiver = spawnCurl([`${server.url}${path}`], { keep: false })
  await waitForReceivers(server, path, 1)
  const sender = curlSender(server, path, prngBytes(path, 100_000))
  const [sent, received] = await Promise.all([sender.result, receiver.result])
  expect([sent.code, received.code]).toEqual([0, 0])
}

/** A transfer whose sender dies after 2 MB. */
const abortedTransfer = async (server: ServerHandle, path: string): Promise<void> => {
  const receiver = spawnCurl([`${server.url}${path}`], { keep: false })
  await waitForReceivers(server, path, 1)
  const sender = curlSender(server, path, new PrngSource(path, { size: Infinity }))
  await receiver.waitForBytes(2 * MB)
  sender.kill("SIGKILL")
  await Promise.all([sender.result, receiver.result])
}

describe("pipe watch --until-done", () => {
  // Short windows: every second the spectator connection ends and the client reconnects, and each new
  // connection replays the earlier transfer's `done` again while it is retained.
  const server = useServer(["--retention", "5s", "--spectator-ttl", "1s"])

  it.each(
    [
      ["ok", "aborts", okTransfer, abortedTransfer, 1, false],
      ["aborted", "succeeds", abortedTransfer, okTransfer, 0, true]
    ] as const
  )(
    "started within an %s transfer's retention, it waits for the next one, and exits as that one %s",
    async (_, __, earlier, next, code, ok) => {
      const name = uniqueName("cli-until")
      const path = pipePath(name)
      const url = `${server().url}${path}`
      await earlier(server(), path)
      const old = await waitFor(async () => (await snapshotOf(server(), path)).done, { what: "the earlier done" })

      const watch = pipeCli(["watch", "--until-done", "--json", url])
      await waitFor(async () => (await snapshotOf(server(), path)).spectators === 1, { what: "the watch connected" })
      // Otherwise the test proves nothing: the watch must have connected while the old result was replayed.
      expect((await snapshotOf(server(), path)).done?.transferId).toBe(old.transferId)
      // The window passes (several reconnections, each replaying the old done), and the watch is still waiting.
      await waitFor(async () => (await snapshotOf(server(), path)).state === "idle", {
        what: "the retention to end",
        timeoutMs: 15_000
      })
      expect(watch.running).toBe(true)

      await next(server(), path)
      const watched = await watch.result
      expect({ code: watched.code, stderr: watched.stderr }).toEqual({ code, stderr: "" })
      const events = jsonEvents(watched.stdoutText)
      expect(events.some((e) => e.transferId === old.transferId)).toBe(false)
      const last = events.at(-1)
      expect(last).toMatchObject({ event: "done", ok })
      expect(last?.transferId).not.toBe(old.transferId)
    },
    45_000
  )

  it("started while a transfer streams, it ends with that transfer, not a later one", async () => {
    const name = uniqueName("cli-until-running")
    const path = pipePath(name)
    const url = `${server().url}${path}`
    const source = new PrngSource(name, { size: 6 * MB, holdAt: 2 * MB })
    const receiver = spawnCurl([url], { keep: false })
    await waitForReceivers(server(), path, 1)
    const sender = curlSender(server(), path, source)
    await receiver.waitForBytes(2 * MB)
    const watch = pipeCli(["watch", "--until-done", "--json", url])
    await watch.waitForText("\"event\":\"state\",\"state\":\"streaming\"")
    source.release()
    await Promise.all([sender.result, receiver.result])
    const watched = await watch.result
    expect(watched.code).toBe(0)
    const events = jsonEvents(watched.stdoutText)
    expect(events.at(-1)).toMatchObject({ event: "done", ok: true, bytes: 6 * MB })
    expect(new Set(events.map((e) => e.transferId).filter((id) => id !== null)).size).toBe(1)
  })
})
