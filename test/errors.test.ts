// Every error row of protocol §1, §2 and §3 (and the §8 limits), with exact status and body.
import { describe, expect, it } from "vitest"
import { curl } from "./support/curl.js"
import { type Reply, request } from "./support/http.js"
import { finishReceivers, finishSender, holdReceiver, holdSender, holdStreaming } from "./support/parties.js"
import { healthz, pipePath, uniqueName, waitForNoPipes } from "./support/pipe.js"
import { useServer } from "./support/server.js"
import { waitFor } from "./support/wait.js"

/** Asserts a plain-text reply: status, exact body, text/plain, CORS. */
const expectText = (reply: Reply, status: number, body: string): void => {
  expect({ status: reply.status, body: reply.text }).toEqual({ status, body })
  expect(reply.headers["content-type"]).toMatch(/^text\/plain/)
  expect(reply.headers["access-control-allow-origin"]).toBe("*")
}

describe("errors", () => {
  const server = useServer(["--retention", "0s"])
  const url = (): string => server().url
  const send = (path: string, headers: Readonly<Record<string, string>> = {}): Promise<Reply> =>
    request(url(), path, { method: "PUT", headers, body: "payload" })

  describe("§1 invalid pipe paths → 400 (validated as sent, before any normalisation)", () => {
    const long = "a".repeat(513)
    const invalid = [
      "/api/v1/pipe/a//b",
      "/api/v1/pipe/a/",
      "/api/v1/pipe/.",
      "/api/v1/pipe/..",
      "/api/v1/pipe/a/./b",
      "/api/v1/pipe/a/../b",
      "/api/v1/pipe/%2e%2e",
      "/api/v1/pipe/%2E%2e/b",
      "/api/v1/pipe/a/%2e%2e/b",
      "/api/v1/pipe/a/%2e",
      "/api/v1/pipe/a%20b",
      "/api/v1/pipe/a*b",
      "/api/v1/pipe/a%00b",
      "/api/v1/pipe/caf%C3%A9",
      `/api/v1/pipe/${long}`,
      "/a//b",
      "/..",
      "/a/../b",
      "/%2e%2e",
      "/a%2fb%2f..",
      `/${long}`
    ]
    it.each(invalid.flatMap((path) => [["GET", path] as const, ["PUT", path] as const]))(
      "%s %s",
      async (method, path) => {
        const reply = await request(url(), path, method === "PUT" ? { method, body: "payload" } : { method })
        expectText(reply, 400, "[ERROR] Invalid pipe path.\n")
      }
    )

    it("curl --path-as-is /api/v1/pipe/a/../b → 400", async () => {
      const result = await curl(["--path-as-is", `${url()}/api/v1/pipe/a/../b`])
      expect({ status: result.head?.status, body: result.stdoutText }).toEqual({
        status: 400,
        body: "[ERROR] Invalid pipe path.\n"
      })
    })

    it("accepts a 512-byte name and multi-segment names (boundary)", async () => {
      for (const name of ["a".repeat(512), "a/b.c/d~e-f_G9", "...a", "-"]) {
        const reply = await request(url(), pipePath(name), { method: "HEAD" })
        expect(reply.status, name).toBe(200)
        expect(reply.headers["x-pipe-state"], name).toBe("idle")
      }
    })
  })

  describe("§1 reserved paths and unknown routes", () => {
    const reserved = [
      "/",
      "/noscript",
      "/help",
      "/version",
      "/healthz",
      "/api/v1/pipe/health",
      "/metrics",
      "/favicon.ico",
      "/robots.txt"
    ]
    it.each(reserved.flatMap((path) => [["PUT", path] as const, ["POST", path] as const]))(
      "%s %s → 400",
      async (method, path) => {
        const reply = await request(url(), path, { method, body: "payload" })
        expectText(reply, 400, `[ERROR] Cannot send to the reserved path '${path}'.\n`)
      }
    )

    it.each(["/api/", "/api/v1", "/api/v2/pipe/x", "/api/v1/other/x", "/api/nothing"])("GET %s → 404", async (path) => {
      expectText(await request(url(), path), 404, "[ERROR] Not found.\n")
    })

    it("PUT on an unknown /api/ route → 404", async () => {
      expectText(await send("/api/v2/pipe/x"), 404, "[ERROR] Not found.\n")
    })
  })

  describe("§2 methods", () => {
    it.each(
      ["DELETE", "PATCH", "PROPFIND"].flatMap((
        m
      ) => [[m, pipePath("x")] as const, [m, "/x"] as const, [m, "/"] as const])
    )("%s %s → 405 with Allow", async (method, path) => {
      const reply = await request(url(), path, { method })
      expectText(reply, 405, `[ERROR] Unsupported method: ${method}.\n`)
      expect(reply.headers["allow"]).toBe("GET, HEAD, POST, PUT, OPTIONS")
    })
  })

  describe("§2 the n parameter", () => {
    const roles = [
      ["sender", "PUT"],
      ["receiver", "GET"]
    ] as const
    const bad = ["abc", "1.5", "%2B2", "-1", "1e1", "0x2", "", "2a", "%202"]
    it.each(roles.flatMap(([role, method]) => bad.map((n) => [role, n, method] as const)))(
      "%s with n=%s → 400 invalid",
      async (_role, n, method) => {
        const path = `${pipePath(uniqueName("bad-n"))}?n=${n}`
        const reply = await request(url(), path, method === "PUT" ? { method, body: "payload" } : { method })
        expectText(reply, 400, "[ERROR] Invalid query parameter \"n\".\n")
      }
    )

    it.each(roles.flatMap(([role, method]) => ["0", "257", "1000"].map((n) => [role, n, method] as const)))(
      "%s with n=%s → 400 out of range",
      async (_role, n, method) => {
        const path = `${pipePath(uniqueName("range-n"))}?n=${n}`
        const reply = await request(url(), path, method === "PUT" ? { method, body: "payload" } : { method })
        expectText(reply, 400, `[ERROR] n must be between 1 and 256, but n = ${n}.\n`)
      }
    )

    it("n mismatch with a waiting sender → 400 (receiver n=3 vs sender n=2; receiver without n)", async () => {
      const path = pipePath(uniqueName("mismatch-s"))
      const sender = await holdSender(server(), `${path}?n=2`)
      expectText(await request(url(), `${path}?n=3`), 400, "[ERROR] The number of receivers should be 2 but 3.\n")
      expectText(await request(url(), path), 400, "[ERROR] The number of receivers should be 2 but 1.\n")
      await finishSender(server(), sender, path, 2)
      await waitForNoPipes(server())
    })

    it("n mismatch with waiting receivers → 400 (sender n=1 vs receivers n=2; a second receiver n=3)", async () => {
      const path = pipePath(uniqueName("mismatch-r"))
      const receiver = await holdReceiver(server(), `${path}?n=2`)
      expectText(await send(`${path}?n=1`), 400, "[ERROR] The number of receivers should be 2 but 1.\n")
      expectText(await send(path), 400, "[ERROR] The number of receivers should be 2 but 1.\n")
      expectText(await request(url(), `${path}?n=3`), 400, "[ERROR] The number of receivers should be 2 but 3.\n")
      const second = await holdReceiver(server(), `${path}?n=2`, 2)
      await finishReceivers(server(), [receiver, second], path, 2)
      await waitForNoPipes(server())
    })
  })

  describe("§3 conflicts", () => {
    it.each(
      [
        ["canonical", (n: string) => pipePath(n), (n: string) => pipePath(n)],
        ["bare", (n: string) => `/${n}`, (n: string) => `/${n}`],
        ["bare then canonical", (n: string) => `/${n}`, (n: string) => pipePath(n)],
        ["canonical then bare", (n: string) => pipePath(n), (n: string) => `/${n}`]
      ] as const
    )("second sender while one waits → 409 naming the path as sent (%s)", async (_label, first, second) => {
      const name = uniqueName("second-sender")
      const sender = await holdSender(server(), first(name))
      expectText(await send(second(name)), 409, `[ERROR] Another sender has been connected on '${second(name)}'.\n`)
      await finishSender(server(), sender, second(name))
      await waitForNoPipes(server())
    })

    it("a receiver beyond n → 409 (n=1 and n=2)", async () => {
      const one = pipePath(uniqueName("full-1"))
      const r1 = await holdReceiver(server(), one)
      expectText(await request(url(), one), 409, "[ERROR] The number of receivers has reached limits.\n")
      const two = pipePath(uniqueName("full-2"))
      const r2a = await holdReceiver(server(), `${two}?n=2`, 1)
      const r2b = await holdReceiver(server(), `${two}?n=2`, 2)
      expectText(await request(url(), `${two}?n=2`), 409, "[ERROR] The number of receivers has reached limits.\n")
      await finishReceivers(server(), [r1], one)
      await finishReceivers(server(), [r2a, r2b], two, 2)
      await waitForNoPipes(server())
    })

    it.each(
      [
        ["canonical", (n: string) => pipePath(n)],
        ["bare", (n: string) => `/${n}`]
      ] as const
    )("sender or receiver on a streaming path → 409 established (%s)", async (_label, form) => {
      const path = form(uniqueName("established"))
      const transfer = await holdStreaming(server(), path)
      const established = `[ERROR] Connection on '${path}' has been established already.\n`
      expectText(await request(url(), path), 409, established)
      expectText(await send(path), 409, established)
      await transfer.finish()
      expect(transfer.receiver.text()).toBe("first chunk\n")
    })

    it("Content-Range on a sender → 400", async () => {
      const reply = await send(pipePath(uniqueName("range")), { "content-range": "bytes 0-6/7" })
      expectText(reply, 400, "[ERROR] Content-Range is not supported.\n")
    })

    it("GET with Service-Worker: script → 400", async () => {
      const reply = await request(url(), pipePath(uniqueName("sw")), { headers: { "service-worker": "script" } })
      expectText(reply, 400, "[ERROR] Service Worker registration is rejected.\n")
    })

    it("no rejected request left a pipe behind", async () => {
      await waitForNoPipes(server())
    })
  })
})

