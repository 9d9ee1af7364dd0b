// Scaling out (issue 14, protocol §11): three pipe nodes behind a real HAProxy 2.6 running the shipped
// deploy/haproxy/pipe.cfg (only its bind address, its nodes and, here, its idle timeouts changed). Every party
// of a path meets on one node whatever name form it uses; a waiting sender's keepalive lines carry it past
// the proxy's idle timeout; a killed node fails only its own transfers; a 4th node moves at most 1/3 + 5 %
// of the keys, none between old nodes; a node that drains (SIGTERM) loses its new paths, not its transfers.
import { createHash, randomBytes } from "node:crypto"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { adminGet, metric, type Node, nodeOf, type Proxy, startHaproxy, startNode } from "./support/cluster.js"
import { spawnCurl, TRUNCATED } from "./support/curl.js"
import { prngBytes, PrngSource } from "./support/data.js"
import { watchPath } from "./support/hardening-sse.js"
import { BodyReader, openRequest, request } from "./support/http.js"
import { curlReceiver, curlSender } from "./support/transfer.js"
import { waitFor, within } from "./support/wait.js"

const MB = 1_000_000
const seed = process.env["CLUSTER_SEED"] ?? randomBytes(4).toString("hex")
console.log(`[cluster] seed ${seed} (CLUSTER_SEED=${seed} replays the names)`)

/** The proxy's idle timeout under test: a default far below the shipped hour, that a silent wait would hit. */
const idleTimeout = "4s"

let nodes: Array<Node> = []
let proxy: Proxy | undefined
const target = () => {
  if (proxy === undefined) throw new Error("no proxy")
  return proxy.target
}
const node = (name: string) => {
  const found = nodes.find((n) => n.name === name)
  if (found === undefined) throw new Error(`no node ${name}`)
  return found
}

beforeAll(async () => {
  nodes = await Promise.all(["n1", "n2", "n3"].map((name) => startNode(name, ["--retention", "0s"])))
  proxy = await startHaproxy(nodes, { idleTimeout })
}, 60_000)

afterAll(async () => {
  await proxy?.stop()
  await Promise.all(nodes.map((n) => n.server.stop().catch(() => {})))
}, 30_000)

const sha256 = (bytes: Buffer) => createHash("sha256").update(bytes).digest("hex")

/** The three spellings of one pipe that must meet: bare, canonical, canonical with an escaped first letter. */
const formsOf = (name: string) => [
  `/${name}`,
  `/api/v1/pipe/${name}`,
  `/api/v1/pipe/%${name.charCodeAt(0).toString(16)}${name.slice(1)}`
]

const pick = <A>(items: ReadonlyArray<A>, i: number, salt: number): A => {
  const index = createHash("sha1").update(`${seed}/${i}/${salt}`).digest().readUInt32BE(0) % items.length
  const item = items[index]
  if (item === undefined) throw new Error("empty")
  return item
}

