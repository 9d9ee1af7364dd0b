import { Schema } from "effect"

/** Identifies one transfer on a path; a path reused after `complete` gets a new one. */
export const TransferId = Schema.String.check(Schema.isPattern(/^t_[0-9a-f]+$/)).pipe(Schema.brand("TransferId"))
export type TransferId = typeof TransferId.Type

const hex = (bytes: Uint8Array) => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")

/** A fresh id: 48 random bits, enough that two transfers of one path never share one. */
export const makeTransferId = (): TransferId =>
  TransferId.make(`t_${hex(globalThis.crypto.getRandomValues(new Uint8Array(6)))}`)
