import { Effect } from "effect"
import type { PipeError } from "../domain/PipeError.js"
import { invalidQueryParameter, receiverCountOutOfRange } from "../domain/PipeError.js"
import type { Disposition } from "../transfer/ReceiverHeaders.js"

const digits = /^[0-9]+$/

/** `?n`: how many receivers this transfer has; digits only, 1 to `max`, default 1. */
export const receiverCount = (
  query: URLSearchParams,
  max: number
): Effect.Effect<number, PipeError> => {
  const raw = query.get("n")
  if (raw === null) return Effect.succeed(1)
  if (!digits.test(raw)) return Effect.fail(invalidQueryParameter("n"))
  const n = Number(raw)
  return n >= 1 && n <= max
    ? Effect.succeed(n)
    : Effect.fail(receiverCountOutOfRange(raw.replace(/^0+(?=\d)/, ""), max))
}

/** `?total`: the byte count a chunked sender announces, so spectators get a percentage and an ETA. */
export const announcedTotal = (query: URLSearchParams): Effect.Effect<number | null, PipeError> => {
  const raw = query.get("total")
  if (raw === null) return Effect.succeed(null)
  return digits.test(raw) && Number.isSafeInteger(Number(raw))
    ? Effect.succeed(Number(raw))
    : Effect.fail(invalidQueryParameter("total"))
}

/** `?download` / `?filename` of a receiver. */
export const disposition = (query: URLSearchParams): Disposition => {
  const download = query.get("download")
  const filename = query.get("filename")
  return {
    download: download === null ? undefined : !["0", "false", "no"].includes(download.toLowerCase()),
    filename: filename === null || filename === "" ? undefined : filename
  }
}

/** The spectator flavour a request asks for: `?progress=sse|json|html` wins, else its `Accept`. */
export type SpectatorFormat = "sse" | "json" | "html"

export const spectatorFormat = (query: URLSearchParams, accept: string | undefined): SpectatorFormat => {
  const explicit = query.get("progress")
  if (explicit === "sse" || explicit === "json" || explicit === "html") return explicit
  if (wantsHtml(accept)) return "html"
  if ((accept ?? "").toLowerCase().includes("application/json")) return "json"
  return "sse"
}

/**
 * A browser navigation: its `Accept` names `text/html` (scripts, curl and EventSource do not). The same
 * test picks the dashboard for a spectator and an HTML page for a refusal.
 */
export const wantsHtml = (accept: string | undefined): boolean => (accept ?? "").toLowerCase().includes("text/html")
