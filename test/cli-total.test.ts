// The total a sender announces (issue 13): a file's size, --total BYTES, and --total-of PATH counted the way
// the real `du -sb` counts a tree. Checked where it matters: in the `total` the server reports to spectators.
import { execFileSync } from "node:child_process"
import { linkSync, mkdirSync, symlinkSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { artifactPath } from "./support/artifacts.js"
import { pipeCli } from "./support/cli.js"
import { header, spawnCurl } from "./support/curl.js"
import { prngBytes } from "./support/data.js"
import { sha256 } from "./support/hash.js"
import { request } from "./support/http.js"
import { pipePath, uniqueName, waitForReceivers } from "./support/pipe.js"
import { type ServerHandle, useServer } from "./support/server.js"
import { waitFor } from "./support/wait.js"

/** `du -sb PATH`: GNU du's apparent size in bytes, the number a user would compare with. */
const duSb = (path: string): number => Number(execFileSync("du", ["-sb", path], { encoding: "utf8" }).split("\t")[0])

/** A tree with what du has rules for: files, nested and empty directories, symlinks, a hard link, an empty file. */
const makeOddTree = (seed: string): string => {
  const root = artifactPath("cli-tree", "d")
  mkdirSync(join(root, "sub", "deeper"), { recursive: true })
  mkdirSync(join(root, "empty-dir"))
  writeFileSync(join(root, "a.bin"), prngBytes(`${seed}/a`, 123_457))
  writeFileSync(join(root, "sub", "b.txt"), "some text\n".repeat(999))
  writeFileSync(join(root, "sub", "deeper", "c.bin"), prngBytes(`${seed}/c`, 2_000_001))
  writeFileSync(join(root, "empty"), "")
  // Counted once however many names it has in the tree.
  linkSync(join(root, "sub", "deeper", "c.bin"), join(root, "c-again.bin"))
  // Not followed: the link's own size counts, not the 2 MB behind it, nor a whole directory.
  symlinkSync(join("sub", "deeper", "c.bin"), join(root, "link-to-c"))
  symlinkSync("sub", join(root, "link-to-sub"))
  symlinkSync("nowhere", join(root, "dangling"))
  return root
}

interface Done {
  readonly ok: boolean
  readonly bytes: number
  readonly total: number | null
}

type Source = { readonly file: string } | { readonly stdin: Buffer }

/**
 * Runs `pipe send <flags> URL [file]` to a curl receiver while an SSE spectator holds the result, and returns
 * the transfer's `done` as the JSON snapshot reports it, with the receiver's response head.
 */
const sendAndReport = async (server: ServerHandle, name: string, flags: ReadonlyArray<string>, source: Source) => {
  const path = pipePath(name)
  const spectator = spawnCurl([`${server.url}${path}?progress`])
  await spectator.waitForText("event: state")
  const receiver = spawnCurl([`${server.url}${path}`])
  await waitForReceivers(server, path, 1)
  const url = `${server.url}${path}`
  const sent = await ("file" in source
    ? pipeCli(["send", ...flags, url, source.file])
    : pipeCli(["send", ...flags, url], { stdin: source.stdin })).result
  const received = await receiver.result
  const done = await waitFor(async () => {
    const reply = await request(server.url, `${path}?progress`, { headers: { accept: "application/json" } })
    const snapshot: { readonly done: Done | null } = JSON.parse(reply.text)
    return snapshot.done
  }, { what: `the done of ${path}` })
  spectator.kill()
  return { sent, received, done }
}

describe("pipe send: the total", () => {
  const server = useServer(["--retention", "30s"])

  it("--total-of TREE announces exactly what `du -sb TREE` prints (hard link once, symlinks not followed)", async () => {
    const name = uniqueName("cli-total-of")
    const tree = makeOddTree(name)
    const expected = duSb(tree)
    // The control: the rules matter here, so a naive sum (or following links) gives another number.
    expect(expected).not.toBe(123_457 + 9_990 + 2_000_001)
    const body = prngBytes(name, 50_000)
    const { sent, received, done } = await sendAndReport(server(), name, ["--total-of", tree], { stdin: body })
    expect({ code: sent.code, stderr: sent.stderr }).toEqual({ code: 0, stderr: "" })
    expect(received.sha256).toBe(sha256(body))
    expect(done).toMatchObject({ ok: true, bytes: 50_000, total: expected })
  })

  it("--total-of FILE is that file's size; --total BYTES is taken as given", async () => {
    const file = artifactPath("cli-total-file", "bin")
    writeFileSync(file, prngBytes("cli-total-file", 777_777))
    expect(duSb(file)).toBe(777_777)
    const one = await sendAndReport(
      server(),
      uniqueName("cli-total-of-file"),
      ["--total-of", file],
      { stdin: Buffer.from("x") }
    )
    expect(one.done).toMatchObject({ ok: true, bytes: 1, total: 777_777 })
    const two = await sendAndReport(server(), uniqueName("cli-total"), ["--total", "4242"], {
      stdin: Buffer.from("xy")
    })
    expect(two.done).toMatchObject({ ok: true, bytes: 2, total: 4242 })
  })

  it("pipe send URL FILE: the file's size is the total (Content-Length, which receivers get too)", async () => {
    const file = artifactPath("cli-total-sized", "bin")
    const data = prngBytes("cli-total-sized", 1_234_567)
    writeFileSync(file, data)
    const { sent, received, done } = await sendAndReport(server(), uniqueName("cli-sized"), [], { file })
    expect(sent.code).toBe(0)
    expect(header(received.head, "content-length")).toBe("1234567")
    expect(received.sha256).toBe(sha256(data))
    expect(done).toMatchObject({ ok: true, bytes: 1_234_567, total: 1_234_567 })
  })
})
