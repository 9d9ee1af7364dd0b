// Robustness regressions (issue 11), header side: one test per reported defect, on the real server with curl
// and raw sockets (node:net), so hostile bytes reach the server unmodified and every byte of the receiver's
// head can be judged. The contract is the robustness spec ("Header encoding", "Content-Security-Policy",
// "Access-Control-Expose-Headers", "/help and /"): every header a receiver gets is printable ASCII; non-ASCII
// and malformed file names are rebuilt per RFC 6266/5987; script-capable types become text/plain; every
// receiver response is sandboxed. After every case the server is alive and nothing is left.
import { writeFileSync } from "node:fs"
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import { artifactPath } from "../support/artifacts.js"
import { spawnCurl } from "../support/curl.js"
import { prngBytes } from "../support/data.js"
import { request } from "../support/http.js"
import { expectTransferWorks, healthz, pipePath, uniqueName } from "../support/pipe.js"
import { headValues, type RawHead } from "../support/robustness-raw.js"
import {
  destroyRawClients,
  expectPrintableHead,
  expectServerAlive,
  type HeaderList,
  multipartBody,
  rawHeaderValue,
  type RawOutcome,
  rawReceiver,
  rawTransfer,
  settle,
  utf8
} from "../support/robustness-regress.js"
import { useServer } from "../support/server.js"
import { expectNothingLeft } from "../support/transfer.js"
import { within } from "../support/wait.js"

const server = useServer(["--retention", "0s"])
afterEach(destroyRawClients)
beforeEach(() => expectServerAlive(server()))

const BOUNDARY = "XXrobustXX"
const multipartHeaders: HeaderList = [["Content-Type", `multipart/form-data; boundary=${BOUNDARY}`]]

/** A one-part multipart body whose part has these header lines (bytes as given). */
const onePart = (headers: ReadonlyArray<Buffer | string>, content: Buffer): Buffer =>
  multipartBody(BOUNDARY, [{ headers, content }])

/** RFC 5987 percent-encoding of a name made of letters, digits and `.` only (so encodeURIComponent is exact). */
const pct = (name: string): string => encodeURIComponent(name)

/** A receiver that got everything: 200, complete, the exact bytes, a printable and sandboxed head. */
const expectDelivered = (outcome: RawOutcome | undefined, content: Buffer, label: string): RawHead | undefined => {
  expect(outcome?.head?.status, `${label}: status`).toBe(200)
  expect(
    { complete: outcome?.complete, bytes: outcome?.body.length, exact: outcome?.body.equals(content) },
    `${label}: body`
  ).toEqual({
    complete: true,
    bytes: content.length,
    exact: true
  })
  expectPrintableHead(outcome?.head, label)
  expect(rawHeaderValue(outcome?.head, "content-security-policy"), `${label}: CSP`).toBe("sandbox")
  return outcome?.head
}

const disposition = (head: RawHead | undefined): string => rawHeaderValue(head, "content-disposition") ?? ""

/** The server still answers /healthz and holds nothing once the case is over. */
const expectAliveAndClean = async (): Promise<void> => {
  expect((await healthz(server())).status).toBe("ok")
  await expectNothingLeft(server())
}

