/**
 * The README's recipes, run as written (the shell blocks after `<!-- recipe: NAME -->`, the SDK example with
 * the two commands the README gives), against a real server, with a stand-in webhook for Slack and the
 * pager. Only the path and the directories are substituted; `pipe` on the PATH is this build's CLI.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { repoRoot } from "./support/artifacts.js"
import { q } from "./support/cli.js"
import { shell, spawnCurl } from "./support/curl.js"
import { prngBytes } from "./support/data.js"
import { openRequest, request } from "./support/http.js"
import { holdStreaming } from "./support/parties.js"
import { pipePath, uniqueName, waitForReceivers } from "./support/pipe.js"
import { readme, recipe, slackTexts, useRecipes } from "./support/recipes.js"
import { useServer } from "./support/server.js"
import { hashTree, makeTree } from "./support/tree.js"
import { waitFor, within } from "./support/wait.js"

const server = useServer(["--retention", "1s"])
const bench = useRecipes(server)
const run = bench.run

const jsonSnapshot = async (path: string) => {
  const reply = await request(server().url, `${path}?progress`, { headers: { accept: "application/json" } })
  return JSON.parse(reply.text) as { spectators: number; state: string; last: { ok: boolean } | null }
}

/** A watcher is connected to the path (so it sees the next transfer from its start). */
const watched = (path: string) =>
  waitFor(async () => (await jsonSnapshot(path)).spectators > 0, { what: `a spectator on ${path}` })

/** One complete transfer of `size` bytes through curl, with `?total` announced. */
const transfer = async (path: string, size: number) => {
  const receiver = spawnCurl(["-sS", `${server().url}${path}`])
  await waitForReceivers(server(), path, 1)
  const sender = shell(`head -c ${size} /dev/zero | curl -sS -T - '${server().url}${path}?total=${size}'`)
  const [sent, got] = await Promise.all([sender.result, receiver.result])
  expect([sent.code, got.code, got.bytes]).toEqual([0, 0, size])
}

/** A transfer whose sender vanishes after some bytes: spectators see it aborted. */
const abortedTransfer = async (path: string) => {
  const receiver = spawnCurl(["-sS", `${server().url}${path}`])
  await waitForReceivers(server(), path, 1)
  const { req } = openRequest(server().url, path, { method: "PUT" })
  req.on("error", () => {})
  req.write(Buffer.alloc(100_000))
  await waitFor(async () => (await jsonSnapshot(path)).state === "streaming", { what: "streaming" })
  req.destroy()
  expect((await receiver.result).code).not.toBe(0)
}

