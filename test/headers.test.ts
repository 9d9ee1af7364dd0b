// Headers and reserved routes: the HEAD probe (§2), receiver headers (§3), reserved paths (§1, §6), CORS (§7).
import { describe, expect, it } from "vitest"
import { headerValues, type Reply, request } from "./support/http.js"
import { holdReceiver, holdSender, holdStreaming } from "./support/parties.js"
import { healthz, pipePath, uniqueName, waitForNoPipes, waitForReceivers } from "./support/pipe.js"
import { useServer } from "./support/server.js"

// Trusting the loopback peer: the /help test plays a proxy (X-Forwarded-Proto is believed only from one, §11).
const server = useServer(["--retention", "0s", "--trust-proxy", "127.0.0.1/32"])
const url = (): string => server().url

/** One small transfer: a receiver (with `query`) waits, then a sender with `headers` sends `body`. */
const relay = async (
  headers: Readonly<Record<string, string | ReadonlyArray<string>>>,
  { query = "", body = "0123456789" }: { readonly query?: string; readonly body?: string } = {}
): Promise<Reply> => {
  const path = pipePath(uniqueName("headers"))
  const receiver = request(url(), `${path}${query}`)
  await waitForReceivers(server(), path, 1)
  const sender = await request(url(), path, { method: "PUT", headers, body })
  expect(sender.status).toBe(200)
  expect(sender.headers["access-control-allow-origin"]).toBe("*")
  expect(sender.headers["content-type"]).toMatch(/^text\/plain/)
  const reply = await receiver
  expect(reply.status).toBe(200)
  expect(reply.text).toBe(body)
  return reply
}

describe("HEAD status probe", () => {
  it("shows idle, waiting k/n and streaming, with no body, taking nothing", async () => {
    const path = pipePath(uniqueName("probe"))
    const idle = await request(url(), path, { method: "HEAD" })
    expect({ status: idle.status, state: idle.headers["x-pipe-state"], receivers: idle.headers["x-pipe-receivers"] })
      .toEqual({
        status: 200,
        state: "idle",
        receivers: expect.stringMatching(/^0\/[01]$/) // an idle path has no n yet (the snapshot says 0)
      })
    expect(idle.body.length).toBe(0)
    expect(idle.headers["access-control-allow-origin"]).toBe("*")

    const sender = await holdSender(server(), `${path}?n=2`)
    const waiting = await request(url(), path, { method: "HEAD" })
    expect([waiting.headers["x-pipe-state"], waiting.headers["x-pipe-receivers"]]).toEqual(["waiting", "0/2"])
    const first = await holdReceiver(server(), `${path}?n=2`, 1)
    const withProgress = await request(url(), `${path}?progress`, { method: "HEAD" })
    expect([withProgress.headers["x-pipe-state"], withProgress.headers["x-pipe-receivers"]]).toEqual(["waiting", "1/2"])
    expect(withProgress.body.length).toBe(0)

    const second = await holdReceiver(server(), `${path}?n=2`, 2)
    sender.req.end("both get this")
    for (const r of [first, second]) {
      const res = await r.response
      expect(res.statusCode).toBe(200)
    }
    await sender.lines.complete
    expect(sender.lines.text()).toContain("[INFO] All receiver(s) received successfully.\n")
    await waitForNoPipes(server())
  })

  it("shows streaming 1/1 during a transfer", async () => {
    const path = pipePath(uniqueName("probe-streaming"))
    const transfer = await holdStreaming(server(), path)
    const probe = await request(url(), path, { method: "HEAD" })
    expect([probe.status, probe.headers["x-pipe-state"], probe.headers["x-pipe-receivers"]]).toEqual([
      200,
      "streaming",
      "1/1"
    ])
    await transfer.finish()
  })

  it("HEAD on reserved paths: 200, no body", async () => {
    for (const path of ["/", "/version", "/healthz", "/robots.txt", "/help"]) {
      const reply = await request(url(), path, { method: "HEAD" })
      expect([path, reply.status, reply.body.length]).toEqual([path, 200, 0])
    }
  })
})

