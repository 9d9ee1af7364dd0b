/**
 * Issue 13's story, played end to end with short windows (`--retention 1s --history-ttl 10m --data-dir`): an
 * evening rehearsal, then the migration with `tar czf - | pipe send --total-of`, watched by a boss's phone
 * dashboard, the README's Slack bot and its alert (started while the rehearsal's result is still shown),
 * the result after the retention window, after a restart of the server, and in a fresh browser at sunrise;
 * then a re-run that is interrupted. Every party is a real process or a real browser.
 */
import { mkdirSync, mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { useBrowser } from "./support/browser.js"
import { pipeCli, q } from "./support/cli.js"
import { shell, spawnCurl } from "./support/curl.js"
import { desktop, noProblems, phone, textOf, waitForLive, waitForText } from "./support/dashboard.js"
import { PrngSource } from "./support/data.js"
import { request } from "./support/http.js"
import { pipePath, uniqueName, waitForReceivers } from "./support/pipe.js"
import { recipe, slackTexts, useRecipes } from "./support/recipes.js"
import { type ServerHandle, startServer } from "./support/server.js"
import { hashTree, makeTree } from "./support/tree.js"
import { waitFor, within } from "./support/wait.js"

interface Result {
  readonly ok: boolean
  readonly bytes: number
  readonly total: number | null
  readonly error: string | null
}

describe("the migration story", () => {
  const root = mkdtempSync(join(tmpdir(), "pipe-story-"))
  const dataDir = join(root, "data")
  const flags = ["--retention", "1s", "--history-ttl", "10m", "--data-dir", dataDir]
  let current: ServerHandle | undefined
  const server = (): ServerHandle => {
    if (current === undefined) throw new Error("no server")
    return current
  }
  const bench = useRecipes(server)

  beforeAll(async () => {
    mkdirSync(dataDir)
    current = await startServer(flags)
  }, 30_000)
  afterAll(async () => {
    await current?.stop()
    rmSync(root, { recursive: true, force: true })
  }, 20_000)
  // After the server's hooks: pages (and their EventSources) close before the server is asked to stop.
  const open = useBrowser()

  const snapshot = async (path: string) => {
    const reply = await request(server().url, `${path}?progress`, { headers: { accept: "application/json" } })
    return JSON.parse(reply.text) as {
      state: string
      spectators: number
      done: Result | null
      last: Result | null
    }
  }

  it("rehearsal, migration, bots, sunrise, restart, and an interrupted re-run", async () => {
    const name = uniqueName("migration")
    const path = pipePath(name)
    const url = `${server().url}${path}`
    const tree = join(root, "lib", "postgres")
    const restore = join(root, "restore")
    mkdirSync(restore)
    makeTree(tree, { seed: "story", files: 60, totalBytes: 20_000_000 })
    const du = Number((await shell(`du -sb ${q(tree)} | cut -f1`).result).stdoutText.trim())

    // The evening before: a rehearsal that completes. Its result is on show (1 s) when the bots start.
    const rehearsal = spawnCurl(["-sS", "-o", "/dev/null", url])
    await waitForReceivers(server(), path, 1)
    expect((await shell(`head -c 100000 /dev/zero | curl -sS -T - '${url}'`).result).code).toBe(0)
    expect((await rehearsal.result).code).toBe(0)
    expect((await snapshot(path)).state).toBe("complete")
    const alert = bench.run(recipe("alert"), path)
    const slack = bench.run(recipe("slack"), path)

    // The boss opens the link on her phone.
    const boss = await open(`${url}?progress`, phone)
    await waitForLive(boss.page)
    await waitFor(async () => (await snapshot(path)).spectators >= 3, { what: "the bots and the phone watching" })

    // The migration: the receiver first (it waits), then tar with the tree's size as the total; the receiver
    // reads at 2 MB/s (~8 MB of gzip), so the phone sees it stream for a few seconds.
    const receiver = shell(`curl -sS --limit-rate 2M '${url}' | tar xzf - -C ${q(restore)}`)
    await waitForText(boss.page, "#state", "Waiting")
    const sender = bench.run(
      `tar czf - -C ${q(join(root, "lib"))} postgres | pipe send --total-of ${q(tree)} "$PIPE/api/v1/pipe/migration"`,
      path
    )
    await waitForText(boss.page, "#state", "Streaming")
    await boss.page.waitForFunction((n) => new RegExp(`^\\d+(\\.\\d)?% · ${n} · pipe$`).test(document.title), name, {
      timeout: 10_000
    })
    const [sent, got] = await Promise.all([sender.result, receiver.result])
    expect({ code: sent.code, receiver: got.code, stderr: got.stderr }).toEqual({ code: 0, receiver: 0, stderr: "" })
    expect(await hashTree(join(restore, "postgres"))).toEqual(await hashTree(tree))

    await waitForText(boss.page, "#state", "Complete")
    expect(await boss.page.title()).toBe(`✓ complete · ${name}`)
    expect(await textOf(boss.page, "#done-meta")).toMatch(/^no errors · finished /)
    const done = (await snapshot(path)).done
    expect(done).toMatchObject({ ok: true, total: du, error: null })

    // The bots: the alert fired once with the migration's outcome, the Slack channel got the story of the
    // migration only (not the rehearsal's result, no idle noise), ending with the result line.
    expect((await within(alert.result, 15_000, "the alert")).code).toBe(0)
    expect(bench.posts(`/pager${path}`)).toMatchObject([{ payload: { summary: "migration complete" } }])
    expect((await within(slack.result, 15_000, "the Slack bot")).code).toBe(0)
    const texts = slackTexts(bench, path)
    expect(texts.filter((text) => /complete|aborted/.test(text)), texts.join("\n")).toEqual([texts.at(-1)])
    // gzip made it smaller than the tree: the result says so rather than pretending the total was reached
    expect(texts.at(-1)).toMatch(
      /^migration: complete · [\d.]+ MB \([\d.]+ MB expected\) in [\d.]+ s \(.*\) · no errors$/
    )
    expect(texts.some((text) => /idle/.test(text)), texts.join("\n")).toBe(false)

    // After the window the path is idle, and the phone leads with the last result.
    await waitForText(boss.page, "#state", "Idle")
    expect(await textOf(boss.page, "#summary")).toMatch(/^Last transfer: complete · [\d.]+ [kMG]B in .* · finished /)
    expect(await snapshot(path)).toMatchObject({ state: "idle", done: null, last: { ok: true, total: du } })

    // A deploy restarts the server overnight: the phone says so, then comes back to the same result, which
    // the new process read from its data directory.
    const port = server().port
    await server().stop()
    await waitForText(boss.page, "#offline", "Connection to the server lost — retrying…", 10_000)
    current = await startServer(flags, port)
    await waitForLive(boss.page)
    await waitForText(boss.page, "#state", "Idle", 10_000)
    expect(await textOf(boss.page, "#summary")).toMatch(/^Last transfer: complete · /)
    // The browser itself logs the refused reconnects while no server listened; nothing else may show up.
    expect(boss.consoleErrors.filter((line) => !line.includes("net::ERR_CONNECTION_REFUSED"))).toEqual([])
    expect([boss.pageErrors, boss.dialogs]).toEqual([[], []])

    // Sunrise: the engineers she forwards the link to see the same, in their first paint.
    const engineer = await open(`${url}?progress`, desktop)
    expect(await textOf(engineer.page, "#summary")).toMatch(/^Last transfer: complete · .* · finished /)
    expect(await textOf(engineer.page, "#done-meta")).toMatch(/^no errors · /)
    noProblems(engineer)
    const head = await request(server().url, path, { method: "HEAD" })
    expect(head.headers["x-pipe-last"]).toBe("complete")

    // A re-run is interrupted: Ctrl-C on the sender exits 130, its receiver's copy is cut, and the path's
    // last result says so for everyone.
    const again = spawnCurl(["-sS", "-o", "/dev/null", url])
    await waitForReceivers(server(), path, 1)
    const interrupted = pipeCli(["send", url], { stdin: new PrngSource(name, { size: 50_000_000 }) })
    await waitFor(async () => (await snapshot(path)).state === "streaming", { what: "the re-run streaming" })
    interrupted.kill("SIGINT")
    expect((await interrupted.result).code).toBe(130)
    expect((await again.result).code).not.toBe(0)
    await waitFor(async () => (await snapshot(path)).last?.ok === false, { what: "the aborted re-run recorded" })
    await waitForText(boss.page, "#state", "Aborted")
    expect(await boss.page.title()).toBe(`✗ aborted · ${name}`)
  }, 120_000)
})
