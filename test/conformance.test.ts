// The ten piping-server-check conformance checks (github.com/nwtgck/piping-server-check v0.14.0), on HTTP/1.1,
// with their sub-checks, asserted against protocol.md (409 where piping-server-check accepts any 4xx).
import { writeFileSync } from "node:fs"
import { describe, expect, it } from "vitest"
import { artifactPath } from "./support/artifacts.js"
import { curl } from "./support/curl.js"
import { paceChunks, prngBytes } from "./support/data.js"
import { sha256 } from "./support/hash.js"
import { BodyReader, openRequest, request } from "./support/http.js"
import { pipePath, uniqueName, waitForProbe, waitForReceivers } from "./support/pipe.js"
import { useServer } from "./support/server.js"
import { within } from "./support/wait.js"

const server = useServer()
const url = (): string => server().url

/** Sends a whole body as a sender; resolves once the sender's response headers are in. */
const startSender = async (path: string, method: string, body: Buffer | string, contentType = "text/plain") => {
  const { req, response } = openRequest(url(), path, {
    method,
    headers: { "content-type": contentType, "content-length": String(Buffer.byteLength(body)) }
  })
  req.end(body)
  const res = await within(response, 5_000, "sender_response_before_receiver")
  return { res, body: new BodyReader(res) }
}

describe.each(["POST", "PUT"])("%s sender first (post_first, put)", (method) => {
  it("answers the sender first, rejects a second sender, forwards, and reuses the path", async () => {
    const path = pipePath(uniqueName(`${method.toLowerCase()}-first`))
    for (const round of ["first transfer", "reuse_path"]) {
      const sender = await startSender(path, method, "my message")
      expect(sender.res.statusCode, round).toBe(200)
      expect(sender.res.httpVersion, "protocol").toBe("1.1")

      const second = await request(url(), path, { method, headers: { "content-type": "text/plain" }, body: "other" })
      expect(second.status, "same_path_sender_rejection").toBe(409)

      const receiver = await request(url(), path)
      expect(receiver.status, round).toBe(200)
      expect(receiver.httpVersion, "protocol").toBe("1.1")
      expect(receiver.headers["content-type"], "content_type_forwarding").toBe("text/plain")
      expect(receiver.headers["x-robots-tag"], "x_robots_tag_none").toBe("none")
      expect(receiver.text, "transferred").toBe("my message")
      const senderText = (await within(sender.body.complete, 5_000, "sender response EOF")).toString()
      expect(senderText, "transferred: sender response read to EOF").toContain("[INFO] Sent successfully!\n")
    }
  })
})

