// Access control (issue 16, protocol §12): the matrix of role × token kind × method, each with its exact status
// and message; --public-watch; a SIGHUP reload of the tokens file during a running transfer; no token or secret
// in the server's output. Real server processes, real HTTP; signed tokens minted by `pipe token` itself.
import { randomBytes } from "node:crypto"
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { mintToken } from "../src/domain/CapabilityToken.js"
import { pipeCli } from "./support/cli.js"
import { Random } from "./support/hardening-random.js"
import { BodyReader, openRequest, request } from "./support/http.js"
import { holdSender } from "./support/parties.js"
import { uniqueName } from "./support/pipe.js"
import type { ServerHandle } from "./support/server.js"
import { startServer, useServer } from "./support/server.js"
import { waitFor, within } from "./support/wait.js"

const dir = mkdtempSync(join(tmpdir(), "pipe-access-"))
const secret = randomBytes(48).toString("base64")
const secretFile = join(dir, "secret")
writeFileSync(secretFile, `${secret}\n`)

/** Static tokens of the tokens file. */
const admin = `admin-${randomBytes(12).toString("hex")}`
const teamSend = `team-send-${randomBytes(12).toString("hex")}`
const teamReceive = `team-recv-${randomBytes(12).toString("hex")}`
const watcher = `watch-${randomBytes(12).toString("hex")}`
const tokensFile = join(dir, "tokens")
writeFileSync(
  tokensFile,
  [
    "# the admin may do anything anywhere",
    `${admin} send,receive,watch`,
    "",
    `${teamSend} send /team/`,
    `${teamReceive}   receive,watch   team/`,
    `${watcher} watch`
  ].join("\n")
)

const everyToken: Array<string> = [admin, teamSend, teamReceive, watcher, secret]
const logs: Array<string> = []

type Role = "send" | "receive" | "watch"

/** One way of asking: the method and what it adds to the path. */
interface Method {
  readonly label: string
  readonly role: Role
  readonly method: string
  readonly query: string
}

const methods: ReadonlyArray<Method> = [
  { label: "PUT", role: "send", method: "PUT", query: "" },
  { label: "POST", role: "send", method: "POST", query: "" },
  { label: "GET", role: "receive", method: "GET", query: "" },
  { label: "HEAD", role: "receive", method: "HEAD", query: "" },
  { label: "GET ?progress (JSON)", role: "watch", method: "GET", query: "?progress=json" },
  { label: "GET ?progress (SSE)", role: "watch", method: "GET", query: "?progress&until=done" },
  { label: "HEAD ?progress", role: "watch", method: "HEAD", query: "?progress" }
]

/** A token kind: how the token for a given path is made, and what it grants there. */
interface Kind {
  readonly label: string
  readonly token: (name: string) => string | undefined
  readonly grants: (role: Role, name: string) => boolean
}

const signed = (name: string, roles: ReadonlyArray<Role>, expiresAt = Date.now() + 3_600_000, prefix = false) =>
  mintToken(Buffer.from(secret), { path: name, prefix, roles, expiresAt })

const tamper = (token: string): string => {
  const [version, payload = "", mac] = token.split(".")
  // The payload says another path (`team/x` → `team/y`), the MAC stays: a forgery.
  const json = Buffer.from(payload, "base64url").toString("utf8").replace(/"p":"[^"]*"/, "\"p\":\"team/other\"")
  return [version, Buffer.from(json).toString("base64url"), mac].join(".")
}

