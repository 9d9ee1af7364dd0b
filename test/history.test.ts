// The last result of a path (protocol §9): kept after the retention window, in memory or in --data-dir across
// a real restart, evicted and expired by its limits, never a pipe slot; an unusable --data-dir stops startup.
import { Schema } from "effect"
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import type { DoneData } from "../src/domain/TransferReport.js"
import { Snapshot } from "../src/schema/Snapshot.js"
import { repoRoot } from "./support/artifacts.js"
import { spawnTracked } from "./support/child.js"
import { TRUNCATED } from "./support/curl.js"
import { PrngSource } from "./support/data.js"
import { request } from "./support/http.js"
import { holdReceiver, holdStreaming } from "./support/parties.js"
import { healthz, pipePath, uniqueName, waitForReceivers } from "./support/pipe.js"
import { type ServerHandle, startServer, useServer } from "./support/server.js"
import { ofKind, openSse } from "./support/sse.js"
import { curlReceiver, curlSender } from "./support/transfer.js"
import { waitFor } from "./support/wait.js"

const decodeSnapshot = Schema.decodeUnknownSync(Snapshot)

const tempDirs: Array<string> = []
/** A fresh directory under the system's temp dir, removed after the file's tests. */
const tempDir = (prefix: string): string => {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  tempDirs.push(dir)
  return dir
}
afterAll(() => tempDirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })))

const snapshotOf = async (server: ServerHandle, path: string): Promise<Snapshot> => {
  const reply = await request(server.url, `${path}?progress`, { headers: { accept: "application/json" } })
  expect(reply.status).toBe(200)
  return decodeSnapshot(JSON.parse(reply.text))
}

const lastHeader = async (server: ServerHandle, path: string): Promise<string | undefined> => {
  const reply = await request(server.url, path, { method: "HEAD" })
  expect(reply.status).toBe(200)
  const value = reply.headers["x-pipe-last"]
  return Array.isArray(value) ? value.join(",") : value
}

/** A receiver waits, then a sender sends `body` with a Content-Length: both succeed. */
const transfer = async (server: ServerHandle, path: string, body: string): Promise<void> => {
  const receiver = request(server.url, path)
  await waitForReceivers(server, path, 1)
  const sender = await request(server.url, path, { method: "PUT", body })
  expect(sender.status).toBe(200)
  expect(sender.text).toContain("[INFO] All receiver(s) received successfully.")
  expect((await receiver).text).toBe(body)
}

/** A transfer whose sender (a real curl) is killed after its first bytes reached the receiver: it ends aborted. */
const abortedTransfer = async (server: ServerHandle, path: string): Promise<void> => {
  const source = new PrngSource(path, { size: 1_000_000, holdAt: 1_000 })
  const receiver = curlReceiver(server, path)
  await waitForReceivers(server, path, 1)
  const sender = curlSender(server, path, source)
  await receiver.waitForBytes(1_000)
  sender.kill()
  expect(TRUNCATED).toContain((await receiver.result).code)
  await waitFor(async () => (await snapshotOf(server, path)).last?.ok === false, { what: `${path} aborted` })
}

/** Awaits the path back to idle once its retention window is over, and returns that snapshot. */
const idleAfterRetention = (server: ServerHandle, path: string): Promise<Snapshot> =>
  waitFor(async () => {
    const snapshot = await snapshotOf(server, path)
    return snapshot.state === "idle" ? snapshot : undefined
  }, { what: `${path} idle after its retention` })

const expectLast = (last: DoneData | null, expected: Partial<DoneData>) => {
  expect(last).not.toBeNull()
  expect(last).toMatchObject(expected)
}