describe("conformance", () => {
  it("get_first: a receiver that comes first gets the body", async () => {
    const path = pipePath(uniqueName("get-first"))
    const receiver = request(url(), path)
    await waitForReceivers(server(), path, 1)
    const sender = await request(url(), path, {
      method: "POST",
      headers: { "content-type": "text/plain" },
      body: "my message"
    })
    expect(sender.status).toBe(200)
    const got = await receiver
    expect({ status: got.status, body: got.text, type: got.headers["content-type"] }).toEqual({
      status: 200,
      body: "my message",
      type: "text/plain"
    })
  })

  it("post_cancel_post: a cancelled waiting sender frees the path for a new sender", async () => {
    const path = pipePath(uniqueName("post-cancel-post"))
    const first = openRequest(url(), path, { method: "POST" })
    first.req.flushHeaders()
    const firstRes = await within(first.response, 5_000, "sender_response_before_receiver")
    expect(firstRes.statusCode).toBe(200)
    await waitForProbe(server(), path, (p) => p.state === "waiting", "the sender waiting")
    first.req.destroy()
    await waitForProbe(server(), path, (p) => p.state === "idle", "the cancelled sender gone")

    const sender = await startSender(path, "POST", "my message")
    expect(sender.res.statusCode, "a new sender is accepted").toBe(200)
    const receiver = await request(url(), path)
    expect(receiver.text).toBe("my message")
    expect((await sender.body.complete).toString()).toContain("[INFO] Sent successfully!\n")
  })

  it("get_cancel_get: a cancelled waiting receiver does not block a new one", async () => {
    const path = pipePath(uniqueName("get-cancel-get"))
    const first = openRequest(url(), path)
    first.req.end()
    first.response.catch(() => {}) // it is cancelled below, before any response
    await waitForReceivers(server(), path, 1)
    first.req.destroy()
    await waitForReceivers(server(), path, 0)

    const receiver = request(url(), path)
    await waitForReceivers(server(), path, 1)
    const sender = await request(url(), path, { method: "POST", body: "my message" })
    expect(sender.status).toBe(200)
    expect((await receiver).text).toBe("my message")
  })

  it("service_worker_registration_rejection: GET with Service-Worker: script is refused", async () => {
    const reply = await request(url(), pipePath(uniqueName("sw")), { headers: { "service-worker": "script" } })
    expect(reply.status).toBe(400)
  })

  it("post_first_byte_by_byte_streaming: each byte reaches the receiver before the next is sent", async () => {
    const path = pipePath(uniqueName("byte-by-byte"))
    const data = prngBytes(path, 24)
    const sender = openRequest(url(), path, { method: "POST", headers: { "content-type": "application/octet-stream" } })
    sender.req.flushHeaders()
    const senderRes = await within(sender.response, 5_000, "sender_response_before_receiver")
    const senderBody = new BodyReader(senderRes)

    const receiver = openRequest(url(), path)
    receiver.req.end()
    await waitForProbe(server(), path, (p) => p.state === "streaming", "the transfer started")
    sender.req.write(data.subarray(0, 1))
    const receiverRes = await within(receiver.response, 5_000, "receiver response after the first byte")
    const body = new BodyReader(receiverRes)
    for (let i = 1; i <= data.length; i++) {
      if (i > 1) sender.req.write(data.subarray(i - 1, i))
      await body.waitForBytes(i, 5_000)
      expect(body.bytes, `after byte ${i}`).toBe(i)
    }
    sender.req.end()
    expect(await within(body.complete, 5_000, "receiver EOF")).toEqual(data)
    expect((await senderBody.complete).toString()).toContain("[INFO] Sent successfully!\n")
  })

  it("multipart_form_data: only the first part is relayed, with its Content-Type and Content-Disposition", async () => {
    const path = pipePath(uniqueName("multipart"))
    const part = prngBytes(path, 70_000)
    const boundary = "----pipe-test-boundary-7MA4YWxkTrZu0gW"
    const body = Buffer.concat([
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="input_data"\r\nContent-Type: application/octet-stream\r\n\r\n`
      ),
      part,
      Buffer.from(
        `\r\n--${boundary}\r\nContent-Disposition: form-data; name="second"\r\nContent-Type: text/plain\r\n\r\nnot relayed\r\n--${boundary}--\r\n`
      )
    ])
    const receiver = request(url(), path)
    await waitForReceivers(server(), path, 1)
    const sender = await request(url(), path, {
      method: "POST",
      headers: { "content-type": `multipart/form-data; boundary=${boundary}` },
      body
    })
    expect(sender.status).toBe(200)
    const got = await receiver
    expect(got.status).toBe(200)
    expect(got.headers["content-type"]).toBe("application/octet-stream")
    expect(got.headers["content-disposition"]).toBe("form-data; name=\"input_data\"")
    expect(got.body.length).toBe(part.length)
    expect(sha256(got.body)).toBe(sha256(part))
  })

  it("multipart_form_data with curl -F: the file part's body and headers", async () => {
    const path = pipePath(uniqueName("multipart-curl"))
    const file = artifactPath("upload", "png")
    const data = prngBytes(file, 123_457)
    writeFileSync(file, data)
    const receiver = request(url(), path)
    await waitForReceivers(server(), path, 1)
    const sender = await curl(["-F", `input_data=@${file};type=image/png;filename=photo.png`, `${url()}${path}`])
    expect(sender.code).toBe(0)
    const got = await receiver
    expect(got.headers["content-type"]).toBe("image/png")
    expect(got.headers["content-disposition"]).toBe("form-data; name=\"input_data\"; filename=\"photo.png\"")
    expect(sha256(got.body)).toBe(sha256(data))
  })

  it("simultaneous_request: 10 GET+POST pairs fired at once all transfer", async () => {
    const pairs = Array.from({ length: 10 }, (_, i) => {
      const path = pipePath(uniqueName(`simultaneous-${i}`))
      const body = prngBytes(path, 1_000 + i * 5_000)
      return Promise.all([request(url(), path), request(url(), path, { method: "POST", body })]).then((
        [got, sent]
      ) => ({
        receiver: got.status,
        sender: sent.status,
        same: sha256(got.body) === sha256(body),
        senderDone: sent.text.includes("[INFO] Sent successfully!\n")
      }))
    })
    const results = await Promise.all(pairs)
    expect(results).toEqual(Array(10).fill({ receiver: 200, sender: 200, same: true, senderDone: true }))
  })

  it("post_first_chunked_long_transfer: a chunked sender over ~3 s arrives intact and progressively", async () => {
    const path = pipePath(uniqueName("chunked-long"))
    const sender = openRequest(url(), path, { method: "POST" })
    sender.req.flushHeaders()
    const senderBody = new BodyReader(await within(sender.response, 5_000, "sender_response_before_receiver"))
    const receiver = openRequest(url(), path)
    receiver.req.end()

    const seen: { reader?: BodyReader } = {}
    receiver.response.then((res) => (seen.reader = new BodyReader(res, false)), () => {})
    const { midpointBytes, sent } = await paceChunks(
      path,
      (chunk) => sender.req.write(chunk),
      () => seen.reader?.bytes ?? 0
    )
    sender.req.end()
    const res = await receiver.response
    expect(res.statusCode).toBe(200)
    expect(res.headers["transfer-encoding"]).toBe("chunked")
    const body = seen.reader ?? new BodyReader(res, false)
    await within(body.complete, 10_000, "receiver EOF")
    expect(midpointBytes, "partial_transfer: bytes had arrived halfway through").toBeGreaterThan(0)
    expect(body.bytes).toBe(sent.bytes)
    expect(body.digest.hex()).toBe(sent.hex())
    expect((await senderBody.complete).toString()).toContain("[INFO] Sent successfully!\n")
  })
})