describe("three nodes behind HAProxy", () => {
  it(
    "200 transfers on random paths, name forms mixed: each path's parties on one node, intact, spectators done",
    async () => {
      const before = await Promise.all(nodes.map((n) => metric(n, "pipe_transfers_completed_total")))
      const one = async (i: number) => {
        const name = `c${seed}-${i}`
        const forms = formsOf(name)
        const size = 1_000 + (createHash("sha1").update(`${seed}/${i}`).digest().readUInt32BE(0) % 200_000)
        const body = prngBytes(`${seed}/${i}`, size)
        const spectator = await watchPath(target(), pick(forms, i, 1))
        await spectator.firstState
        const poll = await request(target().url, `${pick(forms, i, 2)}?progress=json`, {
          headers: { accept: "application/json" }
        })
        const receiver = openRequest(target().url, pick(forms, i, 3))
        receiver.req.end()
        const sender = openRequest(target().url, pick(forms, i, 4), {
          method: "PUT",
          headers: { "content-length": String(size) }
        })
        sender.req.end(body)
        const [recvRes, sendRes] = await Promise.all([receiver.response, sender.response])
        const [received, lines] = await Promise.all([
          new BodyReader(recvRes).complete,
          new BodyReader(sendRes).complete
        ])
        const done = await within(spectator.done, 10_000, `done of ${name}`)
        spectator.close()
        const where = [recvRes, sendRes, spectator.res].map((res) => res.headers["x-pipe-node"])
        return {
          name,
          nodes: [...new Set([...where, poll.headers["x-pipe-node"]])],
          intact: sha256(received) === sha256(body),
          senderTold: lines.toString("utf8").includes("[INFO] All receiver(s) received successfully.\n"),
          done: done.ok && done.bytes === size
        }
      }
      const results: Array<Awaited<ReturnType<typeof one>>> = []
      const started = performance.now()
      for (let batch = 0; batch < 200; batch += 20) {
        results.push(...await Promise.all(Array.from({ length: 20 }, (_, k) => one(batch + k))))
      }
      console.log(`[cluster] 200 transfers through HAProxy in ${((performance.now() - started) / 1000).toFixed(1)} s`)
      const bad = results.filter((r) => r.nodes.length !== 1 || !r.intact || !r.senderTold || !r.done)
      expect(bad).toEqual([])
      // Each node's own /metrics (its admin port) counts exactly the transfers whose parties said it was theirs.
      const after = await Promise.all(nodes.map((n) => metric(n, "pipe_transfers_completed_total")))
      const perNode = nodes.map((n) => results.filter((r) => r.nodes[0] === n.name).length)
      console.log(`[cluster] per node: ${nodes.map((n, k) => `${n.name} ${perNode[k]}`).join(", ")}`)
      expect(after.map((count, k) => count - (before[k] ?? 0))).toEqual(perNode)
      expect(perNode.every((count) => count > 20), "the hash spreads paths over all three").toBe(true)
    },
    120_000
  )

  it(
    `a sender waits past the proxy's ${idleTimeout} idle timeout on keepalive lines alone; 30 MB paced at 5 MB/s`,
    async () => {
      // Its whole body is in by then (100 kB): what keeps the proxy from cutting it is our line every second.
      const path = `/wait-${seed}`
      const small = prngBytes(path, 100_000)
      const waiting = curlSender(target(), path, small)
      await waitFor(
        async () => (await request(target().url, path, { method: "HEAD" })).headers["x-pipe-state"] === "waiting",
        {
          what: "the sender waiting"
        }
      )
      // Twice the idle timeout without a byte of its own.
      await new Promise((resolve) => setTimeout(resolve, 8_000))
      const late = curlReceiver(target(), path)
      const [told, got] = await Promise.all([waiting.result, late.result])
      expect([told.code, got.code, got.sha256]).toEqual([0, 0, sha256(small)])
      expect(told.stdoutText).toMatch(/^\[INFO\] Waiting for 1 receiver\(s\)\.\.\.\n\n{6,}/)

      // Then a large transfer whose receiver is paced: backpressure through the proxy, intact.
      const big = `/paced-${seed}`
      const size = 30 * MB
      const source = new PrngSource(big, { size })
      const receiver = curlReceiver(target(), big, ["--limit-rate", "5M"])
      const sender = curlSender(target(), big, source)
      const [sent, received] = await Promise.all([sender.result, receiver.result])
      expect({ sender: sent.code, receiver: received.code, bytes: received.bytes, sha: received.sha256 }).toEqual({
        sender: 0,
        receiver: 0,
        bytes: size,
        sha: source.digest.hex()
      })
      expect(sent.stdoutText).toContain("[INFO] All receiver(s) received successfully.\n")
    },
    60_000
  )

  it(
    "30 concurrent 3 MB curl senders with curl's own Expect: 100-continue: every response whole, every receiver intact",
    async () => {
      // Without our fix HAProxy 2.6 ended 5 to 15 of these senders' responses after their first line.
      const dir = mkdtempSync(join(tmpdir(), "pipe-expect-"))
      try {
        const file = join(dir, "body")
        const body = prngBytes(`expect-${seed}`, 3 * MB)
        writeFileSync(file, body)
        const paths = Array.from({ length: 30 }, (_, i) => `/expect-${seed}-${i}`)
        const senders = paths.map((path) => spawnCurl(["-T", file, `${target().url}${path}`]))
        await new Promise((resolve) => setTimeout(resolve, 1_500))
        const receivers = paths.map((path) => curlReceiver(target(), path))
        const results = await Promise.all(paths.map(async (path, i) => ({
          path,
          sender: await senders[i]?.result,
          receiver: await receivers[i]?.result
        })))
        const bad = results.filter(({ receiver, sender }) =>
          sender?.code !== 0 || !sender.stdoutText.includes("[INFO] All receiver(s) received successfully.\n") ||
          receiver?.sha256 !== sha256(body)
        ).map(({ path, sender }) => `${path}: ${JSON.stringify(sender?.stdoutText)}`)
        expect(bad).toEqual([])
      } finally {
        rmSync(dir, { recursive: true, force: true })
      }
    },
    60_000
  )

  it(
    "a waiting receiver killed behind HAProxy is withdrawn within seconds (option abortonclose): the next pair works",
    async () => {
      const path = `/left-${seed}`
      const receivers = async () => (await request(target().url, path, { method: "HEAD" })).headers["x-pipe-receivers"]
      const gone = curlReceiver(target(), path)
      await waitFor(async () => (await receivers()) === "1/1", { what: "the receiver waiting" })
      gone.kill()
      await gone.result
      const killed = performance.now()
      await waitFor(async () => (await receivers()) === "0/0", { what: "the receiver withdrawn", timeoutMs: 3_000 })
      console.log(`[cluster] killed waiting receiver withdrawn after ${(performance.now() - killed).toFixed(0)} ms`)
      const body = prngBytes(path, 64_000)
      const next = curlReceiver(target(), path)
      await waitFor(async () => (await receivers()) === "1/1", { what: "the next receiver waiting" })
      const sent = await curlSender(target(), path, body).result
      expect([sent.code, (await next.result).sha256]).toEqual([0, sha256(body)])
      // Every answer names its node, refusals too.
      const refused = await request(target().url, "/api/nothing-here")
      expect([refused.status, typeof refused.headers["x-pipe-node"]]).toEqual([404, "string"])
    },
    30_000
  )

  it("a 4th node moves at most 1/3 + 5 % of 1,000 keys, all to the new node", async () => {
    const fourth = await startNode("n4", ["--retention", "0s"])
    const wider = await startHaproxy([...nodes, fourth], { idleTimeout })
    try {
      const keys = Array.from({ length: 1_000 }, (_, i) => `/k${seed}-${i}`)
      const map = async (proxyTarget: Proxy["target"]) => {
        const out: Array<string | undefined> = []
        for (let i = 0; i < keys.length; i += 50) {
          out.push(...await Promise.all(keys.slice(i, i + 50).map((key) => nodeOf(proxyTarget, key))))
        }
        return out
      }
      const [three, four] = [await map(target()), await map(wider.target)]
      const moved = keys.filter((_, i) => three[i] !== four[i])
      const betweenOld = keys.filter((_, i) => three[i] !== four[i] && four[i] !== "n4")
      console.log(`[cluster] 3 -> 4 nodes: ${moved.length} of 1000 keys moved (${(moved.length / 10).toFixed(1)} %)`)
      expect(three.every((n) => n !== undefined) && four.every((n) => n !== undefined)).toBe(true)
      expect(moved.length).toBeLessThanOrEqual(1000 / 3 + 50)
      expect(moved.length, "the new node takes some").toBeGreaterThan(100)
      expect(betweenOld).toEqual([])
    } finally {
      await wider.stop()
      await fourth.server.stop()
    }
  }, 60_000)

  /** Paths on a given node, as HAProxy routes them. */
  const pathsOn = async (name: string, count: number, label: string) => {
    const found: Array<string> = []
    for (let i = 0; found.length < count && i < 500; i++) {
      const path = `/${label}-${seed}-${i}`
      if ((await nodeOf(target(), path)) === name) found.push(path)
    }
    return found
  }

  it("a node killed mid-transfer fails only its own transfers, visibly; its paths work again elsewhere", async () => {
    const size = 4 * MB
    const all = await Promise.all(nodes.map(async (n) => ({ n, paths: await pathsOn(n.name, 2, "kill") })))
    const transfers = all.flatMap(({ n, paths }) =>
      paths.map((path) => {
        const source = new PrngSource(path, { size, holdAt: MB })
        return {
          node: n.name,
          path,
          source,
          receiver: curlReceiver(target(), path),
          sender: curlSender(target(), path, source)
        }
      })
    )
    await Promise.all(transfers.map((t) => t.receiver.waitForBytes(MB)))
    const victim = node("n3")
    victim.server.kill("SIGKILL")
    await victim.server.exited
    for (const t of transfers) t.source.release()
    const results = await Promise.all(transfers.map(async (t) => ({ t, r: await t.receiver.result })))
    for (const { r, t } of results) {
      if (t.node === victim.name) expect(TRUNCATED, `${t.path} on the killed node`).toContain(r.code)
      else expect([t.path, r.code, r.sha256]).toEqual([t.path, 0, t.source.digest.hex()])
    }
    // Its paths: once HAProxy's check marks it down, they live on another node, and a transfer there works.
    const orphan = transfers.find((t) => t.node === victim.name)?.path ?? ""
    await waitFor(async () => {
      const now = await nodeOf(target(), orphan).catch(() => undefined)
      return now !== undefined && now !== victim.name
    }, { what: `${orphan} routed to a live node`, timeoutMs: 10_000 })
    const again = prngBytes(`${orphan}/again`, 2 * MB)
    const receiver = curlReceiver(target(), orphan)
    const sent = await curlSender(target(), orphan, again).result
    expect([sent.code, (await receiver.result).sha256]).toEqual([0, sha256(again)])
    nodes = nodes.filter((n) => n !== victim)
  }, 60_000)

  it(
    "SIGTERM (rolling restart): /healthz turns 503 draining, new paths go elsewhere, its running transfer finishes",
    async () => {
      const draining = node("n2")
      const [path, fresh] = await pathsOn("n2", 2, "drain")
      if (path === undefined || fresh === undefined) throw new Error("no path on n2")
      const size = 8 * MB
      const source = new PrngSource(path, { size, holdAt: MB })
      const receiver = curlReceiver(target(), path)
      const sender = curlSender(target(), path, source)
      await receiver.waitForBytes(MB)
      draining.server.kill("SIGTERM")
      await waitFor(async () => (await adminGet(draining, "/healthz")).status === 503, { what: "n2 draining" })
      expect(JSON.parse((await adminGet(draining, "/healthz")).text)).toMatchObject({
        status: "draining",
        transfers: 1
      })
      // HAProxy's check (1 s) takes n2 out: a new path that was n2's now lives elsewhere.
      await waitFor(async () => (await nodeOf(target(), fresh)) !== "n2", { what: `${fresh} moved off n2` })
      const body = prngBytes(fresh, MB)
      const freshReceiver = curlReceiver(target(), fresh)
      const freshSent = await curlSender(target(), fresh, body).result
      expect([freshSent.code, (await freshReceiver.result).sha256]).toEqual([0, sha256(body)])
      // The running transfer on n2 was left alone: it finishes intact, then n2 exits 0.
      source.release()
      const [sent, received] = await Promise.all([sender.result, receiver.result])
      expect([sent.code, received.code, received.bytes, received.sha256]).toEqual([0, 0, size, source.digest.hex()])
      expect(await within(draining.server.exited, 10_000, "n2 exits")).toEqual({ code: 0, signal: null })
      nodes = nodes.filter((n) => n !== draining)
    },
    60_000
  )
})
