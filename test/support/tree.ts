import { mkdirSync, readdirSync, writeFileSync } from "node:fs"
import { join, relative } from "node:path"
import { Prng } from "./data.js"
import { sha256File } from "./hash.js"

export interface TreeSpec {
  readonly seed: string
  readonly files: number
  /** Approximate total size in bytes. */
  readonly totalBytes: number
}

/**
 * Writes a deterministic tree of `files` files (nested directories, sizes from 0 bytes to tens of MB, about
 * 200 MB for the tar test) under `root`. Each file is part random bytes, part repeated text, so gzip has
 * something to do without costing too much CPU. Returns the total bytes written.
 */
export const makeTree = (root: string, { seed, files, totalBytes }: TreeSpec): number => {
  const prng = new Prng(`${seed}/layout`)
  const unit = (): number => prng.next(4).readUInt32BE(0) / 2 ** 32
  // 1% large, 9% medium, 90% small; weights chosen so the total lands near `totalBytes`.
  const weights = Array.from({ length: files }, (_, i) => {
    const r = unit()
    if (i % 100 === 0) return 400 + 400 * r
    if (i % 10 === 0) return 20 + 40 * r
    return r * r * 2
  })
  const scale = totalBytes / weights.reduce((a, b) => a + b, 0)
  const content = new Prng(`${seed}/content`)
  let written = 0
  weights.forEach((weight, i) => {
    const dir = join(root, `d${i % 7}`, `e${i % 13}`, i % 3 === 0 ? "deep/er" : "")
    mkdirSync(dir, { recursive: true })
    const size = i % 250 === 1 ? 0 : Math.round(weight * scale)
    const randomPart = content.next(Math.floor(size * 0.4))
    const line = Buffer.from(`file ${i} of ${seed}: the quick brown fox jumps over the lazy dog\n`)
    const textPart = Buffer.alloc(size - randomPart.length, line)
    writeFileSync(join(dir, `f${i}.bin`), Buffer.concat([randomPart, textPart]))
    written += size
  })
  return written
}

/** sha256 of every regular file under `root`, keyed by its path relative to `root`. */
export const hashTree = async (root: string): Promise<Map<string, string>> => {
  const entries = readdirSync(root, { recursive: true, withFileTypes: true }).filter((e) => e.isFile())
  const hashes = new Map<string, string>()
  for (const entry of entries) {
    const path = join(entry.parentPath, entry.name)
    hashes.set(relative(root, path), await sha256File(path))
  }
  return new Map([...hashes].sort(([a], [b]) => (a < b ? -1 : 1)))
}