describe("the last result outlives the retention window (memory)", () => {
  const server = useServer(["--retention", "1s"])

  it("after the window: idle, done null, last with the transfer's numbers; HEAD says complete", async () => {
    const path = pipePath(uniqueName("sunrise"))
    const never = pipePath(uniqueName("never"))
    expect((await snapshotOf(server(), path)).last).toBeNull()
    expect(await lastHeader(server(), path)).toBeUndefined()

    await transfer(server(), path, "x".repeat(12_345))
    const retained = await snapshotOf(server(), path)
    expect(retained.state).toBe("complete")
    expect(retained.last).toEqual(retained.done)
    expectLast(retained.done, { ok: true, bytes: 12_345, error: null })

    const after = await idleAfterRetention(server(), path)
    expect(after).toMatchObject({ state: "idle", done: null, transferId: null, bytes: 0 })
    expect(after.last).toEqual(retained.done)
    expect(await lastHeader(server(), path)).toBe("complete")
    expect(await lastHeader(server(), `${path}?progress`)).toBe("complete")
    // A path never used stays as it was: no last result, no header.
    expect((await snapshotOf(server(), never)).last).toBeNull()
    expect(await lastHeader(server(), never)).toBeUndefined()
    // The history holds no actor: nothing is alive on the server.
    expect(await healthz(server())).toMatchObject({ pipes: 0, transfers: 0 })
  })

  it("an aborted transfer is kept as aborted, with its error", async () => {
    const path = pipePath(uniqueName("aborted"))
    await abortedTransfer(server(), path)
    const after = await idleAfterRetention(server(), path)
    expectLast(after.last, { ok: false, error: expect.any(String) })
    expect(after.done).toBeNull()
    expect(await lastHeader(server(), path)).toBe("aborted")
  })

  it("a new transfer replaces the last result; while it streams, last is still the previous one", async () => {
    const path = pipePath(uniqueName("again"))
    await transfer(server(), path, "first")
    const first = (await idleAfterRetention(server(), path)).last
    expectLast(first, { ok: true, bytes: 5 })

    const held = await holdStreaming(server(), path)
    const streaming = await snapshotOf(server(), path)
    expect(streaming.state).toBe("streaming")
    expect(streaming.last).toEqual(first)
    await held.finish()
    const second = (await idleAfterRetention(server(), path)).last
    expectLast(second, { ok: true, bytes: "first chunk\n".length })
    expect(second?.transferId).not.toBe(first?.transferId)
    expect(second?.transferId).toBe(streaming.transferId)
  })

  it("SSE never replays a done from the history: a spectator's only done is the next live one", async () => {
    const path = pipePath(uniqueName("sse"))
    await transfer(server(), path, "old result")
    const old = (await idleAfterRetention(server(), path)).last
    expectLast(old, { ok: true })

    const spectator = openSse(server(), `${path}?progress`)
    await spectator.next((e) => e.event === "state" && e.state === "idle", "the replayed idle state")
    await transfer(server(), path, "new result")
    const done = await spectator.next((e) => e.event === "done", "the live done")
    spectator.close()
    expect(ofKind(spectator.events, "done").map((d) => d.transferId)).toEqual([
      done.event.event === "done" ? done.event.transferId : "?"
    ])
    expect(done.event).toMatchObject({ bytes: "new result".length })
    expect(done.event.event === "done" ? done.event.transferId : undefined).not.toBe(old?.transferId)
  })
})

describe("history limits", () => {
  describe("--history-max 2", () => {
    const server = useServer(["--retention", "0s", "--history-max", "2"])

    it("evicts the record written longest ago", async () => {
      const [a, b, c] = ["a", "b", "c"].map((label) => pipePath(uniqueName(`max-${label}`)))
      if (a === undefined || b === undefined || c === undefined) return expect.fail("three paths")
      await transfer(server(), a, "aa")
      await transfer(server(), b, "bbb")
      await idleAfterRetention(server(), b)
      expectLast((await snapshotOf(server(), a)).last, { bytes: 2 })
      await transfer(server(), c, "cccc")
      await idleAfterRetention(server(), c)
      expect((await snapshotOf(server(), a)).last).toBeNull()
      expect(await lastHeader(server(), a)).toBeUndefined()
      expectLast((await snapshotOf(server(), b)).last, { bytes: 3 })
      expectLast((await snapshotOf(server(), c)).last, { bytes: 4 })
    })
  })

  describe("--history-ttl 2s", () => {
    const server = useServer(["--retention", "0s", "--history-ttl", "2s"])

    it("keeps the record for the time-to-live from the transfer's end, then forgets it", async () => {
      const path = pipePath(uniqueName("ttl"))
      await transfer(server(), path, "short-lived")
      const kept = (await idleAfterRetention(server(), path)).last
      expectLast(kept, { ok: true })
      expect(await lastHeader(server(), path)).toBe("complete")
      const gone = await waitFor(async () => {
        const snapshot = await snapshotOf(server(), path)
        return snapshot.last === null ? snapshot : undefined
      }, { what: "the record to expire" })
      // Not before the time-to-live (the server's clock stamps both `at` and `updatedAt`).
      expect(gone.updatedAt - (kept?.at ?? 0)).toBeGreaterThanOrEqual(2_000)
      expect(await lastHeader(server(), path)).toBeUndefined()
    })
  })

  describe("--max-pipes 1", () => {
    const server = useServer(["--retention", "0s", "--max-pipes", "1"])

    it("records take no pipe slot: new paths keep working, and the limit still holds for live ones", async () => {
      const paths = Array.from({ length: 3 }, () => pipePath(uniqueName("slots")))
      for (const path of paths) await transfer(server(), path, "one slot at a time")
      for (const path of paths) expectLast((await idleAfterRetention(server(), path)).last, { ok: true })

      const busy = pipePath(uniqueName("busy"))
      const waiting = await holdReceiver(server(), busy)
      const refused = await request(server().url, pipePath(uniqueName("refused")), { method: "PUT", body: "x" })
      expect(refused.status).toBe(503)
      waiting.req.destroy()
      await waitFor(async () => (await healthz(server())).pipes === 0, { what: "the waiting receiver gone" })
      await transfer(server(), pipePath(uniqueName("after")), "still room")
    })
  })
})

