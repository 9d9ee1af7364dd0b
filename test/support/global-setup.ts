import { readdirSync, rmSync, statSync } from "node:fs"
import { join } from "node:path"
import { artifactsDir } from "./artifacts.js"

/**
 * Removes the harness's own artifacts (server logs, curl dumps) older than an hour, so they do not pile up;
 * keeps anything else, and anything a concurrent run may still be writing.
 */
export default function setup(): void {
  const cutoff = Date.now() - 60 * 60 * 1000
  for (const entry of readdirSync(artifactsDir, { withFileTypes: true })) {
    const path = join(artifactsDir, entry.name)
    if (
      entry.isFile() && /^(server|piping-server|curl-head)-\d+-\d+\.(log|txt)$/.test(entry.name) &&
      statSync(path).mtimeMs < cutoff
    ) {
      rmSync(path, { force: true })
    }
  }
}
