import { createHash } from "node:crypto"
import { Prng } from "./data.js"

/**
 * A seeded PRNG for the hardening suites (sfc32). The seed is printed by each suite and can be replayed with
 * `HARDENING_SEED=<seed> npx vitest run test/hardening/<file>`.
 */
export class Random {
  #a: number
  #b: number
  #c: number
  #d: number

  constructor(readonly seed: string) {
    const h = createHash("sha256").update(seed).digest()
    this.#a = h.readUInt32LE(0)
    this.#b = h.readUInt32LE(4)
    this.#c = h.readUInt32LE(8)
    this.#d = h.readUInt32LE(12)
    for (let i = 0; i < 16; i++) this.next()
  }

  /** Uniform in [0, 1). */
  next(): number {
    const t = (((this.#a + this.#b) >>> 0) + this.#d) >>> 0
    this.#d = (this.#d + 1) >>> 0
    this.#a = this.#b ^ (this.#b >>> 9)
    this.#b = (this.#c + (this.#c << 3)) >>> 0
    this.#c = ((this.#c << 21) | (this.#c >>> 11)) >>> 0
    this.#c = (this.#c + t) >>> 0
    return t / 4294967296
  }

  /** Uniform integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1))
  }

  /** Log-uniform integer in [min, max] (min ≥ 1): small and large values alike. */
  logInt(min: number, max: number): number {
    return Math.min(
      max,
      Math.max(min, Math.round(Math.exp(Math.log(min) + this.next() * (Math.log(max) - Math.log(min)))))
    )
  }

  chance(p: number): boolean {
    return this.next() < p
  }

  pick<T>(items: ReadonlyArray<T>): T {
    if (items.length === 0) throw new Error("pick from nothing")
    return items[Math.floor(this.next() * items.length)] as T
  }

  /** A string of `length` characters drawn from `alphabet`. */
  string(length: number, alphabet: string): string {
    let out = ""
    for (let i = 0; i < length; i++) out += alphabet[Math.floor(this.next() * alphabet.length)] ?? ""
    return out
  }
}

/** The suite's seed: `HARDENING_SEED` when set (to replay a failure), else a fresh one. Printed either way. */
export const suiteSeed = (suite: string, file = `test/hardening/${suite}.test.ts`): string => {
  const seed = process.env["HARDENING_SEED"] ?? `${Date.now().toString(36)}-${process.pid}`
  console.log(`[${suite}] seed ${seed} (replay: HARDENING_SEED=${seed} npx vitest run ${file})`)
  return seed
}

/** Runs `task(0..count-1)` with at most `limit` running at once; resolves with every result in order. */
export const pool = async <T>(count: number, limit: number, task: (index: number) => Promise<T>): Promise<Array<T>> => {
  const results = new Array<T>(count)
  let nextIndex = 0
  const lane = async (): Promise<void> => {
    while (nextIndex < count) {
      const index = nextIndex++
      results[index] = await task(index)
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, count) }, lane))
  return results
}

/** sha256 of the first `bytes` bytes of the deterministic stream of `seed` (PrngSource / prngBytes), in chunks. */
export const prngPrefixSha256 = (seed: string, bytes: number): string => {
  const prng = new Prng(seed)
  const hash = createHash("sha256")
  for (let left = bytes; left > 0; left -= 1 << 20) hash.update(prng.next(Math.min(1 << 20, left)))
  return hash.digest("hex")
}
