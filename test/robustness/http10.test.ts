// HTTP/1.0 (robustness spec): the HTTP/1.0 checks of piping-server-check (post_first, put, get_first,
// post_cancel_post, get_cancel_get, simultaneous_request, service_worker_registration_rejection), ported to
// `curl --http1.0` and raw sockets sending `HTTP/1.0` request lines, plus the 1.0 rules of the spec: every
// answer to a 1.0 request has the status line `HTTP/1.0 …`; a 1.0 sender's response is held and sent whole
// at the end with Content-Length (all its [INFO] lines); a 1.0 receiver of a chunked sender gets the body
// close-delimited (no chunked framing), and a broken one is reset. (A client that half-closes is taken as
// gone, as by piping-server: a killed client's FIN must free its slot.)
import { describe, expect, it } from "vitest"
import { type CurlProcess, type CurlResult, header, spawnCurl } from "../support/curl.js"
import { prngBytes, PrngSource } from "../support/data.js"
import { sha256 } from "../support/hash.js"
import { pipePath, snapshot, uniqueName, waitForProbe, waitForReceivers } from "../support/pipe.js"
import { headValue, RawClient, rawRequest, showBytes } from "../support/robustness-raw.js"
import { useServerPerTest } from "../support/server.js"
import { curlSender, expectNothingLeft } from "../support/transfer.js"
import { waitFor } from "../support/wait.js"

// A fresh server per test: a check that fails cannot leave a waiting party behind for the next one.
const server = useServerPerTest(["--retention", "0s"])

const MESSAGE = "my message"
const VERSION = /@@http_version=(\S+)/

/** `curl --http1.0 …`, with the response's HTTP version written to stderr (`%{http_version}`: "1.0"). */
const curl10 = (args: ReadonlyArray<string>, stdin?: Buffer | string): CurlProcess =>
  spawnCurl(
    ["--http1.0", "-w", "%{stderr}@@http_version=%{http_version}\\n", ...args],
    stdin === undefined ? {} : { stdin }
  )

/** curl writes `%{http_version}` "1" for an HTTP/1.0 response (tool_writeout.c), "1.1" for 1.1. */
const versionOf = (result: CurlResult): string | undefined => {
  const v = VERSION.exec(result.stderr)?.[1]
  return v === "1" ? "1.0" : v
}

const url = (path: string): string => `${server().url}${path}`

/** A 1.0 sender with a Content-Length body (`--data-binary`), POST or PUT, `Content-Type: text/plain`. */
const sender10 = (method: "POST" | "PUT", path: string, body: string | Buffer = MESSAGE): CurlProcess =>
  curl10(["-X", method, "--data-binary", "@-", "-H", "Content-Type: text/plain", url(path)], body)

const receiver10 = (path: string, extra: ReadonlyArray<string> = []): CurlProcess => curl10([...extra, url(path)])

/** The sender is waiting on the path (the JSON snapshot says so): it has joined. */
const waitForSender = (path: string): Promise<unknown> =>
  waitFor(async () => (await snapshot(server(), path)).sender, { what: `the sender waiting on ${path}` })

/** The sender's response lines, in order, as the protocol (§3) words them. */
const expectSenderLines = (text: string, receiverFirst: boolean): void => {
  const lines = [
    "[INFO] Waiting for 1 receiver(s)...\n",
    receiverFirst ? "[INFO] 1 receiver(s) has/have been connected.\n" : "[INFO] A receiver was connected.\n",
    "[INFO] Start sending to 1 receiver(s)!\n",
    "[INFO] Sent successfully!\n",
    "[INFO] All receiver(s) received successfully.\n"
  ]
  let at = 0
  for (const line of lines) {
    const found = text.indexOf(line, at)
    expect(found, `${JSON.stringify(line)} (in order) in the sender's response ${JSON.stringify(text)}`)
      .toBeGreaterThanOrEqual(0)
    at = found + line.length
  }
}

/** A whole 1.0 sender answer read with curl: HTTP/1.0 200, read to EOF, Content-Length = the bytes read. */
const expectWholeSenderAnswer = (sent: CurlResult, receiverFirst: boolean): void => {
  expect({ code: sent.code, version: versionOf(sent), status: sent.head?.status }).toEqual({
    code: 0,
    version: "1.0",
    status: 200
  })
  expect(header(sent.head, "content-length"), "the held 1.0 sender answer carries Content-Length").toBe(
    String(sent.bytes)
  )
  expect(header(sent.head, "transfer-encoding")).toBeUndefined()
  expectSenderLines(sent.stdoutText, receiverFirst)
}