describe("README recipes", () => {
  it("slack: each state change and one result line with outcome, size and duration; no idle, no old result", async () => {
    const path = pipePath(uniqueName("slack"))
    await transfer(path, 100_000) // an earlier transfer, still in its retention window when the bot starts
    const bot = run(recipe("slack"), path)
    await watched(path)
    await transfer(path, 300_000)
    const done = await within(bot.result, 20_000, "the Slack recipe to end after the result")
    expect({ code: done.code, stderr: done.stderr }).toEqual({ code: 0, stderr: "" })
    const texts = slackTexts(bench, path)
    expect(texts.every((text) => text.startsWith("migration: ")), texts.join("\n")).toBe(true)
    expect(texts.some((text) => /idle|100 kB/.test(text)), texts.join("\n")).toBe(false)
    expect(texts.some((text) => text.startsWith("migration: streaming")), texts.join("\n")).toBe(true)
    const results = texts.filter((text) => /^migration: (complete|aborted)/.test(text))
    expect(results).toHaveLength(1)
    expect(results[0]).toMatch(/^migration: complete · 300 kB in [\d.]+ s \([\d.]+ [kMG]?B\/s\) · no errors$/)
    expect(texts.at(-1)).toBe(results[0])
  })

  it("alert: a trigger with \"migration complete\" for a good end, \"migration FAILED\" for an aborted one", async () => {
    const good = pipePath(uniqueName("alert-ok"))
    const okAlert = run(recipe("alert"), good)
    await watched(good)
    await transfer(good, 200_000)
    expect((await within(okAlert.result, 20_000, "the alert")).code).toBe(0)
    expect(bench.posts(`/pager${good}`)).toEqual([{
      routing_key: "test-routing-key",
      event_action: "trigger",
      payload: { summary: "migration complete", severity: "info", source: "pipe" }
    }])

    const bad = pipePath(uniqueName("alert-bad"))
    await transfer(bad, 50_000) // an earlier good result must not satisfy the alert
    const badAlert = run(recipe("alert"), bad)
    await watched(bad)
    await abortedTransfer(bad)
    expect((await within(badAlert.result, 20_000, "the alert")).code).toBe(0)
    expect(bench.posts(`/pager${bad}`)).toEqual([{
      routing_key: "test-routing-key",
      event_action: "trigger",
      payload: { summary: "migration FAILED", severity: "critical", source: "pipe" }
    }])
  })

  it("status page: nothing yet, running with a percent, complete after the window, FAILED after an abort", async () => {
    const path = pipePath(uniqueName("status"))
    const status = async () => {
      const polled = await run(recipe("status"), path).result
      expect(polled.stderr).toBe("")
      return polled.stdoutText.trim()
    }
    expect(await status()).toBe("no migration yet")

    const held = await holdStreaming(server(), `${path}`)
    expect(await status()).toMatch(/^migration running: \d+ bytes$/)
    await held.finish()
    await waitFor(async () => (await jsonSnapshot(path)).state === "idle", { what: "idle after the window" })
    expect(await status()).toMatch(/^migration complete: 12 bytes in [\d.]+ s$/)

    await abortedTransfer(path)
    await waitFor(async () => (await jsonSnapshot(path)).state === "idle", { what: "idle after the window" })
    expect(await status()).toBe("migration FAILED: The sender aborted halfway.")
  })

  it("tar: both senders announce the tree's du -sb size; the tree arrives intact", async () => {
    const parent = join(bench.work(), "lib")
    const tree = join(parent, "postgres")
    makeTree(tree, { seed: "recipe-tar", files: 200, totalBytes: 2_000_000 })
    const du = Number((await shell(`du -sb ${q(tree)} | cut -f1`).result).stdoutText.trim())
    expect(du).toBeGreaterThan(2_000_000)
    const lines = recipe("tar").split("\n").filter((line) => line.trim() !== "" && !line.startsWith("#"))
    expect(lines).toHaveLength(2)
    for (const [i, line] of lines.entries()) {
      const path = pipePath(uniqueName(`tar-${i}`))
      const out = join(bench.work(), `restore-${i}`)
      mkdirSync(out)
      const receiver = shell(`curl -sS '${server().url}${path}' | tar xzf - -C ${q(out)}`)
      await waitForReceivers(server(), path, 1)
      const sender = run(
        line.replaceAll("/var/lib/postgres", tree).replace("-C /var/lib postgres", `-C ${q(parent)} postgres`),
        path
      )
      const spectator = request(server().url, `${path}?progress&until=done`)
      const [sent, got] = await Promise.all([sender.result, receiver.result])
      expect([sent.code, got.code, got.stderr]).toEqual([0, 0, ""])
      const done = /event: done\n(?:id: \d+\n)?data: (.*)\n/.exec((await spectator).text)?.[1]
      expect(JSON.parse(done ?? "null")).toMatchObject({ ok: true, total: du })
      const [want, have] = await Promise.all([hashTree(tree), hashTree(join(out, "postgres"))])
      expect(have).toEqual(want)
    }
  }, 60_000)

  it("the SDK example builds and runs with the README's two commands, and the README shows its code", async () => {
    const example = readFileSync(join(repoRoot, "examples", "send-and-watch.ts"), "utf8")
    const shown = /```ts\n([\s\S]*?)\n```/.exec(readme.slice(readme.indexOf("## Client SDK and CLI")))?.[1] ?? ""
    const code = (line: string) => line.replace(/\s+\/\/.*$/, "").trim()
    const missing = shown.split("\n").map(code).filter((line) => line !== "" && !example.includes(line))
    expect(missing).toEqual([])

    const commands =
      /Run it from the repository[^\n]*\n\n {4}(npx esbuild [^\n]*)\n {4}(node dist\/example\.cjs [^\n#]*)/
        .exec(readme)
    expect(commands).not.toBeNull()
    const build = await shell(`cd ${q(repoRoot)} && ${commands?.[1] ?? "false"}`).result
    expect(build.code).toBe(0)

    const name = uniqueName("sdk")
    const path = pipePath(name)
    const file = join(bench.work(), "db.tar.gz")
    const bytes = prngBytes(name, 500_000)
    writeFileSync(file, bytes)
    const receiver = spawnCurl(["-sS", `${server().url}${path}`])
    await waitForReceivers(server(), path, 1)
    const runLine = (commands?.[2] ?? "").trim()
      .replace("http://localhost:8080", server().url).replace(" migration ", ` ${name} `)
      .replace("/var/backups/db.tar.gz", file)
    const ran = await within(shell(`cd ${q(repoRoot)} && ${runLine}`).result, 20_000, "the example")
    const got = await receiver.result
    expect({ code: ran.code, stderr: ran.stderr }).toEqual({ code: 0, stderr: "" })
    expect(got.bytes).toBe(bytes.length)
    expect(ran.stdoutText).toMatch(/^done \{.*"ok":true/m)
    expect(ran.stdoutText).toContain(`sent ${bytes.length} bytes; last result ok: true`)
  })
})
