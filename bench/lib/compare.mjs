// The one comparison table: a metric per row, a column per server (ours / piping-server / raw) and
// ours÷piping, ours÷raw. A row is { metric, better: "higher" | "lower", values: { pipe, piping, raw }, digits,
// unit, noRatio }; a value is a number, NaN (not measured) or a string such as "n/a" (the server sends nothing).
import { fmt, markdownTable, ratio, signed, textTable } from "./report.mjs"
import { SERVERS } from "./servers.mjs"

const ORDER = ["pipe", "piping", "raw"]

function cell(row, key) {
  const v = row.values[key]
  if (typeof v === "string") return v
  if (!Number.isFinite(v)) return "–"
  return `${row.signed ? signed(v, row.digits ?? 0) : fmt(v, row.digits ?? 0)}${row.unit ? ` ${row.unit}` : ""}`
}

const ratioCell = (row, base) => (row.noRatio ? "–" : ratio(row.values.pipe, row.values[base]))

function cells(rows, bold) {
  return rows.map((row) => [
    `${row.metric} ${row.better === "lower" ? "↓" : "↑"}`,
    ...ORDER.map((k) => (bold && k === "pipe" && cell(row, k) !== "–" ? `**${cell(row, k)}**` : cell(row, k))),
    ratioCell(row, "piping"),
    ratioCell(row, "raw")
  ])
}

/** Says what the arrows after each metric mean; print it next to the table. */
export const LEGEND = "↓ = lower is better, ↑ = higher is better; ratios are ours ÷ the other server's figure"

const header =
  () => ["metric", ...ORDER.map((k) => (k === "pipe" ? "ours (pipe)" : SERVERS[k].label)), "ours÷piping", "ours÷raw"]

export const comparisonMarkdown = (rows) => markdownTable(header(), cells(rows, true))
export const comparisonText = (rows) => textTable(header(), cells(rows, false))