const kinds: ReadonlyArray<Kind> = [
  { label: "no token", token: () => undefined, grants: () => false },
  { label: "static, no prefix, all roles", token: () => admin, grants: () => true },
  { label: "static, no prefix, watch only", token: () => watcher, grants: (role) => role === "watch" },
  {
    label: "static, prefix team/, send",
    token: () => teamSend,
    grants: (role, name) => role === "send" && name.startsWith("team/")
  },
  {
    label: "static, prefix team/, receive+watch",
    token: () => teamReceive,
    grants: (role, name) => role !== "send" && name.startsWith("team/")
  },
  { label: "unknown static", token: () => `unknown-${randomBytes(10).toString("hex")}`, grants: () => false },
  {
    label: "signed, valid, receive+watch",
    token: (name) => signed(name, ["receive", "watch"]),
    grants: (role) => role !== "send"
  },
  {
    label: "signed, valid prefix team/, send",
    token: () => signed("team/", ["send"], Date.now() + 3_600_000, true),
    grants: (role, name) => role === "send" && name.startsWith("team/")
  },
  {
    label: "signed, expired",
    token: (name) => signed(name, ["send", "receive", "watch"], Date.now() - 1000),
    grants: () => false
  },
  {
    label: "signed, tampered",
    token: (name) => tamper(signed(name, ["send", "receive", "watch"])),
    grants: () => false
  },
  {
    label: "signed, other path",
    token: () => signed("team/elsewhere", ["send", "receive", "watch"]),
    grants: () => false
  },
  {
    label: "signed with another secret",
    token: (name) =>
      mintToken(randomBytes(48), { path: name, prefix: false, roles: ["send"], expiresAt: Date.now() + 60_000 }),
    grants: () => false
  }
]

const bearer = (token: string) => ({ authorization: `Bearer ${token}` })

/** The receivers waiting on a path, read with the admin token (HEAD is the receive role's probe). */
const receiversOn = async (server: ServerHandle, path: string): Promise<string | undefined> => {
  const reply = await request(server.url, path, { method: "HEAD", headers: bearer(admin) })
  const value = reply.headers["x-pipe-receivers"]
  return typeof value === "string" ? value : undefined
}

/**
 * Asks as `method` with `token` (as a header, or `?token=` when `inQuery`) and says what came of it: the status
 * and body of a refusal, or proof that the request was served (a transfer completed with the admin on the other
 * side, or the spectator's 200).
 */
const attempt = async (
  server: ServerHandle,
  method: Method,
  path: string,
  token: string | undefined,
  inQuery: boolean
): Promise<{ readonly status: number; readonly text: string }> => {
  const headers = token === undefined || inQuery ? {} : bearer(token)
  const tokenQuery = token === undefined || !inQuery ? "" : `token=${encodeURIComponent(token)}`
  const query = [method.query.replace(/^\?/, ""), tokenQuery].filter((q) => q !== "").join("&")
  const target = `${path}${query === "" ? "" : `?${query}`}`
  if (method.role === "watch") {
    const { req, response } = openRequest(server.url, target, { method: method.method, headers })
    req.end()
    const res = await within(response, 5_000, `${method.label} ${target}`)
    const status = res.statusCode ?? 0
    // An SSE stream stays open: its 200 and its first event are the proof.
    const body = new BodyReader(res)
    if (method.query.includes("until") && status === 200) {
      await body.waitForText("event: state")
      res.destroy()
      return { status, text: "" }
    }
    return { status, text: (await body.complete).toString("utf8") }
  }
  if (method.role === "send") {
    const { req, response } = openRequest(server.url, target, { method: method.method, headers })
    req.flushHeaders()
    const res = await within(response, 5_000, `${method.label} ${target}`)
    const lines = new BodyReader(res)
    if (res.statusCode !== 200) return { status: res.statusCode ?? 0, text: (await lines.complete).toString() }
    const received = request(server.url, path, { headers: bearer(admin) })
    req.end("payload")
    const got = await received
    expect([got.status, got.text]).toEqual([200, "payload"])
    return { status: 200, text: (await lines.complete).toString() }
  }
  if (method.method === "HEAD") {
    const reply = await request(server.url, target, { method: "HEAD", headers })
    return { status: reply.status, text: reply.text }
  }
  const { req, response } = openRequest(server.url, target, { headers })
  req.end()
  let answered = false
  void response.then(() => (answered = true), () => (answered = true))
  // Either the refusal comes, or the server counts the receiver as waiting (a served receiver gets nothing yet).
  await waitFor(async () => answered || (await receiversOn(server, path)) === "1/1", {
    what: `${method.label} ${target} answered or waiting`,
    timeoutMs: 5_000
  })
  if (!answered) {
    const sent = await request(server.url, path, { method: "PUT", headers: bearer(admin), body: "payload" })
    expect(sent.text).toContain("[INFO] All receiver(s) received successfully.")
  }
  const res = await within(response, 5_000, "receiver head")
  return { status: res.statusCode ?? 0, text: (await new BodyReader(res).complete).toString() }
}

const expected = (kind: Kind, method: Method, name: string, token: string | undefined) => {
  if (kind.grants(method.role, name)) return 200
  return token === undefined ? 401 : 403
}

