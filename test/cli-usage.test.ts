// The CLI's face (issue 13): one-screen help with examples and no colour off a terminal, usage mistakes as one
// line and exit status 2, a port already in use as one line and exit status 1. Real processes, real sockets.
import { createServer, type Server } from "node:net"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { pipeCli, pipeCliWords, q } from "./support/cli.js"
import { shell } from "./support/curl.js"

const ansi = "\x1b["

describe("--help", () => {
  it.each([[[]], [["send"]], [["receive"]], [["watch"]], [["server"]]])(
    "pipe %s --help: one screen (<= 24 lines of < 80 columns), two examples, no colour into a pipe",
    async (command) => {
      const help = await pipeCli([...command, "--help"]).result
      expect({ code: help.code, stderr: help.stderr }).toEqual({ code: 0, stderr: "" })
      const lines = help.stdoutText.trimEnd().split("\n")
      // The server's flags outgrew one screen (scaling out, issue 14; access control, issue 16): one line each.
      expect(lines.length).toBeLessThanOrEqual(command[0] === "server" ? 45 : 24)
      for (const line of lines) expect(line.length, line).toBeLessThan(80)
      expect(lines[0]?.startsWith(`Usage: ${["pipe", ...command].join(" ")} `)).toBe(true)
      const examples = lines.slice(lines.indexOf("Examples:") + 1).filter((line) => /^ {2}\S/.test(line))
      expect(examples.filter((line) => line.includes("pipe ") && !line.startsWith("  #"))).toHaveLength(2)
      expect(help.stdoutText).not.toContain(ansi)
    }
  )

  it("no colour even when FORCE_COLOR is inherited (a test runner's), and colour on a real terminal", async () => {
    const piped = await shell(`FORCE_COLOR=1 ${pipeCliWords} watch --help | cat`).result
    expect(piped.code).toBe(0)
    expect(piped.stdoutText).toContain("--until-done")
    expect(piped.stdoutText).not.toContain(ansi)
    // The control: on a pseudo-terminal the same help is coloured, so the assertions above can fail.
    const tty = await shell(`script -qec ${q(`${pipeCliWords} watch --help`)} /dev/null`).result
    expect(tty.code).toBe(0)
    expect(tty.stdoutText).toContain(`${ansi}1mUsage:`)
    const noColor = await shell(`NO_COLOR=1 script -qec ${q(`${pipeCliWords} watch --help`)} /dev/null`).result
    expect(noColor.stdoutText).toContain("--until-done")
    expect(noColor.stdoutText).not.toContain(ansi)
  })

  it("--version prints the version alone", async () => {
    const shown = await pipeCli(["--version"]).result
    expect(shown.code).toBe(0)
    expect(shown.stdoutText).toMatch(/^pipe \d+\.\d+\.\d+\n$/)
  })
})

