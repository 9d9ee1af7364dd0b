// A directory tree through the pipe as real shell pipelines: `tar czf - | curl -T -` → `curl | tar xzf -`.
import { mkdirSync, mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, expect, it } from "vitest"
import { shell } from "./support/curl.js"
import { pipePath, uniqueName, waitForReceivers } from "./support/pipe.js"
import { useServer } from "./support/server.js"
import { expectNothingLeft } from "./support/transfer.js"
import { hashTree, makeTree } from "./support/tree.js"

const server = useServer(["--retention", "0s"])
const root = mkdtempSync(join(tmpdir(), "pipe-tar-"))
const source = join(root, "src")
const target = join(root, "out")
let written = 0

beforeAll(() => {
  written = makeTree(join(source, "tree"), { seed: "tar-test", files: 3_000, totalBytes: 200_000_000 })
  mkdirSync(target)
}, 60_000)

afterAll(() => rmSync(root, { recursive: true, force: true }))

it("carries a tree of 3000 files (~200 MB) intact", async () => {
  const path = pipePath(uniqueName("tar"))
  const url = `${server().url}${path}`
  const receiver = shell(`curl -sS '${url}' | tar xzf - -C '${target}'`)
  await waitForReceivers(server(), path, 1)
  const sender = shell(`tar czf - -C '${source}' tree | curl -sS -T - '${url}'`)
  const [sent, received] = await Promise.all([sender.result, receiver.result])
  expect({ code: sent.code, stderr: sent.stderr }).toEqual({ code: 0, stderr: "" })
  expect({ code: received.code, stderr: received.stderr }).toEqual({ code: 0, stderr: "" })
  expect(sent.stdoutText).toContain("[INFO] Sent successfully!\n")

  const [expected, actual] = await Promise.all([hashTree(join(source, "tree")), hashTree(join(target, "tree"))])
  expect(written).toBeGreaterThan(150_000_000)
  expect(expected.size).toBe(3_000)
  const differing = [...expected].filter(([file, hash]) => actual.get(file) !== hash).map(([file]) => file)
  expect({ files: actual.size, differing }).toEqual({ files: expected.size, differing: [] })
  await expectNothingLeft(server())
}, 120_000)
