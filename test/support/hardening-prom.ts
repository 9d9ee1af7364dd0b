import { request } from "./http.js"
import type { ServerHandle } from "./server.js"

/**
 * A strict parser of the Prometheus text exposition format 0.0.4
 * (https://prometheus.io/docs/instrumenting/exposition_formats/): every line must be a `# HELP`, a `# TYPE`,
 * another comment, empty, or a well-formed sample; anything else throws with the line number. It also checks
 * what the format requires across lines: at most one HELP and one TYPE per family, TYPE before the family's
 * first sample, a family's lines grouped together, no duplicate series, and a final newline.
 */

export type MetricType = "counter" | "gauge" | "histogram" | "summary" | "untyped"

export interface Sample {
  /** The sample's own name (`x_bucket`, `x_sum`, … for a histogram). */
  readonly name: string
  readonly labels: Readonly<Record<string, string>>
  readonly value: number
  readonly timestamp: number | undefined
}

export interface Family {
  readonly name: string
  help: string | undefined
  type: MetricType | undefined
  readonly samples: Array<Sample>
}

export type Exposition = ReadonlyMap<string, Family>

const metricName = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/
const labelName = /^[a-zA-Z_][a-zA-Z0-9_]*$/
const types: ReadonlySet<string> = new Set(["counter", "gauge", "histogram", "summary", "untyped"])

class PromParseError extends Error {}

const fail = (lineNo: number, line: string, why: string): never => {
  throw new PromParseError(`/metrics line ${lineNo}: ${why}: ${JSON.stringify(line)}`)
}

/** A Go `ParseFloat` value as the format allows: decimal or exponent notation, `+Inf`, `-Inf`, `NaN`. */
const parseValue = (raw: string, lineNo: number, line: string): number => {
  if (raw === "+Inf" || raw === "Inf") return Infinity
  if (raw === "-Inf") return -Infinity
  if (raw === "NaN") return NaN
  if (!/^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/.test(raw)) {
    return fail(lineNo, line, `bad value ${JSON.stringify(raw)}`)
  }
  return Number(raw)
}

/** The family a sample name belongs to, given the families typed so far (histogram/summary suffixes). */
const familyOf = (name: string, families: ReadonlyMap<string, Family>): string => {
  for (const suffix of ["_bucket", "_sum", "_count"]) {
    if (!name.endsWith(suffix)) continue
    const base = name.slice(0, -suffix.length)
    const type = families.get(base)?.type
    if (type === "histogram" || (type === "summary" && suffix !== "_bucket")) return base
  }
  return name
}

const parseLabels = (text: string, lineNo: number, line: string): { labels: Record<string, string>; rest: string } => {
  const labels: Record<string, string> = {}
  let i = 1 // after "{"
  for (;;) {
    while (text[i] === " " || text[i] === "\t") i++
    if (text[i] === "}") return { labels, rest: text.slice(i + 1) }
    const nameMatch = /^[a-zA-Z_][a-zA-Z0-9_]*/.exec(text.slice(i))
    if (nameMatch === null) return fail(lineNo, line, "bad label name")
    const name = nameMatch[0]
    i += name.length
    while (text[i] === " " || text[i] === "\t") i++
    if (text[i] !== "=") return fail(lineNo, line, `no '=' after label ${name}`)
    i++
    while (text[i] === " " || text[i] === "\t") i++
    if (text[i] !== "\"") return fail(lineNo, line, `label ${name} value not quoted`)
    i++
    let value = ""
    for (;;) {
      const c = text[i]
      if (c === undefined) return fail(lineNo, line, `unterminated value of label ${name}`)
      if (c === "\"") break
      if (c === "\\") {
        const e = text[i + 1]
        if (e === "\\") value += "\\"
        else if (e === "\"") value += "\""
        else if (e === "n") value += "\n"
        else return fail(lineNo, line, `bad escape \\${e ?? ""} in label ${name}`)
        i += 2
      } else {
        value += c
        i++
      }
    }
    i++ // closing quote
    if (!labelName.test(name)) return fail(lineNo, line, `bad label name ${name}`)
    if (name in labels) return fail(lineNo, line, `label ${name} repeated`)
    labels[name] = value
    while (text[i] === " " || text[i] === "\t") i++
    if (text[i] === ",") {
      i++
      continue
    }
    if (text[i] === "}") return { labels, rest: text.slice(i + 1) }
    return fail(lineNo, line, "expected ',' or '}' in labels")
  }
}

