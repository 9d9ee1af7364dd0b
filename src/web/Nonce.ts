import { randomBytes } from "node:crypto"

/** A fresh CSP nonce, one per response: 144 random bits, base64 (no padding to trip over). */
export const newNonce = (): string => randomBytes(18).toString("base64")
