// Interrupted CLI commands (issue 13): SIGINT and SIGTERM to real `pipe send` / `receive` / `watch` processes.
// Each exits 130 or 143, and only after the server was told: the upload is aborted (receivers see a broken
// transfer, spectators `ok: false`), a receiver's leaving is seen by its sender, a partial file is named.
import { existsSync, statSync } from "node:fs"
import { describe, expect, it } from "vitest"
import { artifactPath } from "./support/artifacts.js"
import { pipeCli } from "./support/cli.js"
import { spawnCurl, TRUNCATED } from "./support/curl.js"
import { prngBytes, PrngSource } from "./support/data.js"
import { BodyReader, openRequest, request } from "./support/http.js"
import { healthz, pipePath, uniqueName, waitForReceivers } from "./support/pipe.js"
import { type ServerHandle, useServer } from "./support/server.js"
import { waitFor } from "./support/wait.js"

const MB = 1_000_000
const statusOf = { SIGINT: 130, SIGTERM: 143 } as const
const signals = ["SIGINT", "SIGTERM"] as const

interface Done {
  readonly transferId: string
  readonly ok: boolean
  readonly bytes: number
  readonly error: string | null
}

/** The `done` of the path's JSON snapshot (§4.2), once there is one. */
const snapshotDone = (server: ServerHandle, path: string): Promise<Done> =>
  waitFor(async () => {
    const reply = await request(server.url, `${path}?progress`, { headers: { accept: "application/json" } })
    const snapshot: { readonly done: Done | null } = JSON.parse(reply.text)
    return snapshot.done
  }, { what: `a done in the JSON snapshot of ${path}` })

/** An SSE spectator (curl): it keeps the path's result for the JSON snapshot and sees the live `done`. */
const spectate = async (server: ServerHandle, path: string) => {
  const spectator = spawnCurl([`${server.url}${path}?progress`])
  await spectator.waitForText("event: state")
  return spectator
}

describe("interrupted CLI commands", () => {
  const server = useServer(["--retention", "30s"])

  it.each(signals)(
    "pipe send < stdin, %s: the upload is aborted, the receiver sees it broken, done ok:false",
    async (signal) => {
      const name = uniqueName(`cli-send-${signal}`)
      const url = `${server().url}${pipePath(name)}`
      const spectator = await spectate(server(), pipePath(name))
      const receiver = spawnCurl([url], { keep: false })
      await waitForReceivers(server(), pipePath(name), 1)
      // A stream without a length, as `tar czf - … | pipe send`: only an abort can tell the server it is cut.
      const sender = pipeCli(["send", url], { stdin: new PrngSource(name, { size: Infinity }) })
      await receiver.waitForBytes(2 * MB)
      sender.kill(signal)
      const [sent, received] = await Promise.all([sender.result, receiver.result])
      expect({ code: sent.code, signal: sent.signal }).toEqual({ code: statusOf[signal], signal: null })
      expect(sent.stderr).toMatch(
        /^pipe send: interrupted after at least [\d.]+ [kMG]?B: the upload was aborted, receivers see a broken transfer\n$/
      )
      expect(TRUNCATED).toContain(received.code)
      expect(await snapshotDone(server(), pipePath(name))).toMatchObject({ ok: false })
      await spectator.waitForText("event: done")
      expect(spectator.text()).toMatch(/event: done\nid: \d+\ndata: \{"transferId":"[^"]+","ok":false,/)
      spectator.kill()
    }
  )

  it.each(signals)(
    "pipe receive URL FILE, %s: the sender learns its receiver left, FILE is reported incomplete",
    async (signal) => {
      const name = uniqueName(`cli-receive-${signal}`)
      const path = pipePath(name)
      const file = artifactPath(`cli-partial-${signal}`, "bin")
      const spectator = await spectate(server(), path)
      const receiver = pipeCli(["receive", `${server().url}${path}`, file])
      await waitForReceivers(server(), path, 1)
      // 3 of 9 MB, then the sender holds: the file is exactly 3 MB when the signal comes.
      const { req, response } = openRequest(server().url, path, {
        method: "PUT",
        headers: { "content-length": `${9 * MB}` }
      })
      req.write(prngBytes(name, 3 * MB))
      const senderLines = new BodyReader(await response)
      await waitFor(() => existsSync(file) && statSync(file).size === 3 * MB, { what: `3 MB in ${file}` })
      receiver.kill(signal)
      const received = await receiver.result
      expect({ code: received.code, signal: received.signal }).toEqual({ code: statusOf[signal], signal: null })
      expect(received.stderr).toBe(`pipe receive: interrupted: ${file} is incomplete (3.00 MB of 9.00 MB)\n`)
      expect(statSync(file).size).toBe(3 * MB)
      await senderLines.waitForText("[ERROR] All receiver(s) aborted halfway.")
      expect(await snapshotDone(server(), path)).toMatchObject({ ok: false, bytes: 3 * MB })
      req.destroy()
      spectator.kill()
    }
  )

  it("pipe receive to stdout, interrupted while waiting: its slot is freed and it says it got nothing", async () => {
    const name = uniqueName("cli-receive-waiting")
    const receiver = pipeCli(["receive", `${server().url}${pipePath(name)}`])
    await waitForReceivers(server(), pipePath(name), 1)
    receiver.kill("SIGINT")
    const received = await receiver.result
    expect({ code: received.code, stdout: received.stdoutText }).toEqual({ code: 130, stdout: "" })
    expect(received.stderr).toBe("pipe receive: interrupted while waiting for the sender\n")
    await waitForReceivers(server(), pipePath(name), 0)
  })

  it.each(
    [
      ["SIGINT", ["--until-done"]],
      ["SIGTERM", []]
    ] as const
  )("pipe watch, %s: exits non-zero (never a false done) and leaves the server's spectators", async (signal, flags) => {
    const name = uniqueName(`cli-watch-${signal}`)
    const before = (await healthz(server())).spectators
    const watch = pipeCli(["watch", ...flags, "--json", `${server().url}${pipePath(name)}`])
    await watch.waitForText("\"event\":\"state\"")
    expect((await healthz(server())).spectators).toBe(before + 1)
    watch.kill(signal)
    const watched = await watch.result
    expect({ code: watched.code, signal: watched.signal }).toEqual({ code: statusOf[signal], signal: null })
    expect(watched.stdoutText).not.toContain("\"event\":\"done\"")
    await waitFor(async () => (await healthz(server())).spectators === before, { what: "the spectator gone" })
  })
})