export const parseExposition = (text: string): Exposition => {
  if (text.length > 0 && !text.endsWith("\n")) throw new PromParseError("/metrics does not end with a newline")
  const families = new Map<string, Family>()
  const series = new Set<string>()
  const closed = new Set<string>() // families whose lines are over (another family's line came after)
  let current: string | undefined
  const enter = (family: string, lineNo: number, line: string): Family => {
    if (current !== family) {
      if (closed.has(family)) fail(lineNo, line, `lines of ${family} are not grouped together`)
      if (current !== undefined) closed.add(current)
      current = family
    }
    let entry = families.get(family)
    if (entry === undefined) {
      entry = { name: family, help: undefined, type: undefined, samples: [] }
      families.set(family, entry)
    }
    return entry
  }
  const lines = text.split("\n")
  lines.pop() // after the final newline
  lines.forEach((line, index) => {
    const lineNo = index + 1
    if (line.trim() === "") return // the format ignores empty lines
    if (line.startsWith("#")) {
      const m = /^#[ \t]+(HELP|TYPE)[ \t]+(\S+)(?:[ \t]+(.*))?$/.exec(line)
      if (m === null) return // any other comment
      const [, keyword, name = "", rest] = m
      if (!metricName.test(name)) return fail(lineNo, line, `bad metric name ${name}`)
      const family = enter(name, lineNo, line)
      if (keyword === "HELP") {
        if (family.help !== undefined) fail(lineNo, line, `second HELP for ${name}`)
        if (/\\(?![\\n])/.test(rest ?? "")) fail(lineNo, line, "bad escape in HELP")
        family.help = (rest ?? "").replace(/\\(\\|n)/g, (_, e: string) => (e === "n" ? "\n" : "\\"))
      } else {
        if (family.type !== undefined) fail(lineNo, line, `second TYPE for ${name}`)
        if (family.samples.length > 0) fail(lineNo, line, `TYPE for ${name} after its samples`)
        if (rest === undefined || !types.has(rest.trim())) fail(lineNo, line, `unknown type ${JSON.stringify(rest)}`)
        family.type = (rest ?? "").trim() as MetricType
      }
      return
    }
    const nameMatch = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line)
    if (nameMatch === null) return fail(lineNo, line, "not a sample")
    const name = nameMatch[0]
    let rest = line.slice(name.length)
    let labels: Record<string, string> = {}
    if (rest.startsWith("{")) ({ labels, rest } = parseLabels(rest, lineNo, line))
    const fields = rest.trim().split(/[ \t]+/)
    if (!/^[ \t]/.test(rest) || fields.length < 1 || fields.length > 2 || fields[0] === "") {
      return fail(lineNo, line, "expected ' <value> [<timestamp>]'")
    }
    const value = parseValue(fields[0] ?? "", lineNo, line)
    const ts = fields[1]
    if (ts !== undefined && !/^-?\d+$/.test(ts)) fail(lineNo, line, "bad timestamp")
    const family = enter(familyOf(name, families), lineNo, line)
    const key = `${name}{${
      Object.entries(labels).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(
        ","
      )
    }}`
    if (series.has(key)) fail(lineNo, line, `duplicate series ${key}`)
    series.add(key)
    if (family.type === "histogram" && name === `${family.name}_bucket` && labels["le"] === undefined) {
      fail(lineNo, line, "histogram bucket without le")
    }
    family.samples.push({ name, labels, value, timestamp: ts === undefined ? undefined : Number(ts) })
  })
  return families
}

