import { mkdirSync } from "node:fs"
import { join } from "node:path"
import { fileURLToPath } from "node:url"

/** The repository root (/work/main). */
export const repoRoot = fileURLToPath(new URL("../..", import.meta.url))

/** test-artifacts/ (gitignored): server logs, curl header dumps, reports. */
export const artifactsDir = join(repoRoot, "test-artifacts")
mkdirSync(artifactsDir, { recursive: true })

let counter = 0

/** A fresh, unique file name inside test-artifacts/. */
export const artifactPath = (stem: string, ext = "txt"): string =>
  join(artifactsDir, `${stem}-${process.pid}-${++counter}.${ext}`)
