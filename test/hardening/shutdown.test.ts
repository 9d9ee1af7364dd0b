// Graceful shutdown (SIGTERM), a drain a balancer can follow (protocol §11): the server keeps listening,
// `/healthz` answers 503 `draining`, waiting parties get their 503 at once, running transfers go on for
// --shutdown-grace; then the listener closes and what is left ends visibly — receivers' connections destroyed (curl 18/56), the sender told
// `[ERROR] The server is shutting down.`, spectators `done` with ok:false and a cleanly ended stream, waiting
// parties a 503 — and exits 0. A transfer that finishes within the grace completes intact.
import { connect } from "node:net"
import { afterEach, describe, expect, it } from "vitest"
import { TRUNCATED } from "../support/curl.js"
import { PrngSource } from "../support/data.js"
import { watchPath } from "../support/hardening-sse.js"
import { BodyReader, openRequest, request } from "../support/http.js"
import { pipePath, uniqueName, waitForProbe, waitForReceivers } from "../support/pipe.js"
import { type ServerHandle, startServer } from "../support/server.js"
import { curlReceiver, curlSender } from "../support/transfer.js"
import { waitFor, within } from "../support/wait.js"

let current: ServerHandle | undefined
afterEach(async () => {
  // A failed test must not leave its server behind (stop() is a no-op once it has exited).
  await current?.stop()
  current = undefined
}, 20_000)

const start = async (flags: ReadonlyArray<string>): Promise<ServerHandle> => (current = await startServer(flags))

/** Resolves once `/healthz` answers 503 `draining`: the drain has begun, and the node still listens. */
const draining = (server: ServerHandle): Promise<boolean> =>
  waitFor(async () => {
    const reply = await request(server.url, "/healthz")
    return reply.status === 503 && (JSON.parse(reply.text) as { status: string }).status === "draining"
  }, { what: "/healthz 503 draining", timeoutMs: 5_000 })

/** Resolves once a new TCP connection to the port is refused: the listener is closed. */
const listenerClosed = (server: ServerHandle): Promise<boolean> =>
  waitFor(
    () =>
      new Promise<boolean>((resolve) => {
        const socket = connect(server.port, "127.0.0.1")
        socket.once("connect", () => {
          socket.destroy()
          resolve(false)
        })
        socket.once("error", (error: NodeJS.ErrnoException) => resolve(error.code === "ECONNREFUSED"))
      }),
    { what: "the listener closed (ECONNREFUSED)", timeoutMs: 5_000 }
  )

