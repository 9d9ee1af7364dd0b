// The CLI on a server with access control (issue 16): `--token` / PIPE_TOKEN for send, receive and watch; a
// token in a link's `?token=`; `pipe send` without a name makes up an unguessable one and prints the receive and
// watch links, with a receive-only and a watch-only token when it has the secret. Real processes, real sockets.
import { Option } from "effect"
import { type ChildProcess, spawn } from "node:child_process"
import { randomBytes } from "node:crypto"
import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterEach, describe, expect, it } from "vitest"
import { peekToken } from "../src/domain/CapabilityToken.js"
import { jsonEvents, mainJs, pipeCli, pipeCliWords, q } from "./support/cli.js"
import { shell } from "./support/curl.js"
import { request } from "./support/http.js"
import { pipePath, uniqueName } from "./support/pipe.js"
import { useServer } from "./support/server.js"
import { waitFor } from "./support/wait.js"

const dir = mkdtempSync(join(tmpdir(), "pipe-access-cli-"))
const secretFile = join(dir, "secret")
writeFileSync(secretFile, `${randomBytes(48).toString("base64")}\n`)
const admin = `admin-${randomBytes(12).toString("hex")}`
const watcher = `watcher-${randomBytes(12).toString("hex")}`
const tokensFile = join(dir, "tokens")
writeFileSync(tokensFile, `${admin} send,receive,watch\n${watcher} watch\n`)

const server = useServer(["--tokens-file", tokensFile, "--token-secret", secretFile, "--retention", "5s"])

/** A `pipe send` whose stderr is read as it comes (the links are printed before the transfer starts). */
const startSend = (args: ReadonlyArray<string>, stdin: string) => {
  const child: ChildProcess = spawn(process.execPath, [mainJs, "send", ...args], { stdio: ["pipe", "pipe", "pipe"] })
  let stderr = ""
  child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")))
  child.stdin?.end(stdin)
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)))
  live.push(child)
  return {
    exited,
    stderr: () => stderr,
    links: async () => {
      await waitFor(() => stderr.includes("  watch:"), { what: "the links on stderr" })
      const receive = /receive: pipe receive '([^']+)'/.exec(stderr)?.[1]
      const watch = /watch: {3}(\S+)/.exec(stderr)?.[1]
      const sending = /sending to (\S+)/.exec(stderr)?.[1]
      if (receive === undefined || watch === undefined || sending === undefined) throw new Error(stderr)
      return { sending, receive, watch }
    }
  }
}
const live: Array<ChildProcess> = []
afterEach(() => {
  for (const child of live.splice(0)) child.kill("SIGKILL")
})

const roles = (token: string | null) =>
  token === null ? undefined : Option.getOrUndefined(Option.map(peekToken(token), (c) => c.roles))

describe("pipe send without a name", () => {
  it("makes up 128 random bits and prints a receive-only and a watch-only link, which work and only so", async () => {
    const send = startSend(["--server", server().url, "--token-secret", secretFile], "hello, receiver\n")
    const links = await send.links()
    expect(links.sending).toMatch(/\/api\/v1\/pipe\/[A-Za-z0-9_-]{22}$/)
    const receiveUrl = new URL(links.receive)
    const watchUrl = new URL(links.watch)
    expect(roles(receiveUrl.searchParams.get("token"))).toEqual(["receive"])
    expect(roles(watchUrl.searchParams.get("token"))).toEqual(["watch"])
    // The watch link shows the dashboard (here its JSON), and sends nothing; the receive link cannot send.
    const watched = await request(server().url, `${watchUrl.pathname}${watchUrl.search}`, {
      headers: { accept: "application/json" }
    })
    expect(watched.status).toBe(200)
    const put = await request(server().url, `${receiveUrl.pathname}${receiveUrl.search}`, { method: "PUT", body: "x" })
    expect(put.status).toBe(403)
    const received = await pipeCli(["receive", links.receive]).result
    expect(received.code).toBe(0)
    expect(received.stdoutText).toBe("hello, receiver\n")
    expect(await send.exited).toBe(0)
  })

  it("with a token that opens the data, the watch link carries none", async () => {
    const send = startSend(["--server", server().url, "--token", admin], "secret data\n")
    const links = await send.links()
    expect(links.watch).toBe(`${links.sending}?progress`)
    expect(links.receive).toBe(links.sending)
    expect(send.stderr()).not.toContain(admin)
    const received = await pipeCli(["receive", "--token", admin, links.sending]).result
    expect(received.stdoutText).toBe("secret data\n")
    expect(await send.exited).toBe(0)
  })
})

describe("--token and PIPE_TOKEN", () => {
  it("send, receive and watch present their token; without one the server's 401 is the message", async () => {
    const name = uniqueName("cli-token")
    const url = `${server().url}${pipePath(name)}`
    const watch = pipeCli(["watch", "--until-done", "--json", "--token", watcher, url])
    await waitFor(async () =>
      (await request(server().url, `${pipePath(name)}?progress=json`, {
        headers: { authorization: `Bearer ${admin}` }
      })).text.includes("\"spectators\":1"), { what: "the watcher connected" })
    const receive = shell(`PIPE_TOKEN=${q(admin)} ${pipeCliWords} receive ${q(url)}`)
    const send = shell(`printf 'via the CLI' | ${pipeCliWords} send --token ${q(admin)} ${q(url)}`)
    const [sent, received, watched] = await Promise.all([send.result, receive.result, watch.result])
    expect(sent.code).toBe(0)
    expect([received.code, received.stdoutText]).toEqual([0, "via the CLI"])
    expect(watched.code).toBe(0)
    expect(jsonEvents(watched.stdoutText).find((e) => e.event === "done")).toMatchObject({ ok: true })

    const refused = await pipeCli(["receive", url]).result
    expect(refused.code).toBe(1)
    expect(refused.stderr).toBe(
      `pipe receive: A token is required for receive on '${pipePath(name)}'. (TokenRequired)\n`
    )
    const wrong = await pipeCli(["receive", "--token", watcher, url]).result
    expect(wrong.stderr).toBe(`pipe receive: This token may not receive on '${pipePath(name)}'. (TokenRefused)\n`)
    expect(wrong.stderr).not.toContain(watcher)
  })
})
