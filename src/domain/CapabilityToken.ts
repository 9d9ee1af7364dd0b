import { Option, Schema } from "effect"
import { createHmac, timingSafeEqual } from "node:crypto"
import type { Grant, Role } from "./AccessGrant.js"
import { roles as allRoles } from "./AccessGrant.js"

/**
 * Signed capability tokens (protocol §12): `pipe1.<payload>.<mac>`, both parts base64url without padding.
 *
 * - payload: the JSON `{"p":<pipe name or prefix>,"x":<true for a prefix>,"r":[<roles>],"e":<expiry, s>}`;
 * - mac: HMAC-SHA256 under the server's secret of the ASCII text `pipe1.<payload>` (version included, so a
 *   later format can never be confused with this one).
 *
 * The server keeps no state: it recomputes the MAC and compares it with `timingSafeEqual` before it even
 * decodes the payload, so a forger learns nothing from timing and no unauthenticated JSON is parsed. Any
 * change to the path, the prefix flag, a role or the expiry changes the MAC; without the secret (at least
 * 32 bytes, so not guessable) nobody can make a valid one. A token names what it grants in clear (it is a
 * capability, not a secret about the server): path, roles, expiry are readable by whoever holds it.
 * Revocation is by expiry, or by changing the secret, which voids every token made with it.
 */

export const tokenVersion = "pipe1"

/** No secret shorter than this is accepted: HMAC-SHA256's strength needs a key of its output's size. */
export const minSecretBytes = 32

/** A token longer than this is not looked at (it cannot be one of ours). */
export const maxTokenLength = 4096

export interface Capability {
  /** The pipe name, or the prefix of names. */
  readonly path: string
  readonly prefix: boolean
  readonly roles: ReadonlyArray<Role>
  /** Milliseconds since the epoch; carried in whole seconds. */
  readonly expiresAt: number
}

/** A secret file's key: its bytes less a final line break (as `openssl rand -base64 48 > FILE` leaves one). */
export const secretOf = (bytes: Uint8Array): Uint8Array => {
  let end = bytes.length
  while (end > 0 && (bytes[end - 1] === 0x0a || bytes[end - 1] === 0x0d)) end--
  return bytes.subarray(0, end)
}

const Payload = Schema.Struct({
  p: Schema.String,
  x: Schema.Boolean,
  r: Schema.Array(Schema.Literals(allRoles)),
  e: Schema.Number
})
const decodePayload = Schema.decodeUnknownOption(Schema.fromJsonString(Payload))

const macOf = (secret: Uint8Array, signed: string): Buffer => createHmac("sha256", secret).update(signed).digest()

export const mintToken = (secret: Uint8Array, capability: Capability): string => {
  const payload = Buffer.from(JSON.stringify({
    p: capability.path,
    x: capability.prefix,
    r: capability.roles,
    e: Math.floor(capability.expiresAt / 1000)
  })).toString("base64url")
  const signed = `${tokenVersion}.${payload}`
  return `${signed}.${macOf(secret, signed).toString("base64url")}`
}

const base64url = /^[A-Za-z0-9_-]+$/

/**
 * The grant of a token made with `secret`, or none when it is not one: malformed, tampered, made with
 * another secret. Its expiry is part of the grant (`allows` checks it), so an expired token decodes.
 */
export const verifyToken = (secret: Uint8Array, token: string): Option.Option<Grant> => {
  if (token.length > maxTokenLength) return Option.none()
  const parts = token.split(".")
  if (parts.length !== 3 || parts[0] !== tokenVersion) return Option.none()
  const [, payload = "", mac = ""] = parts
  if (!base64url.test(payload) || !base64url.test(mac)) return Option.none()
  const given = Buffer.from(mac, "base64url")
  // Only the canonical spelling: base64url's last character has spare bits, and one token is one text.
  if (given.toString("base64url") !== mac) return Option.none()
  const expected = macOf(secret, `${tokenVersion}.${payload}`)
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return Option.none()
  return Option.map(decodePayload(Buffer.from(payload, "base64url").toString("utf8")), (p) => ({
    roles: new Set(p.r),
    scope: p.x ? { _tag: "Prefix", prefix: p.p } : { _tag: "Exact", name: p.p },
    expiresAt: p.e * 1000
  }))
}

/** Whether the text looks like a signed token at all (so a tokens-file lookup is not even tried). */
export const isSignedToken = (token: string): boolean => token.startsWith(`${tokenVersion}.`)

/**
 * What a signed token says it grants, read without the secret (nothing is verified: for the holder's own
 * display only, such as whether a link may carry it). None for a token that is not one of ours.
 */
export const peekToken = (token: string): Option.Option<Capability> => {
  if (token.length > maxTokenLength || !isSignedToken(token)) return Option.none()
  const payload = token.split(".")[1] ?? ""
  if (!base64url.test(payload)) return Option.none()
  return Option.map(decodePayload(Buffer.from(payload, "base64url").toString("utf8")), (p) => ({
    path: p.p,
    prefix: p.x,
    roles: p.r,
    expiresAt: p.e * 1000
  }))
}

/** Whether a token may go in a link handed to a spectator: it must grant watching and nothing else. */
export const isWatchOnly = (token: string): boolean =>
  Option.match(peekToken(token), {
    onNone: () => false,
    onSome: (capability) => capability.roles.length > 0 && capability.roles.every((role) => role === "watch")
  })