/** A 1.0 receiver read with curl: HTTP/1.0 200, the sender's Content-Type, X-Robots-Tag: none, the exact body. */
const expectReceived = (got: CurlResult, body: string | Buffer): void => {
  expect({ code: got.code, version: versionOf(got), status: got.head?.status }).toEqual({
    code: 0,
    version: "1.0",
    status: 200
  })
  expect(header(got.head, "content-type"), "content_type_forwarding").toBe("text/plain")
  expect(header(got.head, "x-robots-tag"), "x_robots_tag_none").toBe("none")
  expect(header(got.head, "content-length")).toBe(String(Buffer.byteLength(body)))
  expect(got.sha256, "transferred").toBe(sha256(Buffer.from(body)))
}

/** A raw HTTP/1.0 request. */
const raw10 = (
  method: string,
  path: string,
  headers: ReadonlyArray<readonly [string, string]> = [],
  body?: Buffer
): Buffer =>
  rawRequest(
    `${method} ${path} HTTP/1.0`,
    [
      ["Host", `127.0.0.1:${server().port}`],
      ...headers,
      ...(body === undefined ? [] : [["Content-Length", String(body.length)] as const])
    ],
    body
  )

const STEP_MS = 10_000

describe("HTTP/1.0: piping-server-check's checks over --http1.0", () => {
  for (const method of ["POST", "PUT"] as const) {
    it(`${method === "POST" ? "post_first" : "put"}: the held sender answer, a second sender refused, the receiver's headers and body, path reuse`, async () => {
      const path = pipePath(uniqueName(`h10-${method.toLowerCase()}`))
      for (const round of [1, 2]) {
        const sender = sender10(method, path)
        await waitForSender(path)
        // The 1.0 answer is held: not a byte (not even the status line) while the sender waits.
        expect(sender.bytes, `round ${round}: nothing of the held answer yet`).toBe(0)

        // same_path_sender_rejection: 4xx, as a 1.0 answer.
        const second = await sender10(method, path, "intruder").result
        expect(versionOf(second), "the refusal of a 1.0 request is HTTP/1.0").toBe("1.0")
        expect(second.head?.status ?? 0, `round ${round}: a second sender while one waits`).toBeGreaterThanOrEqual(400)
        expect(second.head?.status ?? 0).toBeLessThan(500)
        expect(second.stdoutText).toBe(`[ERROR] Another sender has been connected on '${path}'.\n`)

        const got = await receiver10(path).result
        expectReceived(got, MESSAGE)
        expectWholeSenderAnswer(await sender.result, false)
      }
      await expectNothingLeft(server())
    })
  }

  it("get_first: a 1.0 receiver waits, a 1.0 sender comes, the body arrives", async () => {
    const path = pipePath(uniqueName("h10-get-first"))
    const receiver = receiver10(path)
    await waitForReceivers(server(), path, 1)
    const sender = sender10("POST", path)
    expectReceived(await receiver.result, MESSAGE)
    expectWholeSenderAnswer(await sender.result, true)
    await expectNothingLeft(server())
  })

  it("post_cancel_post: a 1.0 POST cancelled before any receiver frees the path within 1 s; a new POST is accepted and works", async () => {
    const path = pipePath(uniqueName("h10-post-cancel"))
    const cancelled = sender10("POST", path, "cancelled message")
    await waitForSender(path)
    cancelled.kill("SIGKILL")
    await cancelled.result
    // piping-server-check posts again after 1 s: by then the server must have let the cancelled one go.
    await waitFor(async () => !(await snapshot(server(), path)).sender, {
      what: "the cancelled sender gone",
      timeoutMs: 1_000
    })
    const sender = sender10("POST", path)
    await waitForSender(path)
    expectReceived(await receiver10(path).result, MESSAGE)
    expectWholeSenderAnswer(await sender.result, false)
    await expectNothingLeft(server())
  })

  it("get_cancel_get: a 1.0 GET cancelled while waiting frees the path within 1 s; a new GET gets the transfer", async () => {
    const path = pipePath(uniqueName("h10-get-cancel"))
    const cancelled = receiver10(path)
    await waitForReceivers(server(), path, 1)
    cancelled.kill("SIGKILL")
    await cancelled.result
    await waitForProbe(
      server(),
      path,
      (p) => p.receivers?.startsWith("0/") === true || p.state === "idle",
      "the cancelled receiver gone",
      1_000
    )
    const receiver = receiver10(path)
    await waitForReceivers(server(), path, 1)
    const sender = sender10("POST", path)
    expectReceived(await receiver.result, MESSAGE)
    expectWholeSenderAnswer(await sender.result, true)
    await expectNothingLeft(server())
  })

  it("simultaneous_request: 10 GET + POST pairs fired at once on distinct paths all transfer", async () => {
    const pairs = Array.from({ length: 10 }, (_, i) => {
      const path = pipePath(uniqueName(`h10-simultaneous-${i}`))
      const body = `${MESSAGE} ${i}`
      return { body, receiver: receiver10(path), sender: sender10("POST", path, body) }
    })
    for (const { body, receiver, sender } of pairs) {
      const [got, sent] = await Promise.all([receiver.result, sender.result])
      expectReceived(got, body)
      expect({ code: sent.code, version: versionOf(sent), status: sent.head?.status }).toEqual({
        code: 0,
        version: "1.0",
        status: 200
      })
      expect(sent.stdoutText).toContain("[INFO] All receiver(s) received successfully.\n")
      expect(header(sent.head, "content-length")).toBe(String(sent.bytes))
    }
    await expectNothingLeft(server())
  })

  it("service_worker_registration_rejection: a 1.0 GET with Service-Worker: script gets a 4xx as HTTP/1.0", async () => {
    const path = pipePath(uniqueName("h10-service-worker"))
    const got = await receiver10(path, ["-H", "Service-Worker: script"]).result
    expect(versionOf(got)).toBe("1.0")
    expect(got.head?.status ?? 0).toBeGreaterThanOrEqual(400)
    expect(got.head?.status ?? 0).toBeLessThan(500)
    expect(got.stdoutText).toBe("[ERROR] Service Worker registration is rejected.\n")
    // It took nothing: the path is idle.
    expect((await snapshot(server(), path)).receivers).toBe(0)
  })
})

