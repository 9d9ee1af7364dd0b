// The ten piping-server-check checks (github.com/nwtgck/piping-server-check v0.14.0), per protocol as the
// checker runs them: http1.1 (plain), http1.1-tls and h2 (ALPN on the --tls-cert port), with real curl
// clients in each role, and the protocol every answer came over asserted. The certificate is made now.
import { writeFileSync } from "node:fs"
import { PassThrough } from "node:stream"
import { describe, expect, it } from "vitest"
import { artifactPath } from "./support/artifacts.js"
import { type CurlProcess, header, spawnCurl } from "./support/curl.js"
import { paceChunks, prngBytes } from "./support/data.js"
import { sha256 } from "./support/hash.js"
import { pipePath, uniqueName, waitForProbe, waitForReceivers } from "./support/pipe.js"
import type { ServerHandle } from "./support/server.js"
import { useServer } from "./support/server.js"
import { makeCertificate, tlsFlags } from "./support/tls.js"

const plain = useServer()
const secure = useServer(tlsFlags(makeCertificate("conformance")))

interface Protocol {
  readonly name: string
  readonly server: () => ServerHandle
  /** curl's flags for it; `-k` takes the test certificate as it is. */
  readonly args: ReadonlyArray<string>
  /** What curl's `%{http_version}` says when the answer came over it. */
  readonly version: string
}

const protocols: ReadonlyArray<Protocol> = [
  { name: "http1.1", server: plain, args: ["--http1.1"], version: "1.1" },
  { name: "http1.1-tls", server: secure, args: ["--http1.1", "-k"], version: "1.1" },
  { name: "h2", server: secure, args: ["--http2", "-k"], version: "2" }
]

/** The protocol version curl negotiated, written last on its stderr (stdout stays the body). */
const versionOf = (stderr: string) => stderr.trim().split("\n").at(-1)