describe("receiver headers", () => {
  it("passes Content-Length through; a chunked sender gives a chunked receiver", async () => {
    const sized = await relay({ "content-length": "10" })
    expect(sized.headers["content-length"]).toBe("10")
    const path = pipePath(uniqueName("chunked"))
    const receiver = request(url(), path)
    await waitForReceivers(server(), path, 1)
    const sender = await holdSender(server(), path)
    sender.req.end("chunked body")
    const reply = await receiver
    expect(reply.text).toBe("chunked body")
    expect(reply.headers["content-length"]).toBeUndefined()
    expect(reply.headers["transfer-encoding"]).toBe("chunked")
  })

  it.each([
    "text/html",
    "application/xhtml+xml",
    "image/svg+xml",
    "text/javascript",
    "application/javascript",
    "text/xml",
    "application/xml"
  ])("rewrites script-capable %s to text/plain, parameters kept", async (type) => {
    expect((await relay({ "content-type": `${type}; charset=utf-8` })).headers["content-type"]).toBe(
      "text/plain; charset=utf-8"
    )
    expect((await relay({ "content-type": type })).headers["content-type"]).toBe("text/plain")
  })

  it("passes other types through and defaults to application/octet-stream", async () => {
    expect((await relay({ "content-type": "image/png" })).headers["content-type"]).toBe("image/png")
    expect((await relay({ "content-type": "text/plain; charset=utf-8" })).headers["content-type"]).toBe(
      "text/plain; charset=utf-8"
    )
    expect((await relay({})).headers["content-type"]).toBe("application/octet-stream")
  })

  it("relays every X-Piping value and exposes the header", async () => {
    const reply = await relay({ "x-piping": ["one", "two"] })
    const values = headerValues(reply, "x-piping").flatMap((v) => v.split(",").map((s) => s.trim()))
    expect(values).toEqual(["one", "two"])
    expect(headerValues(reply, "access-control-expose-headers").join(",")).toMatch(/(^|[\s,])X-Piping($|[\s,])/i)
  })

  it("always sends X-Robots-Tag: none, nosniff and CORS", async () => {
    const reply = await relay({ "content-type": "text/plain" })
    expect(reply.headers["x-robots-tag"]).toBe("none")
    expect(reply.headers["x-content-type-options"]).toBe("nosniff")
    expect(reply.headers["access-control-allow-origin"]).toBe("*")
  })

  it("passes the sender's Content-Disposition; download/filename override it", async () => {
    const disposition = "attachment; filename=\"from-sender.txt\""
    expect((await relay({ "content-disposition": disposition })).headers["content-disposition"]).toBe(disposition)
    const named = await relay({ "content-disposition": disposition }, { query: "?filename=report.txt" })
    expect(named.headers["content-disposition"]).toBe("attachment; filename=\"report.txt\"")
    const both = await relay({}, { query: "?download=1&filename=a.tar.gz" })
    expect(both.headers["content-disposition"]).toBe("attachment; filename=\"a.tar.gz\"")
    expect((await relay({}, { query: "?download=1" })).headers["content-disposition"]).toMatch(/^attachment\b/)
  })

  it("sanitises the filename", async () => {
    const reply = await relay({}, { query: `?filename=${encodeURIComponent("a\"b\\c;\r\nX-Evil: 1.txt")}` })
    expect(reply.headers["x-evil"]).toBeUndefined()
    expect(reply.headers["content-disposition"]).toMatch(/^attachment; filename="[^"\\\r\n]*"$/)
  })
})

describe("reserved paths", () => {
  it("/version is the semver, the same as /healthz's", async () => {
    const reply = await request(url(), "/version")
    expect(reply.status).toBe(200)
    expect(reply.text).toMatch(/^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?\n$/)
    expect(reply.text).toBe(`${(await healthz(server())).version}\n`)
    expect(reply.headers["access-control-allow-origin"]).toBe("*")
  })

  it("/robots.txt disallows everything", async () => {
    const reply = await request(url(), "/robots.txt")
    expect([reply.status, reply.text]).toEqual([200, "User-agent: *\nDisallow: /\n"])
    expect(reply.headers["access-control-allow-origin"]).toBe("*")
  })

  it("/favicon.ico is 204", async () => {
    const reply = await request(url(), "/favicon.ico")
    expect([reply.status, reply.body.length, reply.headers["access-control-allow-origin"]]).toEqual([204, 0, "*"])
  })

  it.each(["/healthz", "/api/v1/pipe/health"])("%s has the health shape", async (path) => {
    const reply = await request(url(), path)
    expect(reply.status).toBe(200)
    expect(reply.headers["content-type"]).toMatch(/^application\/json/)
    expect(reply.headers["access-control-allow-origin"]).toBe("*")
    const health: unknown = JSON.parse(reply.text)
    expect(health).toEqual({
      status: "ok",
      version: expect.stringMatching(/^\d+\.\d+\.\d+/),
      uptimeSec: expect.any(Number),
      pipes: expect.any(Number),
      transfers: expect.any(Number),
      spectators: expect.any(Number)
    })
  })

  it("/help is built from Host and X-Forwarded-Proto", async () => {
    const plain = await request(url(), "/help")
    expect(plain.status).toBe(200)
    expect(plain.text).toContain(`http://127.0.0.1:${server().port}/`)
    expect(plain.text).toContain("curl")
    const proxied = await request(url(), "/help", {
      headers: { host: "pipe.example.org", "x-forwarded-proto": "https" }
    })
    expect(proxied.text).toContain("https://pipe.example.org/")
  })

  it.each(["/", "/noscript"])("%s is an HTML page", async (path) => {
    const reply = await request(url(), path)
    expect(reply.status).toBe(200)
    expect(reply.headers["content-type"]).toMatch(/^text\/html/)
    expect(reply.text).toMatch(/<html/i)
  })

  it("/metrics is Prometheus text", async () => {
    const reply = await request(url(), "/metrics")
    expect(reply.status).toBe(200)
    expect(reply.headers["content-type"]).toMatch(/^text\/plain/)
    expect(reply.text).toMatch(/^# (HELP|TYPE) /m)
  })
})

describe("CORS preflight (§7)", () => {
  it.each([pipePath("x"), "/x", "/", "/healthz"])("OPTIONS %s", async (path) => {
    const reply = await request(url(), path, { method: "OPTIONS" })
    expect(reply.status).toBe(200)
    expect(reply.headers["access-control-allow-origin"]).toBe("*")
    expect(reply.headers["access-control-allow-methods"]).toBe("GET, HEAD, POST, PUT, OPTIONS")
    expect(reply.headers["access-control-allow-headers"]).toBe("Content-Type, Content-Disposition, X-Piping")
    expect(reply.headers["access-control-max-age"]).toBe("86400")
    const privateNetwork = await request(url(), path, {
      method: "OPTIONS",
      headers: {
        "access-control-request-private-network": "true",
        "access-control-request-method": "PUT",
        origin: "https://example.org"
      }
    })
    expect(privateNetwork.status).toBe(200)
    expect(privateNetwork.headers["access-control-allow-private-network"]).toBe("true")
  })

  it("OPTIONS takes nothing", async () => {
    await waitForNoPipes(server())
  })
})
