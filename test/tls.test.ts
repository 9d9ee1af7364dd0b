// HTTPS and HTTP/2 on the server itself (protocol §11): big and fanned-out transfers over h2, the disconnect
// semantics an h2 client sees (a broken transfer is a stream reset, never a clean end), spectators and pages
// over h2, SIGHUP reloading the certificate under a running transfer, and the start-up errors of bad files.
import { copyFileSync, readFileSync, writeFileSync } from "node:fs"
import { connect as http2Connect, constants as http2Constants } from "node:http2"
import { join } from "node:path"
import { connect as tlsConnect } from "node:tls"
import { describe, expect, it } from "vitest"
import { repoRoot } from "./support/artifacts.js"
import { spawnTracked } from "./support/child.js"
import { curl, header } from "./support/curl.js"
import { PrngSource } from "./support/data.js"
import { pipePath, uniqueName, waitForProbe, waitForReceivers } from "./support/pipe.js"
import { startServer, useServer } from "./support/server.js"
import { makeCertificate, tlsFlags } from "./support/tls.js"
import { curlReceiver, curlSender, expectNothingLeft } from "./support/transfer.js"
import { waitFor } from "./support/wait.js"

const MiB = 1024 * 1024
const h2 = ["--http2", "-k"]
const mainJs = join(repoRoot, "dist", "main.js")

/** The certificate files the server reads; SIGHUP re-reads them, so the reload test overwrites them. */
const served = makeCertificate("tls-served")
const server = useServer(["--retention", "0s", ...tlsFlags(served)])

/** The certificate a new TLS connection to the server is given. */
const presentedFingerprint = (port: number): Promise<string> =>
  new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: "127.0.0.1", port, rejectUnauthorized: false, ALPNProtocols: ["h2"] }, () => {
      resolve(socket.getPeerX509Certificate()?.fingerprint256 ?? "none")
      socket.end()
    })
    socket.once("error", reject)
  })