/** The value of the one sample `name` with exactly `labels` (default: none); throws if absent. */
export const sampleValue = (
  exposition: Exposition,
  name: string,
  labels: Readonly<Record<string, string>> = {}
): number => {
  for (const family of exposition.values()) {
    for (const s of family.samples) {
      if (s.name !== name) continue
      const keys = Object.keys(s.labels)
      if (keys.length === Object.keys(labels).length && keys.every((k) => s.labels[k] === labels[k])) return s.value
    }
  }
  throw new Error(`no sample ${name}${JSON.stringify(labels)} in /metrics`)
}

/** Every sample of a family, by its label set (for `pipe_rejected_requests_total{reason=…}`). */
export const samplesOf = (exposition: Exposition, name: string): ReadonlyArray<Sample> =>
  [...exposition.values()].flatMap((f) => f.samples.filter((s) => s.name === name))

/**
 * Checks a histogram family as the format requires: per label set, `le` values increasing and ending at
 * +Inf, bucket counts cumulative (never decreasing), the +Inf bucket equal to `_count`, `_sum` present.
 * Returns its series by label set (without `le`).
 */
export const checkHistogram = (
  family: Family
): Array<
  {
    readonly labels: string
    readonly buckets: ReadonlyArray<readonly [number, number]>
    readonly count: number
    readonly sum: number
  }
> => {
  if (family.type !== "histogram") throw new Error(`${family.name} is not a histogram (${family.type})`)
  const groups = new Map<string, { buckets: Array<readonly [number, number]>; count?: number; sum?: number }>()
  for (const s of family.samples) {
    const { le, ...rest } = s.labels
    const key = JSON.stringify(Object.entries(rest).sort(([a], [b]) => a.localeCompare(b)))
    const group = groups.get(key) ?? { buckets: [] }
    groups.set(key, group)
    if (s.name === `${family.name}_bucket`) {
      if (le === undefined) throw new Error(`${family.name}_bucket without le`)
      group.buckets.push([parseValueStrict(le), s.value])
    } else if (s.name === `${family.name}_count`) group.count = s.value
    else if (s.name === `${family.name}_sum`) group.sum = s.value
    else throw new Error(`unexpected sample ${s.name} in histogram ${family.name}`)
  }
  return [...groups].map(([labels, g]) => {
    const { buckets, count, sum } = g
    if (count === undefined || sum === undefined) throw new Error(`${family.name}${labels}: _count or _sum missing`)
    if (buckets.length === 0) throw new Error(`${family.name}${labels}: no buckets`)
    for (let i = 1; i < buckets.length; i++) {
      const [prevLe, prevCount] = buckets[i - 1] ?? [0, 0]
      const [le, n] = buckets[i] ?? [0, 0]
      if (!(le > prevLe)) throw new Error(`${family.name}${labels}: le ${le} after ${prevLe} (not increasing)`)
      if (n < prevCount) {
        throw new Error(`${family.name}${labels}: bucket le=${le} has ${n} < ${prevCount} (not cumulative)`)
      }
    }
    const last = buckets.at(-1)
    if (last?.[0] !== Infinity) throw new Error(`${family.name}${labels}: last bucket is le=${last?.[0]}, not +Inf`)
    if (last[1] !== count) throw new Error(`${family.name}${labels}: +Inf bucket ${last[1]} ≠ _count ${count}`)
    return { labels, buckets, count, sum }
  })
}

const parseValueStrict = (raw: string): number => parseValue(raw, 0, raw)

/** GET /metrics, checked as a 200 in the 0.0.4 text format, and parsed strictly. */
export const scrapeMetrics = async (server: ServerHandle): Promise<Exposition> => {
  const reply = await request(server.url, "/metrics")
  if (reply.status !== 200) throw new Error(`/metrics answered ${reply.status}`)
  const type = String(reply.headers["content-type"])
  if (!/^text\/plain(;|$)/.test(type) || !/version=0\.0\.4/.test(type)) throw new Error(`/metrics Content-Type ${type}`)
  return parseExposition(reply.text)
}
