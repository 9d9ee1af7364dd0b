import { Schema } from "effect"

/** The life of a path: `idle → waiting → streaming → complete | aborted`, and back to `waiting`/`idle`. */
export const PipeState = Schema.Literal("idle", "waiting", "streaming", "complete", "aborted")
export type PipeState = typeof PipeState.Type
