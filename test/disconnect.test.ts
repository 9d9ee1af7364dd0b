// The disconnect matrix (protocol §3 "Disconnects"): real curl parties killed while waiting, early and mid-stream.
// After every outcome the path must work again and nothing may be left behind (pipes, transfers, sockets).
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { dirname, join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { type CurlProcess, spawnCurl, TRUNCATED } from "./support/curl.js"
import { prngBytes, PrngSource } from "./support/data.js"
import { sha256 } from "./support/hash.js"
import { expectTransferWorks, pipePath, snapshot, uniqueName, waitForProbe, waitForReceivers } from "./support/pipe.js"
import { useServerPerTest } from "./support/server.js"
import { curlReceiver, curlSender, expectNothingLeft } from "./support/transfer.js"
import { waitFor } from "./support/wait.js"

const MiB = 1024 * 1024
// A fresh server per test: each outcome must leave nothing behind on its own.
const server = useServerPerTest(["--retention", "0s"])

// A 64 MiB upload from a file, for a sender whose body must still be in flight when it is killed.
const bigFile = join(mkdtempSync(join(tmpdir(), "pipe-disconnect-")), "64MiB.bin")
beforeAll(() => writeFileSync(bigFile, prngBytes("disconnect", 64 * MiB)))
afterAll(() => rmSync(dirname(bigFile), { recursive: true, force: true }))
const fileSender = (path: string, extraArgs: ReadonlyArray<string> = []) =>
  spawnCurl([...extraArgs, "-T", bigFile, `${server().url}${path}`])

/** The path works again and nothing is left behind. */
const expectRecovered = async (path: string): Promise<void> => {
  await expectNothingLeft(server())
  await expectTransferWorks(server(), path)
  await expectNothingLeft(server())
}

/**
 * A waiting sender whose upload is idle (`cat | curl -T -` before any input): the server sees it as waiting.
 * (curl blocks reading its idle stdin, so its stdout shows nothing yet: the snapshot is the observable.)
 * Not a sender killed in the middle of a stalled upload: TCP delivers that FIN only behind the unread body, so
 * no server can see it while it honours backpressure.
 */
const idleSender = async (path: string, query = ""): Promise<CurlProcess> => {
  const sender = curlSender(server(), `${path}${query}`, new PrngSource(path, { size: MiB, holdAt: 0 }))
  await waitFor(async () => (await snapshot(server(), path)).sender, { what: `the sender waiting on ${path}` })
  return sender
}

describe("a waiting party that leaves frees its slot", () => {
  it("waiting sender killed: a new sender takes the path", async () => {
    const path = pipePath(uniqueName("wait-sender"))
    const sender = await idleSender(path)
    sender.kill()
    await sender.result
    await waitForProbe(server(), path, (p) => p.state === "idle", "the sender's slot freed")
    await expectRecovered(path)
  })

  it("waiting receiver killed: a new receiver takes the path", async () => {
    const path = pipePath(uniqueName("wait-receiver"))
    const receiver = curlReceiver(server(), path)
    await waitForReceivers(server(), path, 1)
    receiver.kill()
    await receiver.result
    await waitForReceivers(server(), path, 0)
    await expectRecovered(path)
  })

  it("waiting sender killed while a receiver of n=2 waits: the receiver stays, a new sender completes", async () => {
    const path = pipePath(uniqueName("wait-sender-n2"))
    const first = curlReceiver(server(), `${path}?n=2`)
    await waitForReceivers(server(), path, 1)
    const sender = await idleSender(path, "?n=2")
    sender.kill()
    await sender.result
    await waitFor(
      async () => ((s) => !s.sender && s.receivers === 1 && s.state === "waiting")(await snapshot(server(), path)),
      {
        what: "the snapshot to show the sender gone and the receiver kept"
      }
    )
    const body = prngBytes(`${path}/again`, 3 * MiB)
    const second = curlReceiver(server(), `${path}?n=2`)
    await waitForReceivers(server(), path, 2)
    const again = await curlSender(server(), `${path}?n=2`, body).result
    expect(again.code).toBe(0)
    for (const r of [await first.result, await second.result]) expect([r.code, r.sha256]).toEqual([0, sha256(body)])
    await expectRecovered(path)
  })
})

describe("the sender dies", () => {
  it.each([
    ["early (first bytes)", 1_000],
    ["mid-stream", 48 * MiB]
  ])("%s: the receiver's download is cut (curl 18/56), never ended cleanly", async (_label, sentBeforeKill) => {
    const path = pipePath(uniqueName("sender-dies"))
    const source = new PrngSource(path, { size: 1024 * MiB, holdAt: sentBeforeKill })
    const receiver = curlReceiver(server(), path)
    await waitForReceivers(server(), path, 1)
    const sender = curlSender(server(), path, source)
    await receiver.waitForBytes(sentBeforeKill)
    sender.kill()
    const got = await receiver.result
    expect(TRUNCATED).toContain(got.code)
    expect([got.bytes, got.sha256]).toEqual([sentBeforeKill, source.digest.hex()])
    await expectRecovered(path)
  })

  it("mid-stream with a Content-Length: the receiver sees the truncation (curl 18/56)", async () => {
    const path = pipePath(uniqueName("sender-dies-cl"))
    const receiver = curlReceiver(server(), path)
    await waitForReceivers(server(), path, 1)
    const sender = fileSender(path, ["--limit-rate", "16M"])
    await receiver.waitForBytes(8 * MiB)
    sender.kill()
    const got = await receiver.result
    expect(TRUNCATED).toContain(got.code)
    expect(got.bytes).toBeLessThan(64 * MiB)
    await expectRecovered(path)
  })
})

describe("a receiver dies", () => {
  it.each([
    ["early (first bytes)", 1],
    ["mid-stream", 48 * MiB]
  ])(
    "%s with n=1: the sender is told all receivers aborted, and its request closes",
    async (_label, receivedBeforeKill) => {
      const path = pipePath(uniqueName("receiver-dies"))
      const receiver = curlReceiver(server(), path)
      await waitForReceivers(server(), path, 1)
      const sender = curlSender(server(), path, new PrngSource(path, { size: 1024 * MiB }))
      await receiver.waitForBytes(receivedBeforeKill)
      receiver.kill()
      const sent = await sender.result
      expect(sent.stdoutText).toMatch(/\[ERROR\] All receiver\(s\) aborted halfway\.\n$/)
      expect(sent.stdoutText).not.toContain("[INFO] Sent successfully!")
      await expectRecovered(path)
    }
  )

  it("mid-stream with n=2: the other receiver gets everything", async () => {
    const path = pipePath(uniqueName("one-of-two-dies"))
    const size = 160 * MiB
    const source = new PrngSource(path, { size, holdAt: 32 * MiB })
    const doomed = curlReceiver(server(), `${path}?n=2`)
    const survivor = curlReceiver(server(), `${path}?n=2`)
    await waitForReceivers(server(), path, 2)
    const sender = curlSender(server(), `${path}?n=2`, source)
    await doomed.waitForBytes(16 * MiB)
    doomed.kill()
    await doomed.result
    source.release() // curl -T - reads the response only while its stdin flows
    const [kept, sent] = await Promise.all([survivor.result, sender.result])
    expect({ code: kept.code, bytes: kept.bytes, sha256: kept.sha256 }).toEqual({
      code: 0,
      bytes: size,
      sha256: source.digest.hex()
    })
    expect(sent.code).toBe(0)
    expect(sent.stdoutText).toContain("[INFO] A receiver aborted.\n")
    expect(sent.stdoutText).toContain("[INFO] Sent successfully!\n")
    await expectRecovered(path)
  })

  it("mid-stream with n=2, both die: the sender is told all receivers aborted", async () => {
    const path = pipePath(uniqueName("two-of-two-die"))
    const receivers = [curlReceiver(server(), `${path}?n=2`), curlReceiver(server(), `${path}?n=2`)]
    await waitForReceivers(server(), path, 2)
    const sender = curlSender(server(), `${path}?n=2`, new PrngSource(path, { size: 1024 * MiB }))
    for (const r of receivers) await r.waitForBytes(16 * MiB)
    for (const r of receivers) r.kill()
    const sent = await sender.result
    expect(sent.stdoutText).toContain("[INFO] A receiver aborted.\n")
    expect(sent.stdoutText).toMatch(/\[ERROR\] All receiver\(s\) aborted halfway\.\n$/)
    await expectRecovered(path)
  })
})

describe("after a clean transfer", () => {
  it("the path is reusable at once", async () => {
    const path = pipePath(uniqueName("reuse"))
    await expectTransferWorks(server(), path)
    await expectTransferWorks(server(), path)
    await expectNothingLeft(server())
  })
})
