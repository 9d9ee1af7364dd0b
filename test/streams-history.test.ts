// `?progress&until=done` reconnections (protocol §10) after the path's actor is gone: with `--retention 0s`,
// and across a real restart with `--data-dir`, the history record (protocol §9) keeps the id its live `done`
// went out with, and the server answers from it: 204 for a stream that ended on it or missed it (the result
// itself is the JSON's `last`, never a `done` sent after the retention, §9).
import { Schema } from "effect"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { Snapshot } from "../src/schema/Snapshot.js"
import { writeLayout1File } from "./support/history-files.js"
import { request } from "./support/http.js"
import { holdStreaming } from "./support/parties.js"
import { pipePath, uniqueName, waitForNoPipes } from "./support/pipe.js"
import { type ServerHandle, startServer, useServer } from "./support/server.js"
import { openSse, type Received } from "./support/sse.js"
import { within } from "./support/wait.js"

const tempDirs: Array<string> = []
afterAll(() => tempDirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })))

const untilDone = (path: string) => `${path}?progress&until=done`
/** What `holdStreaming` sends before `finish()` ends the transfer. */
const sentBytes = "first chunk\n".length

/**
 * A bot that read `state streaming` of a transfer, then lost its connection before the end; the transfer
 * ends with a plain spectator watching (its live `done` is what the bot missed). Resolves once nothing of
 * the path is alive on the server any more: `lastSeen` is the bot's `Last-Event-ID`, `done` the live one.
 */
const awayWhileItEnds = async (server: ServerHandle, path: string) => {
  const held = await holdStreaming(server, path)
  const bot = openSse(server, untilDone(path))
  const streaming = await bot.next((e) => e.event === "state" && e.state === "streaming", "state streaming")
  bot.close()
  const witness = openSse(server, `${path}?progress`)
  await witness.next((e) => e.event === "state", "the witness's replayed state")
  await held.finish()
  const done = await witness.next((e) => e.event === "done", "the live done")
  witness.close()
  // No retention: nobody holds the path, its actor is gone; only the history remembers.
  await waitForNoPipes(server)
  expect(streaming.id).toMatch(/^\d+$/)
  expect(Number(done.id)).toBeGreaterThan(Number(streaming.id))
  return { lastSeen: streaming.id ?? "", done }
}

/**
 * The reconnection of that bot: 204 (protocol §9 keeps a `done` out of SSE once the retention is over, and
 * §10 stops the stream), and the result it missed is the JSON's `last`, where `pipe watch` reads it.
 */
const expectMissedIsOver = async (server: ServerHandle, path: string, lastSeen: string, done: Received) => {
  await expectOver(server, path, lastSeen)
  const json = await request(server.url, `${path}?progress`, { headers: { accept: "application/json" } })
  const last = Schema.decodeUnknownSync(Snapshot)(JSON.parse(json.text)).last
  expect(done.event).toMatchObject({ event: "done", ok: true, bytes: sentBytes })
  expect(last).toMatchObject({ transferId: done.event.event === "done" ? done.event.transferId : "", ok: true })
}

/** EventSource's next reconnection carries that `done`'s id: 204, and it stops for good. */
const expectOver = async (server: ServerHandle, path: string, lastEventId: string) => {
  const again = await request(server.url, untilDone(path), {
    headers: { accept: "text/event-stream", "last-event-id": lastEventId }
  })
  expect(again.status).toBe(204)
  expect(again.text).toBe("")
}

/**
 * A first connection on an idle path that has a record: it waits for the next transfer (a recorded old
 * `done` never ends it), then ends right after that transfer's `done`.
 */
