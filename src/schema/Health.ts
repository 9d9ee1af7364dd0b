import { Schema } from "effect"

/** `GET /healthz` and `GET /api/v1/pipe/health`, protocol §6. */
export const Health = Schema.Struct({
  status: Schema.Literal("ok"),
  version: Schema.String,
  uptimeSec: Schema.Number,
  pipes: Schema.Number,
  transfers: Schema.Number,
  spectators: Schema.Number
})
export type Health = typeof Health.Type
