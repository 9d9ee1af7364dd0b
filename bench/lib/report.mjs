// Numbers and tables. MB = 10^6 bytes throughout.

export const mbps = (bytes, ms) => bytes / 1e6 / (ms / 1000)

export function median(xs) {
  if (xs.length === 0) return NaN
  const s = [...xs].sort((a, b) => a - b)
  const mid = Math.floor(s.length / 2)
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2
}

export const fmt = (x, digits = 0) => (Number.isFinite(x) ? x.toFixed(digits) : "–")
/** "+12" / "-3"; values that round to zero print as "+0". */
export const signed = (
  x,
  digits = 0
) => (Number.isFinite(x) ? `${x > -(0.5 * 10 ** -digits) ? "+" : "-"}${fmt(Math.abs(x), digits)}` : "–")
export const ratio = (
  x,
  base
) => (Number.isFinite(x) && Number.isFinite(base) && base > 0 ? `${(x / base).toFixed(2)}×` : "–")

/** Parses "2G", "512M", "64k" or a plain number of bytes (binary multiples: G = 2^30). */
export function parseBytes(text) {
  const m = /^(\d+(?:\.\d+)?)\s*([kmg]?)i?b?$/i.exec(String(text).trim())
  if (!m) throw new Error(`cannot parse a byte size from "${text}"`)
  const mult = { "": 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30 }[m[2].toLowerCase()]
  return Math.round(Number(m[1]) * mult)
}

export function humanBytes(bytes) {
  for (const [unit, size] of [["GiB", 2 ** 30], ["MiB", 2 ** 20], ["KiB", 2 ** 10]]) {
    if (bytes >= size && bytes % size === 0) return `${bytes / size} ${unit}`
  }
  return `${bytes} B`
}

/** Plain-text table with right-aligned numeric-looking columns. */
export function textTable(header, rows) {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)))
  const numeric = header.map((_, i) => rows.every((r) => /^[-–\d.,×+ ]+$/.test(String(r[i]))))
  const line = (cells) =>
    cells.map((c, i) => (numeric[i] ? String(c).padStart(widths[i]) : String(c).padEnd(widths[i]))).join("  ")
  return [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n")
}

export function markdownTable(header, rows) {
  const line = (cells) => `| ${cells.join(" | ")} |`
  return [line(header), line(header.map(() => "---")), ...rows.map(line)].join("\n")
}

/** Nearest-rank percentile (p in 0..100) of a list of numbers; NaN for an empty list. */
export function percentile(xs, p) {
  if (xs.length === 0) return NaN
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]
}
