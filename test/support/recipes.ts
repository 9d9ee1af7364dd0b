/** The README's shell recipes as the suite runs them: the block, a stand-in webhook, and `pipe` on the PATH. */
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { createServer, type Server } from "node:http"
import type { AddressInfo } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll } from "vitest"
import { repoRoot } from "./artifacts.js"
import { mainJs, q } from "./cli.js"
import { shell } from "./curl.js"
import type { ServerHandle } from "./server.js"

export const readme = readFileSync(join(repoRoot, "README.md"), "utf8")

/** The shell block of the README that follows `<!-- recipe: name -->`. */
export const recipe = (name: string): string => {
  const found = new RegExp(`<!-- recipe: ${name} -->\\n\`\`\`sh\\n([\\s\\S]*?)\\n\`\`\``).exec(readme)?.[1]
  if (found === undefined) throw new Error(`README has no recipe "${name}"`)
  return found
}

export interface RecipeBench {
  /** A scratch directory of the describe block, removed after it. */
  readonly work: () => string
  /** What the stand-in webhook was sent, by URL path (`/slack<pipe path>`, `/pager<pipe path>`), as JSON. */
  readonly posts: (hookPath: string) => ReadonlyArray<unknown>
  /** Runs a recipe on `path` instead of the README's `migration`, with the environment the README assumes. */
  readonly run: (script: string, path: string) => ReturnType<typeof shell>
}

/** A webhook stand-in and a PATH with this build's `pipe`, for the enclosing describe block. */
export const useRecipes = (server: () => ServerHandle): RecipeBench => {
  const received = new Map<string, Array<unknown>>()
  let work = ""
  let hook: Server | undefined
  let hookUrl = ""
  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), "pipe-recipes-"))
    mkdirSync(join(work, "bin"))
    writeFileSync(join(work, "bin", "pipe"), `#!/bin/sh\nexec ${q(process.execPath)} ${q(mainJs)} "$@"\n`)
    chmodSync(join(work, "bin", "pipe"), 0o755)
    hook = createServer((req, res) => {
      const chunks: Array<Buffer> = []
      req.on("data", (chunk: Buffer) => chunks.push(chunk))
      req.on("end", () => {
        const list = received.get(req.url ?? "") ?? []
        list.push(JSON.parse(Buffer.concat(chunks).toString("utf8")))
        received.set(req.url ?? "", list)
        res.end("ok")
      })
    })
    await new Promise<void>((resolve) => hook?.listen(0, "127.0.0.1", resolve))
    hookUrl = `http://127.0.0.1:${(hook.address() as AddressInfo).port}`
  })
  afterAll(async () => {
    hook?.closeAllConnections()
    await new Promise((resolve) => hook?.close(resolve))
    rmSync(work, { recursive: true, force: true })
  })
  return {
    work: () => work,
    posts: (hookPath) => received.get(hookPath) ?? [],
    run: (script, path) =>
      shell(
        [
          `export PATH=${q(join(work, "bin"))}:"$PATH"`,
          `export PIPE=${q(server().url)}`,
          `export SLACK_WEBHOOK=${q(`${hookUrl}/slack${path}`)}`,
          `export PAGER_URL=${q(`${hookUrl}/pager${path}`)}`,
          "export PAGER_KEY=test-routing-key",
          script.replaceAll("/api/v1/pipe/migration", path)
        ].join("\n")
      )
  }
}

/** The Slack messages' texts a recipe posted for `path`. */
export const slackTexts = (bench: RecipeBench, path: string): Array<string> =>
  bench.posts(`/slack${path}`).map((body) => (body as { text: string }).text)