describe("multipart part headers that used to throw or leak", () => {
  it("filename*=UTF-8''%ZZ (malformed): the server lives and the receiver gets the part's exact bytes", async () => {
    const path = pipePath(uniqueName("pct-zz"))
    const content = prngBytes(path, 20_000)
    const body = onePart(
      [`Content-Disposition: form-data; name="f"; filename*=UTF-8''%ZZ`, "Content-Type: text/plain"],
      content
    )
    const result = await rawTransfer(server(), path, { body, headers: multipartHeaders })
    const head = expectDelivered(result.receivers[0], content, "receiver")
    expect(rawHeaderValue(head, "content-type")).toBe("text/plain")
    expect(disposition(head), "the malformed filename* is ignored, not relayed").not.toContain("%ZZ")
    expect(result.senderText).toMatch(/\[INFO\] All receiver\(s\) received successfully\.\n$/)
    await expectAliveAndClean()
  })

  it("filename=\"r.txt\" next to a malformed filename*: the plain filename is used", async () => {
    const path = pipePath(uniqueName("pct-zz-plain"))
    const content = prngBytes(path, 5_000)
    const body = onePart([`Content-Disposition: form-data; name="f"; filename="r.txt"; filename*=UTF-8''%ZZ`], content)
    const result = await rawTransfer(server(), path, { body, headers: multipartHeaders })
    const head = expectDelivered(result.receivers[0], content, "receiver")
    expect(disposition(head)).toContain("filename=\"r.txt\"")
    expect(disposition(head)).not.toContain("%ZZ")
    await expectAliveAndClean()
  })

  it.each([
    ["Chinese", "报告.txt", "%E6%8A%A5%E5%91%8A.txt"],
    ["emoji", "😀.txt", "%F0%9F%98%80.txt"],
    ["Cyrillic", "отчёт.txt", pct("отчёт.txt")]
  ])(
    "curl -F with a %s file name: the transfer completes, filename* is RFC 5987 UTF-8, the head printable ASCII",
    async (_, name, encoded) => {
      const path = pipePath(uniqueName("curl-f"))
      const content = prngBytes(path, 30_000)
      const file = artifactPath("robustness-upload", "bin")
      writeFileSync(file, content)
      const receiver = await rawReceiver(server(), path)
      const sender = spawnCurl(["-F", `f=@${file};filename=${name}`, `${server().url}${path}`])
      const got = await settle(receiver)
      const sent = await within(sender.result, 10_000, "the curl sender's exit")
      const head = expectDelivered(got, content, "receiver")
      expect(disposition(head)).toContain(`filename*=UTF-8''${encoded}`)
      expect(disposition(head), "an ASCII fallback filename next to filename*").toMatch(/filename="[\x20-\x7e]*\.txt"/)
      expect(sent.code).toBe(0)
      expect(sent.stdoutText).toMatch(/\[INFO\] All receiver\(s\) received successfully\.\n$/)
      await expectAliveAndClean()
    }
  )

  it("a bare CR inside a part header: no crash, the sender's response ends, the path works again", async () => {
    const path = pipePath(uniqueName("bare-cr"))
    const content = prngBytes(path, 5_000)
    const body = onePart(
      [`Content-Disposition: form-data; name="f"; filename="a\rb.txt"`, "Content-Type: text/plain"],
      content
    )
    const result = await rawTransfer(server(), path, { body, headers: multipartHeaders })
    const got = result.receivers[0]
    // Either relayed whole (and then the head is clean: no CR anywhere) or visibly broken; never a hang.
    if (got?.head?.status === 200 && got.complete) expectDelivered(got, content, "receiver")
    else expect(got?.closed, "a receiver that did not get everything sees its connection end").toBe(true)
    expect(result.sender.complete || result.sender.closed, "the sender's response ended").toBe(true)
    await expectTransferWorks(server(), path)
    await expectAliveAndClean()
  })

  it("a CR, a space and LF ending a part header (fuzz seed mx7kkaq9-26493 #744): never two extra bytes", async () => {
    // multipasta read `\r \n\r\n` as the end of the part's headers, so the receiver got the blank line's
    // CRLF as data and the sender was told of success.
    const path = pipePath(uniqueName("cr-sp-lf"))
    const content = prngBytes(path, 3_240)
    const body = onePart([Buffer.from("Content-Type: text/plain; charset=utf-8\r \n", "latin1")], content)
    const result = await rawTransfer(server(), path, { body, headers: multipartHeaders })
    const got = result.receivers[0]
    expect(got?.complete && got.body.length !== content.length, "no shifted body delivered as complete").toBe(false)
    if (got?.head?.status === 200 && got.complete) expectDelivered(got, content, "receiver")
    else expect(result.senderText).not.toMatch(/received successfully/)
    await expectTransferWorks(server(), path)
    await expectAliveAndClean()
  })

  it("an invalid UTF-8 byte in the part's Content-Type: relayed as application/octet-stream", async () => {
    const path = pipePath(uniqueName("bad-part-type"))
    const content = prngBytes(path, 5_000)
    const body = onePart([
      `Content-Disposition: form-data; name="f"; filename="t.txt"`,
      Buffer.from("Content-Type: text/pl\xffain", "latin1")
    ], content)
    const result = await rawTransfer(server(), path, { body, headers: multipartHeaders })
    const head = expectDelivered(result.receivers[0], content, "receiver")
    expect(rawHeaderValue(head, "content-type")).toBe("application/octet-stream")
    await expectAliveAndClean()
  })

  it("?download=1 with a non-ASCII multipart file name: attachment with filename*", async () => {
    const path = pipePath(uniqueName("download-utf8"))
    const content = prngBytes(path, 5_000)
    const body = onePart([utf8(`Content-Disposition: form-data; name="f"; filename="报告.txt"`)], content)
    const result = await rawTransfer(server(), path, { body, headers: multipartHeaders }, ["?download=1"])
    const head = expectDelivered(result.receivers[0], content, "receiver")
    expect(disposition(head)).toMatch(/^attachment;/)
    expect(disposition(head)).toContain("filename*=UTF-8''%E6%8A%A5%E5%91%8A.txt")
    await expectAliveAndClean()
  })

  it("U+202E (RIGHT-TO-LEFT OVERRIDE) in a multipart file name is stripped", async () => {
    const path = pipePath(uniqueName("bidi-part"))
    const content = prngBytes(path, 5_000)
    const body = onePart([utf8(`Content-Disposition: form-data; name="f"; filename="evil\u202Etxt.exe"`)], content)
    const result = await rawTransfer(server(), path, { body, headers: multipartHeaders })
    const head = expectDelivered(result.receivers[0], content, "receiver")
    expect(disposition(head)).not.toMatch(/%E2%80%AE/i)
    expect(disposition(head)).toContain("eviltxt.exe")
    await expectAliveAndClean()
  })
})