describe("transfers over h2", () => {
  it("1 GiB from an h2 sender to an h2 receiver, byte for byte (sha256)", async () => {
    const path = pipePath(uniqueName("h2-gib"))
    const size = 1024 * MiB
    const source = new PrngSource(path, { size })
    const receiver = curlReceiver(server(), path, [...h2, "-w", "%{stderr}%{http_version} %{speed_download}\n"])
    await waitForReceivers(server(), path, 1)
    const started = Date.now()
    const sender = curlSender(server(), path, source, h2)
    const [sent, got] = await Promise.all([sender.result, receiver.result])
    const seconds = (Date.now() - started) / 1000
    expect(sent.code).toBe(0)
    expect(sent.stdoutText).toMatch(
      /\[INFO\] Sent successfully!\n\[INFO\] All receiver\(s\) received successfully\.\n$/
    )
    expect({ code: got.code, bytes: got.bytes, sha256: got.sha256 }).toEqual({
      code: 0,
      bytes: size,
      sha256: source.digest.hex()
    })
    expect(got.stderr.trim().split(" ")[0], "the receiver's protocol").toBe("2")
    expect(header(got.head, "connection"), "no connection header on h2").toBeUndefined()
    expect(header(got.head, "x-pipe-node"), "the node is named on h2 answers too").toBeDefined()
    console.log(`1 GiB over h2: ${(size / MiB / seconds).toFixed(0)} MiB/s`)
    await expectNothingLeft(server())
  }, 120_000)

  it("fan-out ?n=3 over h2: 256 MiB to each of three receivers", async () => {
    const path = pipePath(uniqueName("h2-fanout"))
    const size = 256 * MiB
    const source = new PrngSource(path, { size })
    const receivers = [curlReceiver(server(), `${path}?n=3`, h2)]
    await waitForReceivers(server(), path, 1)
    const sender = curlSender(server(), `${path}?n=3`, source, h2)
    await waitForProbe(server(), path, (p) => p.state === "waiting", "the sender waiting")
    receivers.push(curlReceiver(server(), `${path}?n=3`, h2), curlReceiver(server(), `${path}?n=3`, h2))
    const [sent, ...got] = await Promise.all([sender.result, ...receivers.map((r) => r.result)])
    expect(sent.code).toBe(0)
    expect(sent.stdoutText).toContain("[INFO] Start sending to 3 receiver(s)!\n")
    expect(sent.stdoutText).toContain("[INFO] All receiver(s) received successfully.\n")
    const expected = { code: 0, bytes: size, sha256: source.digest.hex() }
    expect(got.map((r) => ({ code: r.code, bytes: r.bytes, sha256: r.sha256 }))).toEqual([expected, expected, expected])
    await expectNothingLeft(server())
  }, 60_000)

  it("the sender killed mid-stream: every h2 receiver sees a reset (curl non-zero), never a clean end", async () => {
    const path = pipePath(uniqueName("h2-sender-dies"))
    const source = new PrngSource(path, { size: Infinity, holdAt: 8 * MiB })
    const receivers = [curlReceiver(server(), `${path}?n=2`, h2), curlReceiver(server(), `${path}?n=2`, h2)]
    await waitForReceivers(server(), path, 2)
    const sender = curlSender(server(), `${path}?n=2`, source, h2)
    await Promise.all(receivers.map((r) => r.waitForBytes(4 * MiB)))
    sender.kill("SIGKILL")
    const got = await Promise.all(receivers.map((r) => r.result))
    for (const result of got) {
      expect(result.code, "curl reports the reset stream").not.toBe(0)
      expect(result.stderr).toMatch(/HTTP\/2 stream \d+ was not closed cleanly|INTERNAL_ERROR|CANCEL/)
    }
    await expectNothingLeft(server())
  })

  it("over HTTPS/1.x too: an HTTP/1.0 receiver of a chunked sender that dies sees a reset, not a clean end", async () => {
    // Its body ends with the connection: only a TCP reset under the TLS one tells curl it was cut (a TLS close
    // without close_notify is a clean end to curl). curl offers ALPN http/1.0, which no server speaks: none.
    const path = pipePath(uniqueName("tls-http10-sender-dies"))
    const source = new PrngSource(path, { size: Infinity, holdAt: 8 * MiB })
    const receiver = curlReceiver(server(), path, ["--http1.0", "--no-alpn", "-k"])
    await waitForReceivers(server(), path, 1)
    const sender = curlSender(server(), path, source, ["--http1.1", "-k"])
    await receiver.waitForBytes(4 * MiB)
    sender.kill("SIGKILL")
    const got = await receiver.result
    expect(got.code, "curl reports the broken transfer").not.toBe(0)
    expect(got.bytes).toBeLessThanOrEqual(8 * MiB)
    await expectNothingLeft(server())
  })

  it("an h2 sender that resets its stream while its transfer starts: the receiver sees a reset at once", async () => {
    // A window of 0 holds our start line (the transfer waits up to a second for it); the sender resets its
    // stream in that second. Its request then ends rather than being destroyed, after its 'close' has gone.
    const path = pipePath(uniqueName("h2-sender-resets"))
    const receiver = curlReceiver(server(), path, h2)
    await waitForReceivers(server(), path, 1)
    const session = http2Connect(server().url, { rejectUnauthorized: false, settings: { initialWindowSize: 0 } })
    try {
      const upload = session.request({ ":method": "PUT", ":path": path })
      upload.on("error", () => {})
      await new Promise<void>((resolve) => upload.once("response", () => resolve()))
      upload.write(Buffer.alloc(100_000, 7))
      upload.close(http2Constants.NGHTTP2_CANCEL)
      const resetAt = Date.now()
      const got = await receiver.result
      expect(got.code, "curl reports the broken transfer").not.toBe(0)
      expect(Date.now() - resetAt, "at once, not at --stall-timeout").toBeLessThan(5_000)
    } finally {
      session.destroy()
    }
    await expectNothingLeft(server())
  })

  it("a receiver killed mid-stream: the h2 sender's last line says so", async () => {
    const path = pipePath(uniqueName("h2-receiver-dies"))
    // Never held: curl blocked reading an empty stdin would not read the answer that ends its upload either.
    const source = new PrngSource(path, { size: 1024 * MiB })
    const receiver = curlReceiver(server(), path, h2)
    await waitForReceivers(server(), path, 1)
    const sender = curlSender(server(), path, source, h2)
    await receiver.waitForBytes(4 * MiB)
    receiver.kill("SIGKILL")
    const killedAt = Date.now()
    const sent = await sender.result
    expect(sent.stdoutText).toMatch(/\[ERROR\] All receiver\(s\) aborted halfway\.\n$/)
    // Node's h2 session would not notice this receiver by itself (see `readAgain` in NodeListener.ts).
    expect(Date.now() - killedAt, "the sender is told within seconds, not at --stall-timeout").toBeLessThan(5_000)
    await expectNothingLeft(server())
  })
})

describe("shutdown over h2", () => {
  it("SIGTERM past --shutdown-grace: the running h2 transfer ends as a reset, the sender is told, exit 0", async () => {
    const own = await startServer(["--retention", "0s", "--shutdown-grace", "0s", ...tlsFlags(served)])
    const path = pipePath(uniqueName("h2-shutdown"))
    const source = new PrngSource(path, { size: 1024 * MiB })
    const receiver = curlReceiver(own, path, [...h2, "--limit-rate", "20M"])
    await waitForReceivers(own, path, 1)
    const sender = curlSender(own, path, source, h2)
    await receiver.waitForBytes(2 * MiB)
    own.kill("SIGTERM")
    const [got, sent, exit] = await Promise.all([receiver.result, sender.result, own.exited])
    expect(got.code, "the receiver sees a broken transfer").not.toBe(0)
    expect(got.bytes).toBeLessThan(1024 * MiB)
    expect(sent.stdoutText).toMatch(/\[ERROR\] The server is shutting down\.\n$/)
    expect(exit).toEqual({ code: 0, signal: null })
  })
})