const expectFirstConnectionWaits = async (server: ServerHandle, path: string, old: Received) => {
  const first = openSse(server, untilDone(path))
  try {
    await first.next((e) => e.event === "state" && e.state === "idle", "the idle state")
    await expect(within(first.ended, 1_000, "the first connection's end")).rejects.toThrow(/not within 1000 ms/)
    expect(first.events.map((e) => e.event.event)).toEqual(["state"])
    const held = await holdStreaming(server, path)
    await held.finish()
    expect(await within(first.ended, 10_000, "the end after the new transfer's done")).toBe("end")
    const dones = first.events.filter((e) => e.event.event === "done")
    expect(dones).toHaveLength(1)
    expect(dones[0]?.event).toMatchObject({ event: "done", ok: true, bytes: sentBytes })
    expect(dones[0]?.event.transferId).not.toBe(old.event.transferId)
    expect(first.events.at(-1)?.event.event).toBe("done")
  } finally {
    first.close()
  }
}

describe("until=done after the retention (--retention 0s)", () => {
  const server = useServer(["--retention", "0s"])

  it(
    "away when its transfer ended: the reconnection is 204 and the JSON's last has its result; its done's id too",
    async () => {
      const path = pipePath(uniqueName("gone"))
      const { done, lastSeen } = await awayWhileItEnds(server(), path)
      await expectMissedIsOver(server(), path, lastSeen, done)
      await expectOver(server(), path, done.id ?? "")
      // Told twice the same: the record is not used up by the first reconnection.
      await expectMissedIsOver(server(), path, lastSeen, done)
    },
    30_000
  )

  it("a first connection on the idle path with a record still waits for the next transfer", async () => {
    const path = pipePath(uniqueName("first"))
    const { done } = await awayWhileItEnds(server(), path)
    await expectFirstConnectionWaits(server(), path, done)
  }, 30_000)
})

describe("until=done across a restart (--data-dir)", () => {
  it(
    "after a restart the reconnection that missed its done and the done's id are 204, a first connection waits",
    async () => {
      const dir = mkdtempSync(join(tmpdir(), "pipe-until-"))
      tempDirs.push(dir)
      const flags = ["--retention", "0s", "--shutdown-grace", "0s", "--data-dir", dir]
      const path = pipePath(uniqueName("restart"))
      const first = await startServer(flags)
      let away: Awaited<ReturnType<typeof awayWhileItEnds>>
      try {
        away = await awayWhileItEnds(first, path)
      } finally {
        await first.stop()
      }
      expect(await first.exited).toEqual({ code: 0, signal: null })

      const second = await startServer(flags)
      try {
        await expectMissedIsOver(second, path, away.lastSeen, away.done)
        await expectOver(second, path, away.done.id ?? "")
        await expectFirstConnectionWaits(second, path, away.done)
      } finally {
        await second.stop()
      }
    },
    60_000
  )
})

describe("a --data-dir file of the previous layout", () => {
  it("is migrated on start: its records still show as last, and new ones end until=done reconnections", async () => {
    const dir = mkdtempSync(join(tmpdir(), "pipe-layout1-"))
    tempDirs.push(dir)
    const path = pipePath(uniqueName("layout1"))
    const name = path.slice("/api/v1/pipe/".length)
    const old = {
      transferId: "t_00000000abcd",
      ok: true,
      bytes: 42,
      total: 42,
      durationSec: 1.5,
      avgMbps: 0.01,
      error: null,
      at: Date.now() - 60_000
    }
    // The file as the previous server wrote it (layout 1: no done_id column).
    writeLayout1File(dir, name, old)

    const server = await startServer(["--retention", "0s", "--shutdown-grace", "0s", "--data-dir", dir])
    try {
      const reply = await request(server.url, `${path}?progress=json`)
      expect(reply.status).toBe(200)
      expect(Schema.decodeUnknownSync(Snapshot)(JSON.parse(reply.text)).last).toEqual(old)
      const { done, lastSeen } = await awayWhileItEnds(server, path)
      await expectMissedIsOver(server, path, lastSeen, done)
      await expectOver(server, path, done.id ?? "")
    } finally {
      await server.stop()
    }
  }, 30_000)
})
