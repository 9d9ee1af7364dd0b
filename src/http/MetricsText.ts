import { Effect, Metric } from "effect"

/**
 * Every Effect metric in the Prometheus text exposition format (0.0.4). Written here rather than taken
 * from an exporter package: the Prometheus client libraries keep their own registry, while ours is
 * Effect's; this is the few lines that read one in the other's format.
 */
export const metricsText: Effect.Effect<string> = Effect.map(Metric.snapshot, (snapshots) => {
  const families = new Map<string, Family>()
  for (const snapshot of snapshots) render(snapshot, families)
  let text = ""
  for (const [name, family] of [...families].sort(([a], [b]) => a.localeCompare(b))) {
    text += `# HELP ${name} ${family.help}\n# TYPE ${name} ${family.type}\n${family.lines.join("\n")}\n`
  }
  return text
})

interface Family {
  readonly type: string
  readonly help: string
  readonly lines: Array<string>
}

const escapeLabel = (value: string) => value.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, "\\\"")

const labels = (tags: ReadonlyArray<readonly [string, string]>) =>
  tags.length === 0 ? "" : `{${tags.map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(",")}}`

const number = (value: number | bigint) =>
  typeof value === "bigint" ? value.toString() : Number.isFinite(value) ? String(value) : value > 0 ? "+Inf" : "-Inf"

/** Prometheus names allow `[a-zA-Z_:][a-zA-Z0-9_:]*`; Effect's own metrics may use other characters. */
const promName = (id: string) => id.replace(/[^a-zA-Z0-9_:]/g, "_").replace(/^([0-9])/, "_$1")

const render = (snapshot: Metric.Metric.Snapshot, families: Map<string, Family>) => {
  const name = promName(snapshot.id)
  const tags = Object.entries(snapshot.attributes ?? {})
  const family = (type: string) => {
    const existing = families.get(name)
    if (existing !== undefined) return existing.lines
    const created: Family = { type, help: snapshot.description ?? name, lines: [] }
    families.set(name, created)
    return created.lines
  }
  switch (snapshot.type) {
    case "Counter": {
      // Effect lets a counter go down unless it is `incremental`; Prometheus would read every drop as a
      // restart, so such a counter is exposed as a gauge.
      family(snapshot.state.incremental ? "counter" : "gauge").push(
        `${name}${labels(tags)} ${number(snapshot.state.count)}`
      )
      return
    }
    case "Gauge":
      family("gauge").push(`${name}${labels(tags)} ${number(snapshot.state.value)}`)
      return
    case "Histogram": {
      const lines = family("histogram")
      const { buckets, count, sum } = snapshot.state
      for (const [bound, inBucket] of buckets) {
        lines.push(`${name}_bucket${labels([...tags, ["le", number(bound)]])} ${inBucket}`)
      }
      if (buckets.at(-1)?.[0] !== Infinity) lines.push(`${name}_bucket${labels([...tags, ["le", "+Inf"]])} ${count}`)
      lines.push(`${name}_sum${labels(tags)} ${number(sum)}`)
      lines.push(`${name}_count${labels(tags)} ${count}`)
      return
    }
    default:
      return
  }
}
