import { Schema } from "effect"

/**
 * `GET /healthz` and `GET /api/v1/pipe/health`, protocol §6; `draining` (with a 503) once SIGTERM began the
 * drain (§11), so a balancer sends new paths elsewhere.
 */
export const Health = Schema.Struct({
  status: Schema.Literals(["ok", "draining"]),
  version: Schema.String,
  uptimeSec: Schema.Number,
  pipes: Schema.Number,
  transfers: Schema.Number,
  spectators: Schema.Number
})
export type Health = typeof Health.Type