describe.each(protocols)("$name", (protocol) => {
  const url = (path: string) => `${protocol.server().url}${path}`
  const client = (args: ReadonlyArray<string>, options: { stdin?: PassThrough | Buffer; keep?: boolean } = {}) =>
    spawnCurl([...protocol.args, "-w", "%{stderr}%{http_version}\n", ...args], options)
  const sendText = (path: string, method: string, text: string) =>
    client(["-X", method, "-H", "content-type: text/plain", "--data-binary", text, url(path)])
  /** A sender whose body is written by the test (`curl -T -` from a pipe). */
  const streamingSender = (path: string) => {
    const stdin = new PassThrough()
    return { stdin, curl: client(["-T", "-", "-H", "content-type: application/octet-stream", url(path)], { stdin }) }
  }
  // Not its first line: curl 7.88 over HTTP/1.1 reads nothing of the response while it blocks on an empty stdin.
  const senderWaiting = (path: string) =>
    waitForProbe(protocol.server(), path, (p) => p.state === "waiting", "the sender waiting")
  const expectOver = async (curl: CurlProcess, what: string) =>
    expect(versionOf((await curl.result).stderr), `${what}: protocol`).toBe(protocol.version)

  describe.each(["POST", "PUT"])("%s sender first (post_first, put)", (method) => {
    it("answers the sender first, rejects a second sender, forwards, and reuses the path", async () => {
      const path = pipePath(uniqueName(`tls-${method.toLowerCase()}-first`))
      for (const round of ["first transfer", "reuse_path"]) {
        const sender = sendText(path, method, "my message")
        await sender.waitForText("[INFO] Waiting for 1 receiver(s)...\n", 5_000)
        const second = await sendText(path, method, "other").result
        expect(second.head?.status, "same_path_sender_rejection").toBe(409)
        const receiver = client([url(path)])
        const got = await receiver.result
        expect(got.head?.status, round).toBe(200)
        expect(header(got.head, "content-type"), "content_type_forwarding").toBe("text/plain")
        expect(header(got.head, "x-robots-tag"), "x_robots_tag_none").toBe("none")
        expect(got.stdoutText, "transferred").toBe("my message")
        await expectOver(receiver, round)
        const sent = await sender.result
        expect(sent.stdoutText, "sender response read to EOF").toContain("[INFO] Sent successfully!\n")
        expect(sent.code).toBe(0)
        await expectOver(sender, `${round} sender`)
      }
    })
  })

  it("get_first: a receiver that comes first gets the body", async () => {
    const path = pipePath(uniqueName("tls-get-first"))
    const receiver = client([url(path)])
    await waitForReceivers(protocol.server(), path, 1)
    const sent = await sendText(path, "POST", "my message").result
    expect(sent.head?.status).toBe(200)
    const got = await receiver.result
    expect({ status: got.head?.status, body: got.stdoutText, type: header(got.head, "content-type") }).toEqual({
      status: 200,
      body: "my message",
      type: "text/plain"
    })
    await expectOver(receiver, "receiver")
  })

  it("post_cancel_post: a cancelled waiting sender frees the path for a new sender", async () => {
    const path = pipePath(uniqueName("tls-post-cancel-post"))
    const first = streamingSender(path)
    await senderWaiting(path)
    first.curl.kill("SIGKILL")
    await waitForProbe(protocol.server(), path, (p) => p.state === "idle", "the cancelled sender gone")

    const sender = sendText(path, "POST", "my message")
    await sender.waitForText("[INFO] Waiting for 1 receiver(s)...\n", 5_000)
    const got = await client([url(path)]).result
    expect(got.stdoutText).toBe("my message")
    expect((await sender.result).stdoutText).toContain("[INFO] Sent successfully!\n")
  })

  it("get_cancel_get: a cancelled waiting receiver does not block a new one", async () => {
    const path = pipePath(uniqueName("tls-get-cancel-get"))
    const first = client([url(path)])
    await waitForReceivers(protocol.server(), path, 1)
    first.kill("SIGKILL")
    await waitForReceivers(protocol.server(), path, 0)

    const receiver = client([url(path)])
    await waitForReceivers(protocol.server(), path, 1)
    const sent = await sendText(path, "POST", "my message").result
    expect(sent.head?.status).toBe(200)
    expect((await receiver.result).stdoutText).toBe("my message")
  })

  it("service_worker_registration_rejection: GET with Service-Worker: script is refused", async () => {
    const refused = client(["-H", "service-worker: script", url(pipePath(uniqueName("tls-sw")))])
    expect((await refused.result).head?.status).toBe(400)
    await expectOver(refused, "refusal")
  })

  it("post_first_byte_by_byte_streaming: each byte reaches the receiver before the next is sent", async () => {
    const path = pipePath(uniqueName("tls-byte-by-byte"))
    const data = prngBytes(path, 24)
    const sender = streamingSender(path)
    await senderWaiting(path)
    const receiver = client(["-N", url(path)])
    await waitForProbe(protocol.server(), path, (p) => p.state === "streaming", "the transfer started")
    for (let i = 1; i <= data.length; i++) {
      sender.stdin.write(data.subarray(i - 1, i))
      await receiver.waitForBytes(i, 5_000)
      expect(receiver.bytes, `after byte ${i}`).toBe(i)
    }
    sender.stdin.end()
    const got = await receiver.result
    expect(got.stdout).toEqual(data)
    expect((await sender.curl.result).stdoutText).toContain("[INFO] Sent successfully!\n")
    await expectOver(receiver, "receiver")
  })

  it("multipart_form_data: only the first part is relayed, with its Content-Type and Content-Disposition", async () => {
    const path = pipePath(uniqueName("tls-multipart"))
    const file = artifactPath("tls-upload", "png")
    const data = prngBytes(file, 123_457)
    writeFileSync(file, data)
    const receiver = client([url(path)], { keep: false })
    await waitForReceivers(protocol.server(), path, 1)
    const sent = await client([
      "-F",
      `input_data=@${file};type=image/png;filename=photo.png`,
      "-F",
      "second=not relayed",
      url(path)
    ]).result
    expect(sent.code).toBe(0)
    const got = await receiver.result
    expect(header(got.head, "content-type")).toBe("image/png")
    expect(header(got.head, "content-disposition")).toBe("form-data; name=\"input_data\"; filename=\"photo.png\"")
    expect({ bytes: got.bytes, sha256: got.sha256 }).toEqual({ bytes: data.length, sha256: sha256(data) })
  })

  it("simultaneous_request: 10 GET+POST pairs fired at once all transfer", async () => {
    const pairs = Array.from({ length: 10 }, async (_, i) => {
      const path = pipePath(uniqueName(`tls-simultaneous-${i}`))
      const body = prngBytes(path, 1_000 + i * 5_000)
      const [got, sent] = await Promise.all([
        client([url(path)], { keep: false }).result,
        client(["--data-binary", "@-", url(path)], { stdin: body }).result
      ])
      return {
        receiver: got.head?.status,
        sender: sent.head?.status,
        same: got.sha256 === sha256(body),
        senderDone: sent.stdoutText.includes("[INFO] Sent successfully!\n")
      }
    })
    expect(await Promise.all(pairs)).toEqual(
      Array(10).fill({ receiver: 200, sender: 200, same: true, senderDone: true })
    )
  })

  it("post_first_chunked_long_transfer: a chunked sender over ~3 s arrives intact and progressively", async () => {
    const path = pipePath(uniqueName("tls-chunked-long"))
    const sender = streamingSender(path)
    await senderWaiting(path)
    const receiver = client(["-N", url(path)], { keep: false })
    await waitForProbe(protocol.server(), path, (p) => p.state === "streaming", "the transfer started")

    const { midpointBytes, sent } = await paceChunks(path, (chunk) => sender.stdin.write(chunk), () => receiver.bytes)
    sender.stdin.end()
    const got = await receiver.result
    expect(got.head?.status).toBe(200)
    // Chunked framing is HTTP/1.1's; h2 frames every body alike.
    if (protocol.version === "1.1") expect(header(got.head, "transfer-encoding")).toBe("chunked")
    expect(midpointBytes, "partial_transfer: bytes had arrived halfway through").toBeGreaterThan(0)
    expect({ bytes: got.bytes, sha256: got.sha256 }).toEqual({ bytes: sent.bytes, sha256: sent.hex() })
    expect((await sender.curl.result).stdoutText).toContain("[INFO] Sent successfully!\n")
    await expectOver(receiver, "receiver")
  })
})