describe("--max-pipes 2", () => {
  const server = useServer(["--max-pipes", "2", "--retention", "0s"])

  it("answers 503 for a third new path, and accepts it again once a pipe is gone", async () => {
    const [a, b, c] = [1, 2, 3].map((i) => pipePath(uniqueName(`max-pipes-${i}`))) as [string, string, string]
    const ra = await holdReceiver(server(), a)
    const rb = await holdReceiver(server(), b)
    expect((await healthz(server())).pipes).toBe(2)
    const refused = await request(server().url, c)
    expect(refused.status).toBe(503)
    expect(refused.text).toMatch(/^\[ERROR\] .*\n$/)
    expect(refused.headers["access-control-allow-origin"]).toBe("*")
    expect((await request(server().url, c, { method: "PUT", body: "x" })).status).toBe(503)
    await finishReceivers(server(), [ra], a)
    await waitFor(async () => (await healthz(server())).pipes === 1, { what: "pipe a to be freed" })
    const rc = await holdReceiver(server(), c)
    await finishReceivers(server(), [rb], b)
    await finishReceivers(server(), [rc], c)
    await waitForNoPipes(server())
  })
})

describe("--wait-timeout 1s", () => {
  const server = useServer(["--wait-timeout", "1s", "--retention", "0s"])
  const timedOut = "[ERROR] Timed out waiting for the other side.\n"

  it("a waiting receiver gets 408", async () => {
    const started = Date.now()
    const reply = await request(server().url, pipePath(uniqueName("timeout-r")))
    expectText(reply, 408, timedOut)
    expect(Date.now() - started).toBeGreaterThanOrEqual(900)
    await waitForNoPipes(server())
  })

  it("a waiting sender gets the timeout line in its 200 body and the response ends", async () => {
    const started = Date.now()
    const reply = await request(server().url, pipePath(uniqueName("timeout-s")), { method: "PUT", body: "payload" })
    expect(reply.status).toBe(200)
    // Its body is all here, yet it still gets the keepalive line every second (issue 14: a proxy's idle timeout
    // would cut it otherwise), so one may come before the timeout's line.
    expect(reply.text.replace(/^(\[INFO\] Waiting for 1 receiver\(s\)\.\.\.\n)\n*/, "$1"))
      .toBe(`[INFO] Waiting for 1 receiver(s)...\n${timedOut}`)
    expect(Date.now() - started).toBeGreaterThanOrEqual(900)
    await waitForNoPipes(server())
  })
})
