import { Effect, Metric, MetricKeyType, MetricState } from "effect"
import type { MetricPair } from "effect"

/**
 * Every Effect metric in the Prometheus text exposition format (0.0.4). Written here rather than taken
 * from an exporter package: the Prometheus client libraries keep their own registry, while ours is
 * Effect's; this is the few lines that read one in the other's format.
 */
export const metricsText: Effect.Effect<string> = Effect.map(Metric.snapshot, (pairs) => {
  const families = new Map<string, { type: string; help: string; lines: Array<string> }>()
  for (const pair of pairs) render(pair, families)
  let text = ""
  for (const [name, family] of [...families].sort(([a], [b]) => a.localeCompare(b))) {
    text += `# HELP ${name} ${family.help}\n# TYPE ${name} ${family.type}\n${family.lines.join("\n")}\n`
  }
  return text
})

const escapeLabel = (value: string) => value.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"')

const labels = (tags: ReadonlyArray<readonly [string, string]>) =>
  tags.length === 0 ? "" : `{${tags.map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(",")}}`

const number = (value: number | bigint) =>
  typeof value === "bigint" ? value.toString() : Number.isFinite(value) ? String(value) : value > 0 ? "+Inf" : "-Inf"

const render = (
  pair: MetricPair.MetricPair.Untyped,
  families: Map<string, { type: string; help: string; lines: Array<string> }>
) => {
  const { metricKey: key, metricState: state } = pair
  const tags = key.tags.map((tag) => [tag.key, tag.value] as const)
  const family = (type: string) => {
    const existing = families.get(key.name)
    if (existing !== undefined) return existing.lines
    const created = { type, help: key.description._tag === "Some" ? key.description.value : key.name, lines: [] }
    families.set(key.name, created)
    return created.lines
  }
  if (MetricState.isCounterState(state)) {
    // Effect lets a counter go down unless it is `incremental` (its runtime's `effect_fiber_active` does);
    // Prometheus would read every drop as a restart, so such a counter is exposed as a gauge.
    const monotonic = MetricKeyType.isCounterKey(key.keyType) && key.keyType.incremental
    family(monotonic ? "counter" : "gauge").push(`${key.name}${labels(tags)} ${number(state.count)}`)
  } else if (MetricState.isGaugeState(state)) {
    family("gauge").push(`${key.name}${labels(tags)} ${number(state.value)}`)
  } else if (MetricState.isHistogramState(state)) {
    const lines = family("histogram")
    for (const [bound, count] of state.buckets) {
      lines.push(`${key.name}_bucket${labels([...tags, ["le", number(bound)]])} ${count}`)
    }
    if (state.buckets.at(-1)?.[0] !== Infinity) {
      lines.push(`${key.name}_bucket${labels([...tags, ["le", "+Inf"]])} ${state.count}`)
    }
    lines.push(`${key.name}_sum${labels(tags)} ${number(state.sum)}`)
    lines.push(`${key.name}_count${labels(tags)} ${state.count}`)
  }
}