describe("HTTP/1.0 on raw sockets", () => {
  it("every status line of an answer to a 1.0 request is HTTP/1.0: sender, receiver, refusals, reserved pages", async () => {
    const path = pipePath(uniqueName("h10-status-lines"))
    const body = Buffer.from(MESSAGE)
    const sender = new RawClient(server().port, raw10("PUT", path, [["Content-Type", "text/plain"]], body))
    await waitForSender(path)
    expect(sender.data.length, `the held answer: nothing yet (${showBytes(sender.data)})`).toBe(0)
    const receiver = new RawClient(server().port, raw10("GET", path))
    const others = [
      new RawClient(server().port, raw10("GET", "/version")),
      new RawClient(server().port, raw10("GET", "/api/v1/pipe/a/../b")),
      new RawClient(server().port, raw10("DELETE", path)),
      new RawClient(server().port, raw10("HEAD", path))
    ]
    for (const client of [receiver, sender, ...others]) {
      expect(await client.until(() => client.complete(client === others[3]) || client.isClosed, STEP_MS), "an answer")
        .toBe(true)
      expect(client.head()?.statusLine, `status line of ${showBytes(client.data, 120)}`).toMatch(/^HTTP\/1\.0 \d{3} /)
    }
    expect(receiver.body()?.body.toString()).toBe(MESSAGE)
    expect(sender.head()?.status).toBe(200)
    expect(headValue(sender.head(), "content-length")).toBe(String(sender.body()?.body.length))
    expectSenderLines(sender.text(), false)
    await expectNothingLeft(server())
  })

  it("a 1.0 receiver of a chunked sender gets the body close-delimited (no chunked framing): exact bytes, then a clean close", async () => {
    const path = pipePath(uniqueName("h10-close-delimited"))
    const body = prngBytes(path, 2_000_000)
    const receiver = new RawClient(server().port, raw10("GET", path))
    await waitForReceivers(server(), path, 1)
    const sender = curlSender(server(), path, body) // HTTP/1.1, chunked (curl -T -)
    expect(await receiver.untilClosed(STEP_MS), "the close that ends the body").toBe(true)
    const head = receiver.head()
    expect(head?.statusLine).toMatch(/^HTTP\/1\.0 200 /)
    expect(headValue(head, "transfer-encoding"), "no chunked framing towards a 1.0 client").toBeUndefined()
    expect(headValue(head, "content-length"), "the sender gave no length").toBeUndefined()
    expect(receiver.error, "a clean close (FIN), not a reset").toBeUndefined()
    const got = receiver.body()
    expect(got?.framing).toBe("close")
    expect(got?.body.length).toBe(body.length)
    expect(got?.body.equals(body), "the exact bytes").toBe(true)
    const sent = await sender.result
    expect(sent.code).toBe(0)
    expect(sent.stdoutText).toContain("[INFO] All receiver(s) received successfully.\n")
    await expectNothingLeft(server())
  })

  it("a close-delimited 1.0 transfer that breaks resets the receiver (curl --http1.0 exits non-zero)", async () => {
    const path = pipePath(uniqueName("h10-close-delimited-break"))
    const source = new PrngSource(path, { size: 10_000_000, holdAt: 500_000 })
    const receiver = receiver10(path)
    await waitForReceivers(server(), path, 1)
    const sender = curlSender(server(), path, source)
    await receiver.waitForBytes(500_000)
    sender.kill("SIGKILL")
    const got = await receiver.result
    expect(versionOf(got)).toBe("1.0")
    expect(got.code, `curl --http1.0 must see the break (exit ${got.code}, ${got.bytes} bytes): ${got.stderr}`).not
      .toBe(0)
    expect(got.bytes).toBeLessThan(10_000_000)
    await expectNothingLeft(server())
  })
})
