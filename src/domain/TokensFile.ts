import { createHash } from "node:crypto"
import type { Grant } from "./AccessGrant.js"
import { nameOfPath, parseRoles } from "./AccessGrant.js"

/**
 * `--tokens-file` (protocol §12): one `<token> <roles> [<path-prefix>]` a line, `#` comment lines, blank lines.
 *
 * The table is keyed by each token's SHA-256, never by the token: a lookup compares digests, so how long it
 * takes says nothing about how much of a guess was right, and a heap dump holds no usable token.
 */
export type TokenTable = ReadonlyMap<string, Grant>

/** Shorter tokens are refused: a public server with a guessable token is an open one. */
export const minTokenLength = 16

const tokenPattern = /^[\x21-\x7e]+$/
const prefixPattern = /^[A-Za-z0-9._~/-]*$/

export const tokenDigest = (token: string): string => createHash("sha256").update(token).digest("hex")

export type TokensFileResult =
  | { readonly _tag: "Ok"; readonly table: TokenTable }
  /** What is wrong and where; never the token itself, which must not reach a log. */
  | { readonly _tag: "Bad"; readonly line: number; readonly problem: string }

export const parseTokensFile = (text: string): TokensFileResult => {
  const table = new Map<string, Grant>()
  const lineOf = new Map<string, number>()
  const lines = text.split(/\r?\n/)
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] ?? "").trim()
    if (line === "" || line.startsWith("#")) continue
    const number = i + 1
    const bad = (problem: string): TokensFileResult => ({ _tag: "Bad", line: number, problem })
    const fields = line.split(/\s+/)
    if (fields.length < 2 || fields.length > 3) return bad("expected '<token> <roles> [<path-prefix>]'")
    const [token = "", rolesText = "", prefixText] = fields
    if (!tokenPattern.test(token)) return bad("the token has characters other than printable ASCII")
    if (token.length < minTokenLength) return bad(`the token is shorter than ${minTokenLength} characters`)
    if (token.startsWith("pipe1.")) return bad("'pipe1.' starts signed tokens, not those of a tokens file")
    const parsed = parseRoles(rolesText)
    if (parsed._tag === "Bad") return bad(`unknown role "${parsed.word}" (roles: send, receive, watch)`)
    if (prefixText !== undefined && !prefixPattern.test(prefixText)) return bad("invalid path prefix")
    const prefix = prefixText === undefined ? "" : nameOfPath(prefixText)
    const digest = tokenDigest(token)
    const earlier = lineOf.get(digest)
    if (earlier !== undefined) return bad(`the same token as line ${earlier}`)
    lineOf.set(digest, number)
    table.set(digest, {
      roles: parsed.roles,
      scope: prefix === "" ? { _tag: "Anywhere" } : { _tag: "Prefix", prefix },
      expiresAt: undefined
    })
  }
  return { _tag: "Ok", table }
}
