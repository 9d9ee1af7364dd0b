import { Effect, Metric } from "effect"

/**
 * The server's measurements, kept with Effect's `Metric`: `/healthz` reads the gauges, `/metrics` renders
 * every metric registered here (see `MetricsText`).
 */
export const PipeMetrics = {
  counters: {
    transfersStarted: Metric.counter("pipe_transfers_started_total", {
      description: "Transfers started",
      incremental: true
    }),
    transfersCompleted: Metric.counter("pipe_transfers_completed_total", {
      description: "Transfers completed",
      incremental: true
    }),
    transfersAborted: Metric.counter("pipe_transfers_aborted_total", {
      description: "Transfers aborted",
      incremental: true
    }),
    bytesRelayed: Metric.counter("pipe_bytes_relayed_total", {
      description: "Bytes relayed from senders",
      incremental: true
    })
  },
  gauges: {
    transfersActive: Metric.gauge("pipe_transfers_active", { description: "Transfers streaming now" }),
    waitingParties: Metric.gauge("pipe_waiting_parties", { description: "Senders and receivers waiting now" }),
    spectatorsActive: Metric.gauge("pipe_spectators_active", { description: "Spectator connections open now" }),
    openPipes: Metric.gauge("pipe_open_pipes", { description: "Paths with a live actor" })
  },
  transferDuration: Metric.histogram("pipe_transfer_duration_seconds", {
    description: "Duration of finished transfers",
    boundaries: Metric.exponentialBoundaries({ start: 0.01, factor: 4, count: 10 })
  })
} as const

/** `reason` is the refusal's cause (`SenderConflict`, `InvalidPath`, …): one series per cause that happened. */
export const countRejected = (reason: string) =>
  Metric.update(
    Metric.counter("pipe_rejected_requests_total", {
      description: "Requests refused, by reason",
      incremental: true,
      attributes: { reason }
    }),
    1
  )

/** Adds `delta` to a gauge. */
export const shift = (gauge: Metric.Gauge<number>, delta: number) => Metric.modify(gauge, delta)

export const gaugeValue = (gauge: Metric.Gauge<number>) => Effect.map(Metric.value(gauge), (state) => state.value)

/** Registers every metric at zero, so a scrape before the first transfer already lists them all. */
export const initPipeMetrics = Effect.all([
  ...Object.values(PipeMetrics.counters).map((counter) => Metric.update(counter, 0)),
  ...Object.values(PipeMetrics.gauges).map((gauge) => Metric.modify(gauge, 0)),
  Metric.value(PipeMetrics.transferDuration)
], { discard: true })