const message = (status: number, role: Role, path: string) =>
  status === 401
    ? `[ERROR] A token is required for ${role} on '${path}'.\n`
    : `[ERROR] This token may not ${role} on '${path}'.\n`

describe("access matrix: role × token kind × method (--tokens-file and --token-secret)", () => {
  const server = useServer(["--tokens-file", tokensFile, "--token-secret", secretFile, "--retention", "0s"])
  afterAll(() => void logs.push(readFileSync(server().logFile, "utf8")))

  const cases = kinds.flatMap((kind) =>
    methods.flatMap((method) => [
      { kind, method, team: true, inQuery: false },
      { kind, method, team: false, inQuery: false },
      { kind, method, team: true, inQuery: true }
    ])
  )

  it.each(cases)(
    "$kind.label · $method.label · team path $team · token in query $inQuery",
    async ({ kind, method, team, inQuery }) => {
      const name = team ? `team/${uniqueName("m")}` : uniqueName("m")
      // Both spellings of a pipe are the same pipe, and grant the same.
      const path = team ? `/api/v1/pipe/${name}` : `/${name}`
      const token = kind.token(name)
      if (token !== undefined) everyToken.push(token)
      const status = expected(kind, method, name, token)
      const reply = await attempt(server(), method, path, token, inQuery)
      expect(reply.status).toBe(status)
      if (status === 200) {
        if (method.role === "send") expect(reply.text).toContain("[INFO] All receiver(s) received successfully.")
        if (method.role === "receive" && method.method === "GET") expect(reply.text).toBe("payload")
        return
      }
      // HEAD carries no body; its status is the whole answer.
      expect(reply.text).toBe(method.method === "HEAD" ? "" : message(status, method.role, path))
    }
  )

  it("fuzz: random and mutated tokens, as a header or in the query, are a 401 or a 403, never a 500", async () => {
    const seed = process.env["ACCESS_FUZZ_SEED"] ?? `${Date.now().toString(36)}-${process.pid}`
    console.log(`access server fuzz seed: ${seed} (replay with ACCESS_FUZZ_SEED=${seed})`)
    const random = new Random(seed)
    const valid = signed("fuzz", ["watch"])
    const printable = (length: number) =>
      Array.from({ length }, () => String.fromCharCode(random.int(0x21, 0x7e))).join("")
    for (let i = 0; i < 300; i++) {
      const at = random.int(0, valid.length - 1)
      const candidate = random.int(0, 1) === 0
        ? printable(random.int(1, random.int(0, 1) === 0 ? 64 : 6000))
        : valid.slice(0, at) + printable(random.int(0, 3)) + valid.slice(at + 1)
      if (candidate === valid) continue
      const inQuery = random.int(0, 1) === 0
      const reply = inQuery
        ? await request(server().url, `/fuzz?progress=json&token=${encodeURIComponent(candidate)}`)
        : await request(server().url, "/fuzz?progress=json", { headers: { authorization: `Bearer ${candidate}` } })
      // A header Node refuses as too large is its own 431; anything else is ours.
      expect([401, 403, 431], `seed ${seed} #${i}`).toContain(reply.status)
      if (reply.status === 403) expect(reply.text).toBe("[ERROR] This token may not watch on '/fuzz'.\n")
    }
    expect((await request(server().url, "/healthz")).status).toBe(200)
  })

  it("401 says how to authenticate; reserved pages and CORS preflight need no token", async () => {
    const refused = await request(server().url, "/x")
    expect(refused.status).toBe(401)
    expect(refused.headers["www-authenticate"]).toBe("Bearer")
    for (const page of ["/", "/help", "/noscript", "/version", "/healthz", "/metrics", "/robots.txt"]) {
      expect((await request(server().url, page)).status, page).toBe(200)
    }
    const preflight = await request(server().url, "/x", { method: "OPTIONS" })
    expect(preflight.status).toBe(200)
    // A page on another origin may send its token as a header (an open server keeps §7's list: headers.test.ts).
    expect(preflight.headers["access-control-allow-headers"]).toBe(
      "Content-Type, Content-Disposition, X-Piping, Authorization"
    )
    // Errors that need no token to be told come first: an invalid path is a 400 for anyone.
    expect((await request(server().url, "/a/../b")).status).toBe(400)
  })

  it("a browser is refused with a page that does not echo the token", async () => {
    const token = `unknown-${randomBytes(10).toString("hex")}`
    const reply = await request(server().url, `/x?progress&token=${token}`, { headers: { accept: "text/html" } })
    expect(reply.status).toBe(403)
    expect(reply.text).toContain("This token may not watch on &#39;/x&#39;.")
    expect(reply.text).not.toContain(token)
  })

  it("/metrics counts refusals by reason and never shows a token", async () => {
    const text = (await request(server().url, "/metrics")).text
    expect(text).toMatch(/pipe_rejected_requests_total\{reason="TokenRequired"\} [1-9]/)
    expect(text).toMatch(/pipe_rejected_requests_total\{reason="TokenRefused"\} [1-9]/)
    for (const token of everyToken) expect(text).not.toContain(token)
  })

  it("`pipe token` prints the token alone on its last line, and the server takes it for that path only", async () => {
    const name = uniqueName("minted")
    const minted = await pipeCli([
      "token",
      "--path",
      name,
      "--roles",
      "watch",
      "--ttl",
      "5m",
      "--token-secret",
      secretFile
    ]).result
    expect(minted.code).toBe(0)
    const lines = minted.stdoutText.trimEnd().split("\n")
    const token = lines.at(-1) ?? ""
    everyToken.push(token)
    expect(token).toMatch(/^pipe1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/)
    expect(minted.stderr).toContain(`watch on the pipe '${name}'`)
    expect(minted.stderr).not.toContain(secret)
    expect((await request(server().url, `/${name}?progress=json`, { headers: bearer(token) })).status).toBe(200)
    expect((await request(server().url, `/${name}x?progress=json`, { headers: bearer(token) })).status).toBe(403)
    expect((await request(server().url, `/${name}`, { method: "HEAD", headers: bearer(token) })).status).toBe(403)
  })
})

