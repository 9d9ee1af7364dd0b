// Abuse limits (issue 16, protocol §11-§12): --max-connections-per-ip counted on the real client address, which
// honours X-Forwarded-For only from a --trust-proxy peer; --max-transfer-bytes cuts a transfer visibly, seen with
// real curl on both sides and a real SSE spectator; both in /metrics by reason. Only loopback is ever a target,
// so proxies are played by the test's own headers.
import { readFileSync } from "node:fs"
import { describe, expect, it } from "vitest"
import { TRUNCATED } from "./support/curl.js"
import { PrngSource } from "./support/data.js"
import { request } from "./support/http.js"
import type { HeldSender } from "./support/parties.js"
import { holdSender } from "./support/parties.js"
import { pipePath, uniqueName } from "./support/pipe.js"
import type { ServerHandle } from "./support/server.js"
import { useServer } from "./support/server.js"
import { ofKind, openSse } from "./support/sse.js"
import { curlReceiver, curlSender } from "./support/transfer.js"
import { waitFor } from "./support/wait.js"

const limitLine = "[ERROR] Too many connections from your address (limit 2).\n"

/** A sender that waits (its 200 and first line are in), as a client behind `forwardedFor`. */
const hold = (server: ServerHandle, forwardedFor: string): Promise<HeldSender> =>
  holdSender(server, pipePath(uniqueName("ip")), { "x-forwarded-for": forwardedFor })

const refusedAs = async (server: ServerHandle, forwardedFor: string) => {
  const reply = await request(server.url, pipePath(uniqueName("ip")), {
    method: "PUT",
    headers: { "x-forwarded-for": forwardedFor },
    body: "x"
  })
  return [reply.status, reply.text]
}

const release = async (held: ReadonlyArray<HeldSender>) => {
  for (const sender of held) sender.req.destroy()
}

const metric = async (server: ServerHandle, line: RegExp): Promise<number> => {
  const text = (await request(server.url, "/metrics")).text
  const match = line.exec(text)
  return match?.[1] === undefined ? 0 : Number(match[1])
}

describe("--max-connections-per-ip 2, no --trust-proxy", () => {
  const server = useServer(["--max-connections-per-ip", "2", "--retention", "0s"])

  it("a spoofed X-Forwarded-For changes nothing: every request is the socket's peer", async () => {
    const held = [await hold(server(), "198.51.100.1"), await hold(server(), "198.51.100.2")]
    expect(await refusedAs(server(), "198.51.100.3")).toEqual([429, limitLine])
    expect(await refusedAs(server(), "198.51.100.1, 203.0.113.9")).toEqual([429, limitLine])
    // Reserved pages are not pipe requests: never counted, never refused.
    expect((await request(server().url, "/healthz")).status).toBe(200)
    await release(held)
    // A slot is given back when its response closes.
    await waitFor(async () => (await request(server().url, "/metrics")).text.includes("pipe_waiting_parties 0"), {
      what: "the released senders gone"
    })
    await release([await hold(server(), "198.51.100.3"), await hold(server(), "198.51.100.4")])
    expect(await metric(server(), /pipe_limit_hits_total\{reason="max_connections_per_ip"\} (\d+)/)).toBe(2)
    expect(await metric(server(), /pipe_rejected_requests_total\{reason="TooManyConnections"\} (\d+)/)).toBe(2)
  })
})

describe("--max-connections-per-ip 2 --trust-proxy 127.0.0.1/32", () => {
  const server = useServer(["--max-connections-per-ip", "2", "--trust-proxy", "127.0.0.1/32", "--retention", "0s"])

  it("the client is the rightmost untrusted hop of X-Forwarded-For: each client has its own count", async () => {
    const held = [await hold(server(), "198.51.100.1"), await hold(server(), "198.51.100.1")]
    expect(await refusedAs(server(), "198.51.100.1")).toEqual([429, limitLine])
    // Another client through the same proxy is not held back by the first one.
    held.push(await hold(server(), "198.51.100.2"))
    // What a client writes left of the hop our proxy appended proves nothing: this is still 198.51.100.1.
    expect(await refusedAs(server(), "10.9.9.9, 198.51.100.1")).toEqual([429, limitLine])
    // A chain through another trusted hop (the loopback proxy twice) reaches the client before it.
    expect(await refusedAs(server(), "198.51.100.1, 127.0.0.1")).toEqual([429, limitLine])
    // IPv4-mapped IPv6 is the same address.
    expect(await refusedAs(server(), "::ffff:198.51.100.1")).toEqual([429, limitLine])
    await release(held)
  })

  it("the transfer's log line names the sender's real client", async () => {
    const path = pipePath(uniqueName("logged"))
    const received = request(server().url, path)
    await waitFor(
      async () => (await request(server().url, path, { method: "HEAD" })).headers["x-pipe-receivers"] === "1/1",
      {
        what: "the receiver waiting"
      }
    )
    await request(server().url, path, { method: "PUT", headers: { "x-forwarded-for": "198.51.100.77" }, body: "x" })
    expect((await received).text).toBe("x")
    await waitFor(() => readFileSync(server().logFile, "utf8").includes("\"client\":\"198.51.100.77\""), {
      what: "the transfer's log line with the client"
    })
  })
})

describe("--max-transfer-bytes 1000000", () => {
  const limit = 1_000_000
  const server = useServer(["--max-transfer-bytes", String(limit), "--retention", "5s"])

  it("a transfer of the limit exactly goes through", async () => {
    const path = pipePath(uniqueName("at-limit"))
    const receiver = curlReceiver(server(), path)
    const sender = curlSender(server(), path, new PrngSource(path, { size: limit }))
    const [received, sent] = await Promise.all([receiver.result, sender.result])
    expect(received.code).toBe(0)
    expect(received.bytes).toBe(limit)
    expect(sent.stdoutText).toContain("[INFO] All receiver(s) received successfully.")
  })

  it("past it, the transfer is cut visibly: receiver's curl fails, sender reads why, spectators see ok false", async () => {
    const path = pipePath(uniqueName("over-limit"))
    const spectator = openSse(server(), `${path}?progress`)
    await spectator.next((e) => e.event === "state", "the first state")
    const receivers = [curlReceiver(server(), `${path}?n=2`), curlReceiver(server(), `${path}?n=2`)]
    await waitFor(
      async () => (await request(server().url, path, { method: "HEAD" })).headers["x-pipe-receivers"] === "2/2",
      {
        what: "two receivers waiting"
      }
    )
    const sender = curlSender(server(), `${path}?n=2`, new PrngSource(path, { size: 8 * limit }))
    const sent = await sender.result
    expect(sent.stdoutText).toMatch(/\[ERROR\] The transfer exceeded the limit of 1000000 bytes\.\n$/)
    for (const receiver of receivers) {
      const received = await receiver.result
      expect(TRUNCATED).toContain(received.code)
      expect(received.bytes).toBeLessThanOrEqual(limit)
    }
    const done = await spectator.next((e) => e.event === "done", "done")
    expect(done.event).toMatchObject({
      ok: false,
      error: "The transfer exceeded the limit of 1000000 bytes."
    })
    expect(ofKind(spectator.events, "done")).toHaveLength(1)
    spectator.close()
    expect(await metric(server(), /pipe_limit_hits_total\{reason="max_transfer_bytes"\} (\d+)/)).toBe(1)
    expect(await metric(server(), /pipe_transfers_aborted_total (\d+)/)).toBe(1)
  })
})