describe("spectators and pages over h2", () => {
  it("SSE, the JSON snapshot, the dashboard and the home page answer over h2", async () => {
    const path = pipePath(uniqueName("h2-watch"))
    const sse = curl([...h2, "-H", "accept: text/event-stream", "--max-time", "1", `${server().url}${path}?progress`])
    const json = await curl([...h2, `${server().url}${path}?progress=json`])
    expect(json.head?.status).toBe(200)
    expect(JSON.parse(json.stdoutText)).toMatchObject({ path, state: "idle" })
    const dashboard = await curl([...h2, "-H", "accept: text/html", `${server().url}${path}?progress`])
    expect([dashboard.head?.status, header(dashboard.head, "content-type")]).toEqual([200, "text/html; charset=utf-8"])
    const home = await curl([...h2, `${server().url}/`])
    expect(home.head?.status).toBe(200)
    expect(header(home.head, "x-pipe-node"), "the platform's own answers name the node too").toBeDefined()
    expect(header(json.head, "x-pipe-node")).toBeDefined()
    expect(home.stdoutText).toContain("<html")
    // The URLs the server prints are its own: https, the Host it was reached by.
    const help = await curl([...h2, `${server().url}/help`])
    expect(help.stdoutText).toContain(`${server().url}/`)
    expect(help.stdoutText).not.toContain("http://")
    const events = await sse
    expect(header(events.head, "content-type")).toBe("text/event-stream")
    expect(events.stdoutText).toContain("event: state\n")
  })
})

describe("SIGHUP reloads the certificate", () => {
  it("during a running h2 transfer: it finishes intact, new connections get the new certificate", async () => {
    expect(await presentedFingerprint(server().port)).toBe(served.fingerprint)
    const path = pipePath(uniqueName("h2-reload"))
    const size = 64 * MiB
    const source = new PrngSource(path, { size, holdAt: 16 * MiB })
    const receiver = curlReceiver(server(), path, h2)
    await waitForReceivers(server(), path, 1)
    const sender = curlSender(server(), path, source, h2)
    await receiver.waitForBytes(8 * MiB)

    const next = makeCertificate("tls-next", "pipe-test-next")
    copyFileSync(next.certFile, served.certFile)
    copyFileSync(next.keyFile, served.keyFile)
    server().kill("SIGHUP")
    await waitFor(() => readFileSync(server().logFile, "utf8").includes("certificate reloaded"), {
      what: "the reload in the server's log"
    })
    expect(await presentedFingerprint(server().port), "a new connection").toBe(next.fingerprint)

    // A pair that no longer reads keeps the one in force, and says so.
    writeFileSync(served.keyFile, "not a key\n")
    server().kill("SIGHUP")
    await waitFor(() => readFileSync(server().logFile, "utf8").includes("certificate not reloaded"), {
      what: "the refused reload in the server's log"
    })
    expect(await presentedFingerprint(server().port), "after a bad reload").toBe(next.fingerprint)
    copyFileSync(next.keyFile, served.keyFile)

    source.release()
    const [sent, got] = await Promise.all([sender.result, receiver.result])
    expect(sent.stdoutText).toContain("[INFO] All receiver(s) received successfully.\n")
    expect({ code: got.code, bytes: got.bytes, sha256: got.sha256 }).toEqual({
      code: 0,
      bytes: size,
      sha256: source.digest.hex()
    })
    await expectNothingLeft(server())
  })
})

describe("start-up with unusable TLS files: one line on stderr, exit 1", () => {
  const start = (flags: ReadonlyArray<string>) =>
    spawnTracked(process.execPath, [mainJs, "server", "--host", "127.0.0.1", "--port", "0", ...flags]).result
  const valid = makeCertificate("tls-startup")
  const other = makeCertificate("tls-other")

  it.each([
    [
      "a missing certificate",
      ["--tls-cert", "/nonexistent/cert.pem", "--tls-key", valid.keyFile],
      /--tls-cert .*ENOENT/
    ],
    ["a key of another certificate", ["--tls-cert", valid.certFile, "--tls-key", other.keyFile], /not a usable/],
    ["a certificate without its key", ["--tls-cert", valid.certFile], /--tls-cert needs --tls-key/]
  ])("%s", async (_, flags, message) => {
    const result = await start(flags)
    expect(result.code).toBe(1)
    expect(result.stdoutText).toBe("")
    const lines = result.stderr.trim().split("\n")
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatch(/^pipe: /)
    expect(lines[0]).toMatch(message)
  })
})