describe("plain senders' and receivers' file names", () => {
  it.each([
    ["a raw Latin-1 byte (not UTF-8): read as Latin-1", Buffer.from("attachment; filename=\"caf\xe9.txt\"", "latin1")],
    ["raw UTF-8 bytes: read as UTF-8", utf8("attachment; filename=\"café.txt\"")]
  ])("Content-Disposition with %s: rebuilt with the UTF-8 filename* of café.txt", async (_, value) => {
    const path = pipePath(uniqueName("latin1-cd"))
    const content = prngBytes(path, 5_000)
    const result = await rawTransfer(server(), path, { body: content, headers: [["Content-Disposition", value]] })
    const head = expectDelivered(result.receivers[0], content, "receiver")
    expect(disposition(head)).toMatch(/^attachment;/)
    expect(disposition(head)).toContain("filename*=UTF-8''caf%C3%A9.txt")
    await expectAliveAndClean()
  })

  it("a pure printable-ASCII Content-Disposition passes through unchanged", async () => {
    const path = pipePath(uniqueName("ascii-cd"))
    const content = prngBytes(path, 5_000)
    const value = "attachment; filename=\"report.txt\"; size=5000"
    const result = await rawTransfer(server(), path, { body: content, headers: [["Content-Disposition", value]] })
    expect(disposition(expectDelivered(result.receivers[0], content, "receiver"))).toBe(value)
    await expectAliveAndClean()
  })

  it.each([
    // 254 'a' + an emoji is 255 code points (kept whole) but 256 UTF-16 units: a cut at 255 units would split it.
    ["254 'a' + an emoji: 255 code points, kept whole", 254, /filename\*=UTF-8''a{254}%F0%9F%98%80(;|$)/],
    // Cut to 255 'a': pure ASCII, so a plain filename="…" (no filename* needed) is as right as a filename*.
    ["255 'a' + an emoji: cut to the 255 'a'", 255, /filename(\*=UTF-8''|=")a{255}("|;|$)/]
  ])("?filename= of %s, in a fan-out n=2 with a plain receiver: both get the bytes", async (_, count, expected) => {
    const path = pipePath(uniqueName("long-name"))
    const content = prngBytes(path, 50_000)
    const named = `?n=2&filename=${"a".repeat(count)}%F0%9F%98%80`
    const result = await rawTransfer(server(), path, { body: content, query: "?n=2" }, [named, "?n=2"])
    const head = expectDelivered(result.receivers[0], content, "named receiver")
    expectDelivered(result.receivers[1], content, "plain receiver")
    expect(disposition(head)).toMatch(expected)
    expect(disposition(head), "no lone surrogate, no replacement character").not.toMatch(/%ED%[AB]|%EF%BF%BD/i)
    if (count === 255) expect(disposition(head), "nothing of the cut emoji").not.toMatch(/%F0|_"/i)
    expect(result.senderText).toMatch(/\[INFO\] All receiver\(s\) received successfully\.\n$/)
    await expectAliveAndClean()
  })

  it("U+202E in ?filename= is stripped", async () => {
    const path = pipePath(uniqueName("bidi-query"))
    const content = prngBytes(path, 5_000)
    const result = await rawTransfer(server(), path, { body: content }, ["?filename=evil%E2%80%AEtxt.exe"])
    const head = expectDelivered(result.receivers[0], content, "receiver")
    expect(disposition(head)).not.toMatch(/%E2%80%AE/i)
    expect(disposition(head)).toContain("eviltxt.exe")
    await expectAliveAndClean()
  })
})

describe("X-Piping exposure", () => {
  const exposed = (head: RawHead | undefined): boolean =>
    headValues(head, "access-control-expose-headers").some((v) =>
      v.split(",").some((t) => t.trim().toLowerCase() === "x-piping")
    )

  it("no Access-Control-Expose-Headers: X-Piping when the sender sent no X-Piping", async () => {
    const path = pipePath(uniqueName("no-x-piping"))
    const content = prngBytes(path, 1_000)
    const result = await rawTransfer(server(), path, { body: content })
    const head = expectDelivered(result.receivers[0], content, "receiver")
    expect(headValues(head, "x-piping")).toEqual([])
    expect(exposed(head)).toBe(false)
    await expectAliveAndClean()
  })

  it("Access-Control-Expose-Headers: X-Piping and every X-Piping value when the sender sent some", async () => {
    const path = pipePath(uniqueName("x-piping"))
    const content = prngBytes(path, 1_000)
    const result = await rawTransfer(server(), path, {
      body: content,
      headers: [["X-Piping", "one=1"], ["X-Piping", "two"]]
    })
    const head = expectDelivered(result.receivers[0], content, "receiver")
    expect(headValues(head, "x-piping").join(", ")).toBe("one=1, two")
    expect(exposed(head)).toBe(true)
    await expectAliveAndClean()
  })
})

describe("script-capable Content-Types and the sandbox", () => {
  it.each([
    ["text/xsl", "text/plain"],
    ["application/xslt+xml", "text/plain"],
    ["text/html", "text/plain"],
    ["text/html; charset=utf-8", "text/plain; charset=utf-8"],
    ["image/svg+xml", "text/plain"],
    ["application/x-javascript", "text/plain"],
    ["text/ecmascript", "text/plain"],
    ["image/png", "image/png"],
    ["application/octet-stream", "application/octet-stream"]
  ])("a sender's %s → the receiver gets %s, with Content-Security-Policy: sandbox", async (sent, expected) => {
    const path = pipePath(uniqueName("ctype"))
    const content = prngBytes(path, 2_000)
    const result = await rawTransfer(server(), path, { body: content, headers: [["Content-Type", sent]] })
    const head = expectDelivered(result.receivers[0], content, "receiver")
    expect(rawHeaderValue(head, "content-type")).toBe(expected)
    await expectAliveAndClean()
  })

  it("a multipart part's text/xsl → text/plain, sandboxed", async () => {
    const path = pipePath(uniqueName("ctype-part"))
    const content = prngBytes(path, 2_000)
    const body = onePart(
      [`Content-Disposition: form-data; name="f"; filename="s.xsl"`, "Content-Type: text/xsl"],
      content
    )
    const result = await rawTransfer(server(), path, { body, headers: multipartHeaders })
    expect(rawHeaderValue(expectDelivered(result.receivers[0], content, "receiver"), "content-type")).toBe("text/plain")
    await expectAliveAndClean()
  })
})

describe("/help and / caching", () => {
  it.each(["/help", "/"])(
    "%s: Cache-Control: no-store and Vary: Host, X-Forwarded-Host, X-Forwarded-Proto",
    async (page) => {
      const reply = await request(server().url, page)
      expect(reply.status).toBe(200)
      expect(reply.headers["cache-control"]).toBe("no-store")
      const vary = String(reply.headers["vary"] ?? "")
        .split(",")
        .map((t) => t.trim().toLowerCase())
        .filter((t) => t !== "")
        .sort()
      expect(vary).toEqual(["host", "x-forwarded-host", "x-forwarded-proto"])
    }
  )
})