describe("--public-watch", () => {
  const server = useServer(["--tokens-file", tokensFile, "--public-watch", "--retention", "0s"])
  afterAll(() => void logs.push(readFileSync(server().logFile, "utf8")))

  it("spectators need no token; sending and receiving still do", async () => {
    const path = `/${uniqueName("public")}`
    expect((await request(server().url, `${path}?progress=json`)).status).toBe(200)
    expect((await request(server().url, `${path}?progress`, { method: "HEAD" })).status).toBe(200)
    const put = await request(server().url, path, { method: "PUT", body: "x" })
    expect([put.status, put.text]).toEqual([401, `[ERROR] A token is required for send on '${path}'.\n`])
    const get = await request(server().url, path)
    expect([get.status, get.text]).toEqual([401, `[ERROR] A token is required for receive on '${path}'.\n`])
    // A wrong token on a public spectator is not looked at: watching is open.
    expect((await request(server().url, `${path}?progress=json&token=nonsense`)).status).toBe(200)
  })
})

describe("SIGHUP reloads the tokens file", () => {
  it("during a running transfer: the transfer goes on, new requests follow the new file, a bad file keeps the old", async () => {
    const file = join(dir, "reloaded")
    const before = `before-${randomBytes(12).toString("hex")}`
    const after = `after-${randomBytes(12).toString("hex")}`
    everyToken.push(before, after)
    writeFileSync(file, `${before} send,receive,watch\n`)
    const server = await startServer(["--tokens-file", file, "--retention", "0s"])
    try {
      const path = `/${uniqueName("hup")}`
      const sender = await holdSender(server, path, bearer(before))
      const { req, response } = openRequest(server.url, path, { headers: bearer(before) })
      req.end()
      sender.req.write("first|")
      const receiver = new BodyReader(await within(response, 5_000, "receiver head"))
      await receiver.waitForText("first|")

      writeFileSync(file, `# rotated\n${after} watch\n`)
      server.kill("SIGHUP")
      await waitFor(() => readFileSync(server.logFile, "utf8").includes("tokens file reloaded"), {
        what: "the reload's log line"
      })
      const old = await request(server.url, `${path}?progress=json`, { headers: bearer(before) })
      expect([old.status, old.text]).toEqual([403, `[ERROR] This token may not watch on '${path}'.\n`])
      expect((await request(server.url, `${path}?progress=json`, { headers: bearer(after) })).status).toBe(200)

      // A broken file: the tokens in force stay, and the log says so.
      writeFileSync(file, `${after} wacth\n`)
      server.kill("SIGHUP")
      await waitFor(() => readFileSync(server.logFile, "utf8").includes("tokens file not reloaded"), {
        what: "the failed reload's log line"
      })
      expect((await request(server.url, `${path}?progress=json`, { headers: bearer(after) })).status).toBe(200)

      // The transfer that began under the old file is untouched.
      sender.req.end("rest")
      expect((await receiver.complete).toString()).toBe("first|rest")
      expect((await sender.lines.complete).toString()).toContain("[INFO] All receiver(s) received successfully.")
      const log = readFileSync(server.logFile, "utf8")
      expect(log).toContain("line 1: unknown role \\\"wacth\\\"")
    } finally {
      logs.push(readFileSync(server.logFile, "utf8"))
      await server.stop()
    }
  })
})

