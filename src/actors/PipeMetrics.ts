import { Metric } from "effect"

/** The server's counters, kept with Effect's `Metric` so `/healthz` and `/metrics` read one source. */
export const PipeMetrics = {
  counters: {
    transfersStarted: Metric.counter("pipe_transfers_started_total", { description: "Transfers started" }),
    transfersCompleted: Metric.counter("pipe_transfers_completed_total", { description: "Transfers completed" }),
    transfersAborted: Metric.counter("pipe_transfers_aborted_total", { description: "Transfers aborted" }),
    bytesRelayed: Metric.counter("pipe_bytes_relayed_total", { description: "Bytes relayed from senders" })
  },
  gauges: {
    transfersActive: Metric.gauge("pipe_transfers_active", { description: "Transfers streaming now" }),
    spectatorsActive: Metric.gauge("pipe_spectators_active", { description: "Spectator connections open now" })
  }
} as const
