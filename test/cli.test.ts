// The client CLI (protocol §5) as real processes: `pipe send`, `pipe receive`, `pipe watch` against a real server.
import { Schema } from "effect"
import { writeFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { PipeEvent } from "../src/schema/PipeEvent.js"
import { artifactPath, repoRoot } from "./support/artifacts.js"
import { spawnTracked, type Tracked } from "./support/child.js"
import { shell, spawnCurl } from "./support/curl.js"
import { prngBytes, PrngSource } from "./support/data.js"
import { sha256, sha256File } from "./support/hash.js"
import { holdSender } from "./support/parties.js"
import { pipePath, uniqueName, waitForReceivers } from "./support/pipe.js"
import { useServer } from "./support/server.js"
import { curlSender } from "./support/transfer.js"

const MB = 1_000_000
const mainJs = join(repoRoot, "dist", "main.js")

/** `node dist/main.js <args>` with stdout hashed (and kept unless `keep: false`). */
const pipeCli = (args: ReadonlyArray<string>, options: Parameters<typeof spawnTracked>[2] = {}): Tracked =>
  spawnTracked(process.execPath, [mainJs, ...args], options)

/** Single-quotes a word for bash. */
const q = (word: string): string => `'${word.replace(/'/g, `'\\''`)}'`

const decodeLine = Schema.decodeUnknownSync(PipeEvent)

/** Every stdout line of `watch --json`, decoded with the protocol's Schema (throws on any other line). */
const jsonEvents = (stdout: string): Array<PipeEvent> =>
  stdout.split("\n").filter((line) => line !== "").map((line) => decodeLine(JSON.parse(line)))

describe("pipe send / receive", () => {
  const server = useServer(["--retention", "2s"])

  it("send --server URL path < f  →  receive --server URL path > g: equal sha256, exit 0, silent stderr", async () => {
    const name = uniqueName("cli-roundtrip")
    const f = artifactPath("cli-send", "bin")
    const g = artifactPath("cli-receive", "bin")
    writeFileSync(f, prngBytes(name, 30 * MB))
    const receiver = shell(
      `${q(process.execPath)} ${q(mainJs)} receive --server ${q(server().url)} ${q(name)} > ${q(g)}`
    )
    await waitForReceivers(server(), pipePath(name), 1)
    const sender = shell(`${q(process.execPath)} ${q(mainJs)} send --server ${q(server().url)} ${q(name)} < ${q(f)}`)
    const [sent, received] = await Promise.all([sender.result, receiver.result])
    expect({ code: sent.code, stderr: sent.stderr, stdout: sent.stdoutText }).toEqual({
      code: 0,
      stderr: "",
      stdout: ""
    })
    expect({ code: received.code, stderr: received.stderr }).toEqual({ code: 0, stderr: "" })
    expect(await sha256File(g)).toBe(await sha256File(f))
  }, 60_000)

  it("a full pipe URL, PIPE_URL, a file argument, and -n 2 receivers (one to stdout, one to a file)", async () => {
    const name = `${uniqueName("cli-forms")}/sub`
    const f = artifactPath("cli-forms-send", "bin")
    const g = artifactPath("cli-forms-receive", "bin")
    const data = prngBytes(name, 5 * MB)
    writeFileSync(f, data)
    const toStdout = pipeCli(["receive", "-n", "2", `${server().url}/api/v1/pipe/${name}`], { keep: false })
    const toFile = pipeCli(["receive", "--receivers", "2", "--server", server().url, `/${name}`, g])
    await waitForReceivers(server(), pipePath(name), 2)
    const sent = await shell(
      `PIPE_URL=${q(server().url)} ${q(process.execPath)} ${q(mainJs)} send -n 2 ${q(name)} ${q(f)}`
    ).result
    const [first, second] = await Promise.all([toStdout.result, toFile.result])
    expect([sent.code, first.code, second.code]).toEqual([0, 0, 0])
    expect(first.sha256).toBe(sha256(data))
    expect(await sha256File(g)).toBe(sha256(data))
  })

  it("receive exits 1 and says why when the sender dies mid-stream (truncation is never a clean end)", async () => {
    const name = uniqueName("cli-cut")
    const receiver = pipeCli(["receive", "--server", server().url, name], { keep: false })
    await waitForReceivers(server(), pipePath(name), 1)
    const sender = curlSender(server(), pipePath(name), new PrngSource(name, { size: Infinity }))
    await receiver.waitForBytes(2 * MB)
    sender.kill("SIGKILL")
    const received = await receiver.result
    expect(received.code).toBe(1)
    expect(received.stderr).toMatch(/^pipe receive: The transfer broke after \d+ bytes: .*\(TransferBroken\)\n$/)
  })

  it("send exits 1 with the server's message when refused (409: another sender is waiting)", async () => {
    const name = uniqueName("cli-409")
    const first = await holdSender(server(), pipePath(name))
    try {
      const sent = await pipeCli(["send", "--server", server().url, name], { stdin: prngBytes(name, 1 * MB) }).result
      expect(sent.code).toBe(1)
      expect(sent.stderr).toBe(`pipe send: Another sender has been connected on '/api/v1/pipe/${name}'. (PipeBusy)\n`)
    } finally {
      first.req.destroy()
    }
  })

  it("a path without --server or PIPE_URL is a usage error (exit 2), before any request", async () => {
    const sent = await pipeCli(["send", "some/path"], { stdin: "x" }).result
    expect(sent.code).toBe(2)
    expect(sent.stderr).toMatch(/^pipe send: "some\/path" is a path: give the server with --server URL or PIPE_URL/)
  })
})

describe("pipe watch", () => {
  const server = useServer(["--retention", "2s"])

  it("--until-done --json URL: one JSON event per line, ending with done, exit 0 for an ok transfer", async () => {
    const name = uniqueName("cli-watch-ok")
    const url = `${server().url}${pipePath(name)}`
    const watch = pipeCli(["watch", "--until-done", "--json", url])
    await watch.waitForText("\"event\":\"state\"")
    const source = new PrngSource(name, { size: 20 * MB, holdAt: 2 * MB })
    const receiver = spawnCurl([url], { keep: false })
    const sender = curlSender(server(), pipePath(name), source)
    await watch.waitForText("\"event\":\"progress\"")
    source.release()
    const [watched, received] = await Promise.all([watch.result, receiver.result, sender.result])
    expect(received?.sha256).toBe(source.digest.hex())
    expect({ code: watched.code, stderr: watched.stderr }).toEqual({ code: 0, stderr: "" })

    const events = jsonEvents(watched.stdoutText)
    const names = events.map((e) => (e.event === "state" ? `state:${e.state}` : e.event))
    expect(names[0]).toBe("state:idle")
    expect(names).toContain("state:waiting")
    expect(names.indexOf("state:streaming")).toBeGreaterThan(names.indexOf("state:waiting"))
    expect(names.indexOf("progress")).toBeGreaterThan(names.indexOf("state:streaming"))
    expect(names.at(-1)).toBe("done")
    expect(events.at(-1)).toMatchObject({ event: "done", ok: true, bytes: 20 * MB, error: null })
    // The wire shape: the event's data with its name added, name first.
    const lastLine = watched.stdoutText.trim().split("\n").at(-1) ?? ""
    expect(lastLine).toMatch(/^\{"event":"done","transferId":"[^"]+","ok":true,"bytes":20000000,/)
  })

  it("--until-done exits 1 for an aborted transfer (the sender killed mid-stream)", async () => {
    const name = uniqueName("cli-watch-aborted")
    const url = `${server().url}${pipePath(name)}`
    // Not a terminal: JSON lines even without --json.
    const watch = pipeCli(["watch", "--until-done", "--server", server().url, name])
    await watch.waitForText("\"event\":\"state\"")
    const receiver = spawnCurl([url], { keep: false })
    const sender = curlSender(server(), pipePath(name), new PrngSource(name, { size: Infinity }))
    await receiver.waitForBytes(2 * MB)
    sender.kill("SIGKILL")
    const watched = await watch.result
    expect(watched.code).toBe(1)
    const done = jsonEvents(watched.stdoutText).at(-1)
    expect(done).toMatchObject({ event: "done", ok: false })
    expect(done?.event === "done" ? done.error : null).toEqual(expect.any(String))
  })
})

describe("--help", () => {
  it.each([
    ["send", ["--server", "--receivers", "--total", "--content-type", "--filename", "<target>", "<file>"]],
    ["receive", ["--server", "--receivers", "<target>", "<file>"]],
    ["watch", ["--server", "--until-done", "--json", "<target>"]]
  ])("pipe %s --help", async (command, mentions) => {
    const help = await pipeCli([command, "--help"]).result
    expect(help.code).toBe(0)
    for (const mention of mentions) expect(help.stdoutText).toContain(mention)
  })
})