describe("usage mistakes: one line on stderr, exit status 2, nothing on stdout", () => {
  it.each<[string, ReadonlyArray<string>, RegExp]>([
    // Without a target `send` makes up a random name (issue 16), but it still needs a server.
    [
      "a missing argument",
      ["send"],
      /^pipe send: give a pipe URL, or --server URL \(or PIPE_URL\) to send under a random name/
    ],
    [
      "a missing argument (receive)",
      ["receive", "--server", "http://127.0.0.1:1"],
      /^pipe receive: missing argument <target> /
    ],
    [
      "an unknown flag",
      ["receive", "--bogus", "x"],
      /^pipe receive: unknown flag --bogus \(see pipe receive --help\)\n$/
    ],
    ["a misspelt flag", ["send", "--totl", "5", "x"], /^pipe send: unknown flag --totl \(did you mean --total\?\) /],
    ["an unknown command", ["snd", "x"], /^pipe: unknown command "snd" \(did you mean send\?\) \(see pipe --help\)\n$/],
    [
      "a bad flag value",
      ["send", "--total", "abc", "http://127.0.0.1:1/x"],
      /^pipe send: Invalid value for flag --total: "abc"\./
    ],
    [
      "--total and --total-of",
      ["send", "--total", "5", "--total-of", ".", "http://127.0.0.1:1/x"],
      /^pipe send: give --total or --total-of, not both /
    ],
    [
      "a missing --total-of path",
      ["send", "--total-of", "/nonexistent/tree", "http://127.0.0.1:1/x"],
      /^pipe send: .*\/nonexistent\/tree/
    ],
    [
      "a bad --server",
      ["watch", "--server", "example.com", "name"],
      /^pipe watch: --server "example.com" is not an http\(s\) URL\n$/
    ],
    [
      "an unusable URL",
      ["receive", "http://exa mple.com/api/v1/pipe/x"],
      /^pipe receive: "http:\/\/exa mple.com\/api\/v1\/pipe\/x" is not a valid URL\n$/
    ],
    // (`send` makes up a name for a server URL alone: issue 16.)
    [
      "a URL without a pipe",
      ["receive", "http://127.0.0.1:1/"],
      /^pipe receive: "http:\/\/127.0.0.1:1\/" names no pipe/
    ],
    [
      "another scheme",
      ["receive", "ftp://host/api/v1/pipe/x"],
      /^pipe receive: "ftp:\/\/host\/api\/v1\/pipe\/x" is not a valid http\(s\) URL\n$/
    ],
    ["a mistyped URL", ["watch", "http:/host/x"], /^pipe watch: "http:\/host\/x" is not a valid http\(s\) URL\n$/],
    [
      "-n out of range",
      ["send", "-n", "0", "http://127.0.0.1:1/x"],
      /^pipe send: Invalid value for flag --receivers: "0"\. Expected an integer from 1 to 256 /
    ],
    [
      "a negative --total",
      ["send", "--total", "-5", "http://127.0.0.1:1/x"],
      /^pipe send: Invalid value for flag --total: "-5"\./
    ],
    ["a path without a server", ["watch", "some/path"], /^pipe watch: "some\/path" is a path: give the server/],
    ["a bad server flag", ["server", "--port", "eighty"], /^pipe server: Invalid value for flag --port: "eighty"\./],
    [
      "a bad duration",
      ["server", "--retention", "5 parsecs"],
      /^pipe server: Invalid value for flag --retention: "5 parsecs"\. Expected a duration/
    ]
  ])("%s", async (_, args, stderr) => {
    // PIPE_URL may be set where the suite runs; these must not depend on it.
    const run = await shell(`unset PIPE_URL; ${pipeCliWords} ${args.map(q).join(" ")}`, { stdin: "" }).result
    expect({ code: run.code, stdout: run.stdoutText }).toEqual({ code: 2, stdout: "" })
    expect(run.stderr).toMatch(stderr)
    expect(run.stderr.split("\n")).toHaveLength(2) // one line and its newline
  })

  it("a bare `pipe` shows the help on stderr and exits 2: it did nothing that was asked", async () => {
    const run = await pipeCli([]).result
    expect({ code: run.code, stdout: run.stdoutText }).toEqual({ code: 2, stdout: "" })
    expect(run.stderr).toMatch(/^Usage: pipe <subcommand> \[flags\]\n/)
  })
})

describe("pipe server on a port already in use", () => {
  let holder: Server
  let port = 0
  beforeAll(async () => {
    holder = createServer()
    await new Promise<void>((resolve) => holder.listen(0, "127.0.0.1", resolve))
    const address = holder.address()
    port = typeof address === "object" && address !== null ? address.port : 0
  })
  afterAll(() => new Promise<void>((resolve) => holder.close(() => resolve())))

  it("says so in one line and exits 1", async () => {
    expect(port).toBeGreaterThan(0)
    const run = await pipeCli(["server", "--host", "127.0.0.1", "--port", String(port)]).result
    expect({ code: run.code, stdout: run.stdoutText, stderr: run.stderr }).toEqual({
      code: 1,
      stdout: "",
      stderr: `pipe: port ${port} is already in use on 127.0.0.1\n`
    })
  })
})
