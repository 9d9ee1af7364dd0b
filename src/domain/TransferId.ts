import { Schema } from "effect"

/** Identifies one transfer on a path; a path reused after `complete` gets a new one. */
export const TransferId = Schema.String.check(Schema.isPattern(/^t_[0-9a-f]+$/)).pipe(Schema.brand("TransferId"))
export type TransferId = typeof TransferId.Type

const idBytes = 6
/** Bytes as two hex digits each, made once: an id is then six lookups, not six `toString(16).padStart`. */
const hexOf = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, "0"))

/**
 * Random bytes drawn 4 KiB at a time: every party's join asks for an id, and one `getRandomValues` call per id
 * (a trip into the C++ side each time) was ~2% of a small transfer's server CPU.
 */
const pool = new Uint8Array(idBytes * 682)
let used = pool.length

/** A fresh id: 48 random bits, enough that two transfers of one path never share one. */
export const makeTransferId = (): TransferId => {
  if (used + idBytes > pool.length) {
    globalThis.crypto.getRandomValues(pool)
    used = 0
  }
  let text = "t_"
  for (let i = used; i < used + idBytes; i++) text += hexOf[pool[i] ?? 0] ?? "00"
  used += idBytes
  // Made from hex digits just above, so the pattern holds without checking it again per id.
  return TransferId.make(text, { disableChecks: true })
}
