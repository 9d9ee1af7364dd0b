import { createHash, type Hash } from "node:crypto"
import { createReadStream } from "node:fs"
import type { Readable } from "node:stream"

export const sha256 = (data: Uint8Array | string): string => createHash("sha256").update(data).digest("hex")

/** sha256 of everything a stream yields. */
export const sha256Stream = async (stream: Readable): Promise<string> => {
  const hash = createHash("sha256")
  for await (const chunk of stream) hash.update(chunk as Buffer)
  return hash.digest("hex")
}

export const sha256File = (path: string): Promise<string> => sha256Stream(createReadStream(path))

/** Incremental sha256 plus a byte count, for data seen chunk by chunk. */
export class Digest {
  #hash: Hash = createHash("sha256")
  #hex: string | undefined
  bytes = 0

  update(chunk: Uint8Array): void {
    if (this.#hex !== undefined) throw new Error("Digest already finalised")
    this.#hash.update(chunk)
    this.bytes += chunk.length
  }

  /** Finalises the digest (idempotent). */
  hex(): string {
    this.#hex ??= this.#hash.digest("hex")
    return this.#hex
  }
}