describe("SIGTERM", () => {
  it(
    "with --shutdown-grace 1s: a stuck transfer is aborted visibly after the grace, a waiting receiver gets 503, exit 0",
    async () => {
      const server = await start(["--retention", "0s", "--shutdown-grace", "1s"])
      const path = pipePath(uniqueName("shutdown"))
      const spectator = await watchPath(server, path)
      await spectator.firstState
      const receiver = curlReceiver(server, path)
      await waitForReceivers(server, path, 1)
      // The sender in this process: it sends one chunk and then nothing, so the transfer cannot finish by itself.
      const { req, response } = openRequest(server.url, path, { method: "PUT" })
      req.flushHeaders()
      const senderRes = await within(response, 5_000, "sender head")
      const senderLines = new BodyReader(senderRes)
      req.write(Buffer.alloc(256 * 1024, 7))
      await receiver.waitForBytes(256 * 1024)
      await waitForProbe(server, path, (p) => p.state === "streaming", "streaming")

      // A receiver waiting on another path.
      const otherPath = pipePath(uniqueName("shutdown-waiting"))
      const waiting = openRequest(server.url, otherPath)
      waiting.req.end()
      await waitForReceivers(server, otherPath, 1)

      const signalled = performance.now()
      server.kill("SIGTERM")
      await draining(server)

      // At once, not after the grace: its client retries on the node that takes the path next.
      const waitingRes = await within(waiting.response, 5_000, "the waiting receiver's answer")
      const waitingAfter = (performance.now() - signalled) / 1000
      const waitingBody = (await new BodyReader(waitingRes).complete).toString("utf8")
      expect({ status: waitingRes.statusCode, body: waitingBody, retryAfter: waitingRes.headers["retry-after"] })
        .toEqual({ status: 503, body: "[ERROR] The server is shutting down.\n", retryAfter: "5" })
      expect(waitingAfter, "the waiting receiver was answered before the grace ran out").toBeLessThan(0.9)
      // A new pipe request during the drain: the same 503, distinct from a full server's.
      const late = await request(server.url, pipePath(uniqueName("shutdown-new")), { method: "PUT", body: "x" })
      expect([late.status, late.text]).toEqual([503, "[ERROR] The server is shutting down.\n"])

      const done = await within(spectator.done, 5_000, "the spectator's done")
      const doneAfter = (performance.now() - signalled) / 1000
      expect(done).toMatchObject({ ok: false, bytes: 256 * 1024 })
      expect(done.error).toMatch(/shutting down/i)
      expect(doneAfter, "the transfer was given its grace before being aborted").toBeGreaterThanOrEqual(0.9)
      expect(await within(spectator.ended, 5_000, "the spectator's stream end")).toBe("end")
      // Past the grace the listener closes.
      await listenerClosed(server)

      const got = await within(receiver.result, 5_000, "the receiver's exit")
      expect(TRUNCATED).toContain(got.code)
      expect(got.bytes).toBe(256 * 1024)

      await senderLines.complete.catch(() => {}) // how the socket closes after the last line is not the point
      expect(senderLines.text()).toMatch(/\[ERROR\] The server is shutting down\.\n$/)
      expect(senderLines.text()).not.toContain("Sent successfully")

      const exit = await within(server.exited, 6_000, "exit within grace + 5 s")
      const exitAfter = (performance.now() - signalled) / 1000
      console.log(
        `[shutdown] grace 1s: spectator done after ${doneAfter.toFixed(2)} s, exit after ${exitAfter.toFixed(2)} s`
      )
      expect(exit).toEqual({ code: 0, signal: null })
      expect(exitAfter).toBeLessThan(6)
    },
    30_000
  )

  it("a transfer that finishes within the grace completes intact, then the server exits 0", async () => {
    const server = await start(["--retention", "0s", "--shutdown-grace", "10s"])
    const path = pipePath(uniqueName("shutdown-finish"))
    const size = 20_000_000
    const spectator = await watchPath(server, path)
    await spectator.firstState
    const source = new PrngSource(path, { size, holdAt: 1_000_000 })
    const receiver = curlReceiver(server, path)
    await waitForReceivers(server, path, 1)
    const sender = curlSender(server, path, source)
    await receiver.waitForBytes(1_000_000)

    const signalled = performance.now()
    server.kill("SIGTERM")
    await draining(server) // the drain has begun: only now does the rest of the body flow
    source.release()
    const [sent, received] = await Promise.all([sender.result, receiver.result])
    expect({ sender: sent.code, receiver: received.code, bytes: received.bytes, sha256: received.sha256 }).toEqual({
      sender: 0,
      receiver: 0,
      bytes: size,
      sha256: source.digest.hex()
    })
    expect(sent.stdoutText).toContain("[INFO] All receiver(s) received successfully.\n")
    expect(await within(spectator.done, 5_000, "done")).toMatchObject({ ok: true, bytes: size, error: null })
    expect(await within(spectator.ended, 5_000, "the spectator's stream end")).toBe("end")
    const finished = performance.now()

    // Nothing left to wait for: the server exits well before the 10 s grace is over.
    const exit = await within(server.exited, 5_000, "exit after the last transfer")
    console.log(
      `[shutdown] grace 10s: transfer finished ${
        ((finished - signalled) / 1000).toFixed(2)
      } s after SIGTERM, exit after ${((performance.now() - signalled) / 1000).toFixed(2)} s`
    )
    expect(exit).toEqual({ code: 0, signal: null })
  }, 30_000)
})

describe("SIGTERM with --sender-status late", () => {
  it("a waiting sender has been told nothing yet, so the drain answers it with a real 503", async () => {
    const server = await start(["--retention", "0s", "--sender-status", "late"])
    const path = pipePath(uniqueName("shutdown-late"))
    const { req, response } = openRequest(server.url, path, { method: "PUT", headers: { "content-length": "6" } })
    req.end("hello\n")
    await waitForProbe(server, path, (p) => p.state === "waiting", "the sender waiting")
    server.kill("SIGTERM")
    const res = await within(response, 5_000, "the waiting sender's answer")
    const body = (await new BodyReader(res).complete).toString("utf8")
    expect([res.statusCode, body, res.headers["retry-after"]]).toEqual([
      503,
      "[ERROR] The server is shutting down.\n",
      "5"
    ])
    expect(await within(server.exited, 5_000, "exit")).toEqual({ code: 0, signal: null })
  }, 30_000)
})