describe("SIGHUP reloads the token secret", () => {
  it("a new secret voids the old tokens and honours its own; one too short keeps the secret in force", async () => {
    const file = join(dir, "rotated-secret")
    const first = randomBytes(48)
    const second = randomBytes(48)
    writeFileSync(file, first)
    const server = await startServer(["--token-secret", file])
    const path = `/${uniqueName("rotate")}`
    const watchWith = (key: Buffer) =>
      mintToken(key, { path: path.slice(1), prefix: false, roles: ["watch"], expiresAt: Date.now() + 600_000 })
    const status = async (token: string) =>
      (await request(server.url, `${path}?progress=json`, { headers: bearer(token) })).status
    const hangup = async (line: string) => {
      server.kill("SIGHUP")
      await waitFor(() => readFileSync(server.logFile, "utf8").includes(line), { what: `the log line "${line}"` })
    }
    try {
      expect([await status(watchWith(first)), await status(watchWith(second))]).toEqual([200, 403])
      writeFileSync(file, second)
      await hangup("token secret reloaded")
      expect([await status(watchWith(first)), await status(watchWith(second))]).toEqual([403, 200])
      writeFileSync(file, "too short\n")
      await hangup("token secret not reloaded")
      expect(await status(watchWith(second))).toBe(200)
    } finally {
      logs.push(readFileSync(server.logFile, "utf8"))
      await server.stop()
    }
  })
})

describe("a tokens file or secret the server cannot use", () => {
  it.each([
    [
      "a line without roles",
      "tokens",
      "just-one-field-here\n",
      /^pipe: --tokens-file .*: line 1: expected '<token> <roles> \[<path-prefix>\]'$/
    ],
    [
      "an unknown role",
      "tokens",
      `${"x".repeat(20)} send,sned\n`,
      /: line 1: unknown role "sned" \(roles: send, receive, watch\)$/
    ],
    ["a short token", "tokens", "# fine\nshort send\n", /: line 2: the token is shorter than 16 characters$/],
    [
      "a repeated token",
      "tokens",
      `${"y".repeat(20)} send\n${"y".repeat(20)} watch\n`,
      /: line 2: the same token as line 1$/
    ],
    [
      "a short secret",
      "secret",
      "0123456789\n",
      /^pipe: --token-secret .*: the secret has 10 bytes; at least 32 are needed$/
    ]
  ])("%s: one line on stderr, exit 1, the token never in it", async (_label, kind, content, pattern) => {
    const file = join(dir, `bad-${uniqueName("f")}`)
    writeFileSync(file, content)
    const flag = kind === "tokens" ? "--tokens-file" : "--token-secret"
    const result = await pipeCli(["server", "--host", "127.0.0.1", "--port", "0", flag, file]).result
    expect(result.code).toBe(1)
    const lines = result.stderr.trimEnd().split("\n")
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatch(pattern)
    expect(result.stderr).not.toContain("x".repeat(20))
    expect(result.stderr).not.toContain("y".repeat(20))
    expect(result.stdoutText).not.toContain("listening")
  })
})

describe("no token or secret in the server's output", () => {
  it("in every log of this file's servers", () => {
    expect(logs.length).toBeGreaterThanOrEqual(3)
    const all = logs.join("\n")
    for (const token of everyToken) expect(all.includes(token), "a token in a server log").toBe(false)
  })
})
