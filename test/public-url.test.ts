// `--public-url` (issue 14): behind a balancer, /help and the home page print the URL users reach the service
// by, not the Host a node was asked with; a value that is no http(s) URL is a usage error.
import { spawnSync } from "node:child_process"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { repoRoot } from "./support/artifacts.js"
import { request } from "./support/http.js"
import { useServer } from "./support/server.js"

const server = useServer(["--public-url", "https://pipe.example.com/"])

describe("--public-url", () => {
  it("/help and the home page print it (without its trailing slash), whatever the Host", async () => {
    const help = await request(server().url, "/help", { headers: { host: "node7.internal:8080" } })
    expect(help.text).toContain("curl -T myfile https://pipe.example.com/api/v1/pipe/mypath")
    expect(help.text).not.toContain("node7.internal")
    const home = await request(server().url, "/", { headers: { host: "node7.internal:8080", accept: "text/html" } })
    expect(home.text).toContain("https://pipe.example.com/api/v1/pipe/")
    expect(home.text).not.toContain("node7.internal")
  })

  it("a value that is no http(s) URL: exit 2 with one line", () => {
    const run = spawnSync(process.execPath, [join(repoRoot, "dist", "main.js"), "server", "--public-url", "ftp://x"], {
      encoding: "utf8"
    })
    expect(run.status).toBe(2)
    expect(run.stderr).toMatch(/--public-url.*Expected an http:\/\/ or https:\/\/ URL/)
  })
})
