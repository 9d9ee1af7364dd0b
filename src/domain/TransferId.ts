import { Schema } from "effect"
import { randomBytes } from "node:crypto"

/** Identifies one transfer on a path; a path reused after `complete` gets a new one. */
export const TransferId = Schema.String.pipe(Schema.pattern(/^t_[0-9a-f]+$/), Schema.brand("TransferId"))
export type TransferId = typeof TransferId.Type

export const makeTransferId = (): TransferId => TransferId.make(`t_${randomBytes(6).toString("hex")}`)
