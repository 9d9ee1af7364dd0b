import { Metric } from "effect"

/** The abuse limits of protocol §12, as `/metrics` counts their hits. */
export type LimitReason = "max_connections_per_ip" | "max_transfer_bytes"

/** One series per limit that has been reached: `pipe_limit_hits_total{reason="max_transfer_bytes"}`. */
export const countLimitHit = (reason: LimitReason) =>
  Metric.update(
    Metric.counter("pipe_limit_hits_total", {
      description: "Requests refused or transfers cut by an abuse limit, by reason",
      incremental: true,
      attributes: { reason }
    }),
    1
  )
