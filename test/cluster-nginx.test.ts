// nginx 1.22 in front of two pipe nodes, with the shipped deploy/nginx/pipe.conf (its listen address and
// nodes changed). What it carries passes; `--sender-status late` carries a large upload paced by a slow
// receiver; and the documented stall of an early-status upload is pinned, so a change in nginx is noticed.
import { createHash } from "node:crypto"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { type Node, type Proxy, startNginx, startNode } from "./support/cluster.js"
import { prngBytes, PrngSource } from "./support/data.js"
import { watchPath } from "./support/hardening-sse.js"
import { uniqueName } from "./support/pipe.js"
import { curlReceiver, curlSender } from "./support/transfer.js"
import { within } from "./support/wait.js"

const MB = 1_000_000
const sha256 = (bytes: Buffer) => createHash("sha256").update(bytes).digest("hex")

const clusters: Array<{ nodes: Array<Node>; proxy: Proxy }> = []
const start = async (flags: ReadonlyArray<string>) => {
  const nodes = await Promise.all(["g1", "g2"].map((name) => startNode(name, flags)))
  const proxy = await startNginx(nodes)
  clusters.push({ nodes, proxy })
  return proxy.target
}
let early: Awaited<ReturnType<typeof start>>
let late: Awaited<ReturnType<typeof start>>

beforeAll(async () => {
  early = await start(["--retention", "0s"])
  late = await start(["--retention", "0s", "--sender-status", "late"])
}, 60_000)

afterAll(async () => {
  for (const { nodes, proxy } of clusters) {
    await proxy.stop()
    await Promise.all(nodes.map((n) => n.server.stop().catch(() => {})))
  }
}, 30_000)

describe("behind nginx", () => {
  it(
    "what it carries passes: a small upload to a waiting receiver, bare and canonical names, a spectator done",
    async () => {
      for (let i = 0; i < 6; i++) {
        const name = uniqueName("nginx")
        const body = prngBytes(name, 200_000)
        const spectator = await watchPath(early, `/${name}`)
        await spectator.firstState
        const receiver = curlReceiver(early, `/api/v1/pipe/${name}`)
        const sent = await curlSender(early, `/${name}`, body).result
        const got = await receiver.result
        expect([sent.code, got.code, got.sha256]).toEqual([0, 0, sha256(body)])
        expect(sent.stdoutText).toContain("[INFO] All receiver(s) received successfully.\n")
        expect(await within(spectator.done, 5_000, "done")).toMatchObject({ ok: true, bytes: 200_000 })
        spectator.close()
      }
    },
    60_000
  )

  it("--sender-status late carries 20 MB paced by a receiver at 5 MB/s; the lines come at the end", async () => {
    const path = `/${uniqueName("nginx-late")}`
    const size = 20 * MB
    const source = new PrngSource(path, { size })
    const sender = curlSender(late, path, source)
    const receiver = curlReceiver(late, path, ["--limit-rate", "5M"])
    const [sent, received] = await Promise.all([sender.result, receiver.result])
    expect([sent.code, received.code, received.bytes, received.sha256]).toEqual([0, 0, size, source.digest.hex()])
    expect(sent.stdoutText).toMatch(
      /^\[INFO\] Waiting for 1 receiver\(s\)\.\.\.\n[\s\S]*All receiver\(s\) received successfully\.\n$/
    )
  }, 60_000)

  it(
    "the documented stall: with early status lines, nginx stops forwarding a paced upload after a few MB",
    async () => {
      const path = `/${uniqueName("nginx-stall")}`
      const size = 20 * MB
      const source = new PrngSource(path, { size })
      const sender = curlSender(early, path, source)
      const receiver = curlReceiver(early, path, ["--limit-rate", "5M"])
      // Paced at 5 MB/s the whole body needs 4 s: give it 8, and see it stuck well short of the end.
      await new Promise((resolve) => setTimeout(resolve, 8_000))
      const stuckAt = receiver.digest.bytes
      await new Promise((resolve) => setTimeout(resolve, 1_500))
      console.log(`[nginx] early-status upload stalled at ${(stuckAt / MB).toFixed(1)} MB of ${size / MB} MB`)
      expect(stuckAt, "stalled short of the end").toBeLessThan(size / 2)
      expect(receiver.digest.bytes, "and no longer moving").toBe(stuckAt)
      sender.kill()
      receiver.kill()
      await Promise.all([sender.result, receiver.result])
    },
    30_000
  )
})
