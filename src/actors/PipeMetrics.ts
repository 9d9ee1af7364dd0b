import { Effect, Metric, MetricBoundaries } from "effect"

/**
 * The server's measurements, kept with Effect's `Metric`: `/healthz` reads the gauges, `/metrics` renders
 * every metric registered here (see `MetricsText`).
 */
export const PipeMetrics = {
  counters: {
    transfersStarted: Metric.counter("pipe_transfers_started_total", { description: "Transfers started", incremental: true }),
    transfersCompleted: Metric.counter("pipe_transfers_completed_total", { description: "Transfers completed", incremental: true }),
    transfersAborted: Metric.counter("pipe_transfers_aborted_total", { description: "Transfers aborted", incremental: true }),
    bytesRelayed: Metric.counter("pipe_bytes_relayed_total", { description: "Bytes relayed from senders", incremental: true }),
    /** Tagged with `reason`: the refusal's tag (`SenderConflict`, `InvalidPath`, …). */
    rejected: Metric.counter("pipe_rejected_requests_total", { description: "Requests refused, by reason", incremental: true })
  },
  gauges: {
    transfersActive: Metric.gauge("pipe_transfers_active", { description: "Transfers streaming now" }),
    waitingParties: Metric.gauge("pipe_waiting_parties", { description: "Senders and receivers waiting now" }),
    spectatorsActive: Metric.gauge("pipe_spectators_active", { description: "Spectator connections open now" })
  },
  transferDuration: Metric.histogram(
    "pipe_transfer_duration_seconds",
    MetricBoundaries.exponential({ start: 0.01, factor: 4, count: 10 }),
    "Duration of finished transfers"
  )
} as const

/** Registers every metric at zero, so a scrape before the first transfer already lists them all. */
export const initPipeMetrics = Effect.all([
  ...Object.entries(PipeMetrics.counters)
    // `rejected` only makes sense with its `reason` tag: no untagged series at zero.
    .filter(([key]) => key !== "rejected")
    .map(([, counter]) => Metric.incrementBy(counter, 0)),
  ...Object.values(PipeMetrics.gauges).map((gauge) => Metric.incrementBy(gauge, 0)),
  Metric.value(PipeMetrics.transferDuration)
], { discard: true })
