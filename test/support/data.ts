import { type Cipheriv, createCipheriv, createHash } from "node:crypto"
import { Readable } from "node:stream"
import { Digest } from "./hash.js"

const CHUNK = 64 * 1024
const ZEROS = Buffer.alloc(CHUNK)

/**
 * A seeded pseudo-random byte generator: the AES-256-CTR keystream of sha256(seed).
 * Deterministic, incompressible and fast (~1 GB/s), so any corruption or reordering is detectable.
 */
export class Prng {
  readonly #cipher: Cipheriv

  constructor(seed: string) {
    const key = createHash("sha256").update(seed).digest()
    this.#cipher = createCipheriv("aes-256-ctr", key, Buffer.alloc(16))
  }

  next(size: number): Buffer {
    if (size <= CHUNK) return this.#cipher.update(ZEROS.subarray(0, size))
    const parts: Array<Buffer> = []
    for (let left = size; left > 0; left -= CHUNK) {
      parts.push(this.#cipher.update(ZEROS.subarray(0, Math.min(CHUNK, left))))
    }
    return Buffer.concat(parts)
  }
}

export const prngBytes = (seed: string, size: number): Buffer => new Prng(seed).next(size)

export interface SourceOptions {
  /** Total bytes before EOF (Infinity: never ends by itself). */
  readonly size: number
  /** Stop producing at this many bytes (the stream stays open) until `release()`. */
  readonly holdAt?: number
}

/**
 * A Readable of deterministic bytes that honours backpressure: it produces only when read.
 * `produced` / `digest` describe exactly the bytes handed downstream so far.
 */
export class PrngSource extends Readable {
  readonly digest = new Digest()
  readonly #prng: Prng
  readonly #size: number
  #hold: number
  #wanted = false

  constructor(seed: string, { size, holdAt = Infinity }: SourceOptions) {
    super({ highWaterMark: CHUNK })
    this.#prng = new Prng(seed)
    this.#size = size
    this.#hold = holdAt
  }

  get produced(): number {
    return this.digest.bytes
  }

  override _read(): void {
    this.#wanted = true
    this.#pump()
  }

  /** Lets the source produce up to `holdAt` bytes (default: to the end). */
  release(holdAt = Infinity): void {
    this.#hold = holdAt
    if (this.#wanted) this.#pump()
  }

  #pump(): void {
    while (this.#wanted) {
      if (this.produced >= this.#size) {
        this.#wanted = false
        this.push(null)
        return
      }
      const limit = Math.min(this.#size, this.#hold)
      if (this.produced >= limit) return
      const chunk = this.#prng.next(Math.min(CHUNK, limit - this.produced))
      this.digest.update(chunk)
      this.#wanted = this.push(chunk)
    }
  }
}

/**
 * piping-server-check's `post_first_chunked_long_transfer` sender: a 64 KiB chunk of `seed`'s bytes every
 * 20 ms for `spanMs`. Returns what was written, and how many bytes the receiver had by the halfway mark
 * (`received`, read then), which must be some: the body arrives as it is sent, not at its end.
 */
export const paceChunks = async (
  seed: string,
  write: (chunk: Buffer) => void,
  received: () => number,
  spanMs = 3_000
): Promise<{ readonly sent: Digest; readonly midpointBytes: number | undefined }> => {
  const sent = new Digest()
  const started = Date.now()
  let midpointBytes: number | undefined
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const elapsed = Date.now() - started
      if (elapsed >= spanMs) {
        clearInterval(timer)
        resolve()
        return
      }
      if (midpointBytes === undefined && elapsed >= spanMs / 2) midpointBytes = received()
      const chunk = prngBytes(`${seed}/${sent.bytes}`, CHUNK)
      sent.update(chunk)
      write(chunk)
    }, 20)
  })
  return { sent, midpointBytes }
}