describe("--data-dir", () => {
  it("the last result survives a real restart of the server", async () => {
    const dir = tempDir("pipe-data-")
    const flags = ["--retention", "1s", "--shutdown-grace", "0s", "--data-dir", dir]
    const first = await startServer(flags)
    const done = pipePath(uniqueName("restart-ok"))
    const broken = pipePath(uniqueName("restart-aborted"))
    const cut = pipePath(uniqueName("restart-cut"))
    let kept: DoneData | null
    try {
      await transfer(first, done, "survives a restart")
      await abortedTransfer(first, broken)
      kept = (await snapshotOf(first, done)).last
      expectLast(kept, { ok: true, bytes: "survives a restart".length })
      // Still streaming when the server stops: the shutdown ends it, and that end is recorded before the file
      // is closed.
      await holdStreaming(first, cut)
    } finally {
      await first.stop()
    }
    expect(await first.exited).toEqual({ code: 0, signal: null })

    const second = await startServer(flags)
    try {
      const after = await snapshotOf(second, done)
      expect(after).toMatchObject({ state: "idle", done: null })
      expect(after.last).toEqual(kept)
      expect(await lastHeader(second, done)).toBe("complete")
      expectLast((await snapshotOf(second, broken)).last, { ok: false })
      expect(await lastHeader(second, broken)).toBe("aborted")
      expectLast((await snapshotOf(second, cut)).last, { ok: false, error: "The server is shutting down." })
      // The restarted server records too.
      await transfer(second, done, "and goes on")
      expectLast((await idleAfterRetention(second, done)).last, { bytes: "and goes on".length })
    } finally {
      await second.stop()
    }
  }, 60_000)

  /** `pipe server` with `flags` (as `user` if given, through runuser), expected to refuse to start. */
  const refusal = async (flags: ReadonlyArray<string>, user?: string) => {
    const server = [
      process.execPath,
      join(repoRoot, "dist", "main.js"),
      "server",
      "--host",
      "127.0.0.1",
      "--port",
      "0",
      ...flags
    ]
    const [command, ...args] = user === undefined ? server : ["runuser", "-u", user, "--", ...server]
    const result = await spawnTracked(command ?? process.execPath, args).result
    return { code: result.code, stdout: result.stdoutText, stderr: result.stderr }
  }

  it("a corrupt file is one line on stderr and exit 1, before listening", async () => {
    const dir = tempDir("pipe-corrupt-")
    writeFileSync(join(dir, "history.sqlite"), Buffer.alloc(8192, "garbage "))
    expect(await refusal(["--data-dir", dir])).toEqual({
      code: 1,
      stdout: "",
      stderr: `pipe: --data-dir ${dir}: cannot keep the history there: file is not a database\n`
    })
  })

  it("a directory that cannot be created is one line on stderr and exit 1", async () => {
    const file = join(tempDir("pipe-notdir-"), "a-file")
    writeFileSync(file, "not a directory")
    const dir = join(file, "x")
    expect(await refusal(["--data-dir", dir])).toEqual({
      code: 1,
      stdout: "",
      stderr: `pipe: --data-dir ${dir}: cannot keep the history there: ENOTDIR: not a directory, mkdir '${dir}'\n`
    })
  })

  // root writes anywhere: as root, the server runs as `nobody` for this one (the test above covers root).
  const root = process.getuid?.() === 0
  it.skipIf(root && !existsSync("/usr/sbin/runuser") && !existsSync("/sbin/runuser"))(
    "an unwritable directory is one line on stderr and exit 1",
    async () => {
      const dir = tempDir("pipe-readonly-")
      chmodSync(dir, 0o555)
      const refused = await refusal(["--data-dir", dir], root ? "nobody" : undefined)
      expect(refused).toEqual({
        code: 1,
        stdout: "",
        stderr: `pipe: --data-dir ${dir}: cannot keep the history there: unable to open database file\n`
      })
    }
  )

  it("PIPE_DATA_DIR is the flag's fallback", async () => {
    const file = join(tempDir("pipe-env-"), "a-file")
    writeFileSync(file, "")
    const previous = process.env["PIPE_DATA_DIR"]
    process.env["PIPE_DATA_DIR"] = join(file, "x")
    try {
      expect(await refusal([])).toMatchObject({ code: 1, stderr: expect.stringContaining(`--data-dir ${file}/x:`) })
    } finally {
      if (previous === undefined) delete process.env["PIPE_DATA_DIR"]
      else process.env["PIPE_DATA_DIR"] = previous
    }
  })
})
