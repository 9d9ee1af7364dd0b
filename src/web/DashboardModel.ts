/**
 * The dashboard's view logic (protocol §4.3), shared by the server and the browser: the server renders the
 * first response with it, so a page without JavaScript still shows the state, and src/web/browser/dashboard.ts
 * keeps the page current with it from the SSE stream. No DOM here.
 */
import * as Schema from "effect/Schema"
import {
  formatAgo,
  formatBytes,
  formatDateTime,
  formatDuration,
  formatPercent,
  formatRate,
  groupDigits
} from "../domain/Format.js"
import type { DoneData, ProgressData, StateData } from "../schema/PipeEvent.js"
import { Snapshot } from "../schema/Snapshot.js"

export type PipeStateName = Snapshot["state"]

/** What the page knows about its path at one instant. */
export interface Model {
  readonly state: PipeStateName
  readonly transferId: string | null
  readonly sender: boolean
  readonly receivers: number
  readonly expectedReceivers: number
  readonly bytes: number
  readonly total: number | null
  readonly percent: number | null
  readonly mbps: number | null
  readonly etaSec: number | null
  readonly elapsedSec: number | null
  readonly done: DoneData | null
  /** Whether a `progress` of this transfer arrived: before it, `total` (so the bar's kind) is unknown. */
  readonly sampled: boolean
  /**
   * The last transfer's end, still shown (as history) once the path is idle again: the snapshot's `last`
   * (protocol §9, which outlives the retention window), or the `done` this page saw before the path went idle.
   */
  readonly previous: DoneData | null
}

/** The JSON the server embeds in `<script type="application/json" id="initial">`. */
export const InitialData = Schema.Struct({
  /** The path exactly as the client asked for it. */
  path: Schema.String,
  snapshot: Snapshot
})
export type InitialData = typeof InitialData.Type

const plural = (n: number, one: string, many: string): string => `${n} ${n === 1 ? one : many}`

/**
 * The one percent rule (issue 13, "numbers that agree"), the same as the server's JSON and SSE: none without a
 * total, and never above 100 when more came than announced.
 */
export const percentOf = (bytes: number, total: number | null): number | null =>
  total === null || total <= 0 ? null : Math.min(100, (bytes / total) * 100)

// ---- the model ----------------------------------------------------------------------------------------

const noProgress = {
  bytes: 0,
  total: null,
  percent: null,
  mbps: null,
  etaSec: null,
  elapsedSec: null,
  done: null,
  sampled: false
} as const

export const fromSnapshot = (snapshot: Snapshot): Model => {
  const base: Model = {
    state: snapshot.state,
    transferId: snapshot.transferId,
    sender: snapshot.sender,
    receivers: snapshot.receivers,
    expectedReceivers: snapshot.expectedReceivers,
    bytes: snapshot.bytes,
    total: snapshot.total,
    percent: percentOf(snapshot.bytes, snapshot.total),
    mbps: snapshot.mbps,
    etaSec: snapshot.etaSec,
    elapsedSec: snapshot.elapsedSec,
    done: snapshot.done,
    sampled: snapshot.state !== "idle" && snapshot.state !== "waiting",
    previous: snapshot.state === "idle" ? snapshot.last : null
  }
  // A waiting path may still carry the previous transfer's numbers: they are not this transfer's.
  if (snapshot.state === "idle" || snapshot.state === "waiting") return { ...base, ...noProgress }
  return snapshot.done === null ? base : applyDone(base, snapshot.done)
}

export const applyState = (model: Model, event: StateData): Model => {
  const parties = {
    state: event.state,
    sender: event.sender,
    receivers: event.receivers,
    expectedReceivers: event.expectedReceivers
  }
  switch (event.state) {
    case "idle":
      return { ...model, ...noProgress, ...parties, transferId: null, previous: model.done ?? model.previous }
    case "waiting":
      return { ...model, ...noProgress, ...parties, transferId: null, previous: null }
    case "streaming":
      return event.transferId === model.transferId
        ? { ...model, ...parties }
        : { ...model, ...noProgress, ...parties, transferId: event.transferId, elapsedSec: 0, previous: null }
    case "complete":
    case "aborted":
      return { ...model, ...parties, transferId: event.transferId ?? model.transferId }
  }
}

export const applyProgress = (model: Model, event: ProgressData): Model => ({
  ...model,
  transferId: event.transferId,
  bytes: event.bytes,
  total: event.total,
  percent: percentOf(event.bytes, event.total),
  mbps: event.mbps,
  etaSec: event.etaSec,
  elapsedSec: event.elapsedSec,
  sampled: true
})

/** The end of a transfer; its numbers win over the last `progress` (which the stream may skip). */
export const applyDone = (model: Model, done: DoneData): Model => ({
  ...model,
  transferId: done.transferId,
  done,
  bytes: done.bytes,
  total: done.total,
  percent: percentOf(done.bytes, done.total),
  mbps: done.avgMbps,
  etaSec: null,
  elapsedSec: done.durationSec,
  sampled: true
})

// ---- what the page shows ------------------------------------------------------------------------------

export type BarMode = "empty" | "determinate" | "indeterminate"

/** What a rendering depends on besides the model: the clock, whose clock, and whether the stream is up. */
export interface Context {
  /** Milliseconds since the epoch, for "finished 3 h ago". */
  readonly now: number
  /** Local time (the browser) or UTC (the server's first paint, which cannot know the reader's zone). */
  readonly localTime: boolean
  /** The page lost its stream: what it shows may be stale, and a live state must not pretend otherwise. */
  readonly offline: boolean
}

export interface DoneView {
  readonly ok: boolean
  /** The transfer before the current one (the path is idle again). */
  readonly previous: boolean
  readonly title: string
  readonly text: string
  /** `no errors · finished 3 h ago (2026-12-02 05:14)`. */
  readonly meta: string
  readonly error: string
}

export interface View {
  /** The badge's state: a live state the page can no longer vouch for reads `offline`. */
  readonly state: PipeStateName | "offline"
  readonly stateLabel: string
  readonly summary: string
  readonly bytes: string
  readonly of: string
  readonly percent: string
  readonly barMode: BarMode
  /** 0–100, the fill's width; also `aria-valuenow` when determinate. */
  readonly barValue: number
  readonly speedLabel: string
  readonly speed: string
  readonly eta: string
  readonly elapsed: string
  readonly receivers: string
  readonly showHint: boolean
  readonly done: DoneView | null
  readonly title: string
  /** The banner while the stream is down ("" when it is up). */
  readonly offlineNote: string
}

export const stateLabels: Readonly<Record<PipeStateName | "offline", string>> = {
  idle: "Idle",
  waiting: "Waiting",
  streaming: "Streaming",
  complete: "Complete",
  aborted: "Aborted",
  offline: "No connection"
}

export const offlineText = "Connection to the server lost — retrying…"

/** `migration` for `/api/v1/pipe/migration` (or `/migration`): what a tab title has room for. */
export const shortName = (path: string): string =>
  path.startsWith("/api/v1/pipe/") ? path.slice("/api/v1/pipe/".length) : path.replace(/^\//, "")

const finished = (done: DoneData, ctx: Context): string =>
  `finished ${formatAgo((ctx.now - done.at) / 1000)} (${formatDateTime(done.at, !ctx.localTime)})`

/** `2.00 MB (9.00 MB expected)` when the end differs from the announced total, else the exact count. */
const amountOf = (done: DoneData): string =>
  done.total !== null && done.total !== done.bytes
    ? `${formatBytes(done.bytes)} (${formatBytes(done.total)} expected)`
    : `${formatBytes(done.bytes)} (${groupDigits(done.bytes)} bytes)`

/** The one line an idle path says of its last transfer (protocol §9). */
export const lastLine = (done: DoneData, ctx: Context): string =>
  [
    `Last transfer: ${done.ok ? "complete" : "aborted"}`,
    `${formatBytes(done.bytes)} in ${formatDuration(done.durationSec)}`,
    finished(done, ctx),
    ...(done.ok ? [] : [done.error ?? "unknown error"])
  ].join(" · ")

const summaryOf = (m: Model, ctx: Context): string => {
  switch (m.state) {
    case "idle":
      return m.previous === null
        ? "Nothing on this path yet. Start a sender or a receiver: this page follows along by itself."
        : lastLine(m.previous, ctx)
    case "waiting":
      return m.sender
        ? `Sender connected · waiting for ${
          m.expectedReceivers > 1 ? "receivers" : "the receiver"
        } (${m.receivers}/${m.expectedReceivers})`
        : `${plural(m.receivers, "receiver", "receivers")} ready · waiting for the sender`
    case "streaming":
      return `Streaming to ${plural(m.expectedReceivers, "receiver", "receivers")}`
    case "complete":
      return `Delivered to ${plural(m.expectedReceivers, "receiver", "receivers")}`
    case "aborted":
      return "The transfer stopped before the end"
  }
}

const doneViewOf = (done: DoneData, previous: boolean, ctx: Context): DoneView => ({
  ok: done.ok,
  previous,
  title: `${previous ? "Last transfer: " : "Transfer "}${done.ok ? "complete" : "aborted"}`,
  text: `${amountOf(done)} in ${formatDuration(done.durationSec)} · avg ${formatRate(done.avgMbps)}`,
  meta: `${done.ok ? "no errors · " : ""}${finished(done, ctx)}`,
  error: done.ok ? "" : done.error ?? "unknown error"
})

/** The tab's title: the number while streaming, the outcome at the end, something plain otherwise. */
const titleOf = (m: Model, path: string, pct: string, offline: boolean): string => {
  const name = shortName(path)
  switch (m.state) {
    case "streaming":
      if (offline) return `${stateLabels.offline} · ${name} · pipe`
      return `${
        pct !== "" ? `${pct.replace(/\.\d%$/, "%")}` : m.sampled ? formatBytes(m.bytes) : "Streaming"
      } · ${name} · pipe`
    case "complete":
      return `✓ complete · ${name}`
    case "aborted":
      return `✗ aborted · ${name}`
    case "idle":
    case "waiting":
      return `${offline ? stateLabels.offline : stateLabels[m.state]} · ${name} · pipe`
  }
}

export const present = (m: Model, path: string, ctx: Context): View => {
  const ended = m.state === "complete" || m.state === "aborted"
  const live = m.state === "streaming"
  // One rule with the server's: a percent only with a total, capped at 100 (a finished transfer included).
  const percent = live || ended ? percentOf(m.bytes, m.total) : null
  const barMode: BarMode = live
    ? (!m.sampled ? "empty" : percent === null ? "indeterminate" : "determinate")
    : ended
    ? "determinate"
    : "empty"
  // The bar of a finished transfer without a total is full: it ended, there is no fraction to show.
  const barValue = barMode === "determinate" ? (percent ?? 100) : 0
  const pct = percent === null ? "" : formatPercent(percent)
  const bytes = formatBytes(m.bytes)
  // Only the states that change by themselves go stale; an end or an idle path stays true while offline.
  const stale = ctx.offline && (live || m.state === "waiting")
  const state = stale ? "offline" : m.state
  return {
    state,
    stateLabel: stateLabels[state],
    summary: ctx.offline ? offlineText : summaryOf(m, ctx),
    bytes,
    of: m.total !== null && m.total > 0 ? `of ${formatBytes(m.total)}` : live && m.sampled ? "so far" : "",
    percent: pct,
    barMode,
    barValue: Math.max(0, Math.min(100, barValue)),
    speedLabel: ended ? "Avg speed" : "Speed",
    speed: m.mbps === null || !(live || ended) || stale ? "—" : formatRate(m.mbps),
    eta: stale
      ? "—"
      : live && m.etaSec !== null
      ? formatDuration(m.etaSec)
      : live && m.sampled && m.total === null
      ? "unknown"
      : "—",
    elapsed: m.elapsedSec === null || !(live || ended) ? "—" : formatDuration(m.elapsedSec),
    receivers: m.state === "idle"
      ? "—"
      : ended
      ? String(m.expectedReceivers)
      : `${m.receivers}/${m.expectedReceivers}`,
    showHint: m.state === "idle" || m.state === "waiting",
    done: ended && m.done !== null
      ? doneViewOf(m.done, false, ctx)
      : m.state === "idle" && m.previous !== null
      ? doneViewOf(m.previous, true, ctx)
      : null,
    title: titleOf(m, path, pct, stale),
    offlineNote: ctx.offline ? offlineText : ""
  }
}

/** What a "notify me when done" notification says of `done`. */
export const notificationOf = (done: DoneData, path: string): { readonly title: string; readonly body: string } => ({
  title: `${done.ok ? "✓ complete" : "✗ aborted"} · ${shortName(path)}`,
  body: done.ok
    ? `${amountOf(done)} in ${formatDuration(done.durationSec)} · no errors`
    : `${formatBytes(done.bytes)} sent · ${done.error ?? "unknown error"}`
})

// ---- the log of state changes -------------------------------------------------------------------------

export interface LogEntry {
  readonly at: number
  readonly state: PipeStateName
  readonly title: string
  readonly detail: string
  /** The transfer a `complete`/`aborted` entry belongs to, so its `done` can fill in the detail. */
  readonly transferId: string | null
}

export const maxLogEntries = 50

const partiesDetail = (
  e: { readonly sender: boolean; readonly receivers: number; readonly expectedReceivers: number }
) =>
  `${e.sender ? "sender connected" : "no sender yet"} · ${e.receivers}/${e.expectedReceivers} ${
    e.expectedReceivers === 1 ? "receiver" : "receivers"
  }`

const doneDetail = (done: DoneData): string =>
  done.ok
    ? `${formatBytes(done.bytes)} in ${formatDuration(done.durationSec)}`
    : `${formatBytes(done.bytes)} sent · ${done.error ?? "unknown error"}`

/** The log line a `state` event deserves, or undefined when it repeats what the page already shows. */
export const logEntryFor = (before: Model, event: StateData): LogEntry | undefined => {
  const entry = (title: string, detail: string): LogEntry => ({
    at: event.at,
    state: event.state,
    title,
    detail,
    transferId: event.transferId
  })
  if (event.state !== before.state) {
    switch (event.state) {
      case "idle":
        return entry("Idle", "the path is free")
      case "waiting":
        return entry("Waiting", partiesDetail(event))
      case "streaming":
        return entry("Streaming started", `to ${plural(event.expectedReceivers, "receiver", "receivers")}`)
      case "complete":
        return entry("Transfer complete", "")
      case "aborted":
        return entry("Transfer aborted", "")
    }
  }
  if (event.state !== "waiting") return undefined
  if (event.sender !== before.sender) {
    return entry(event.sender ? "Sender connected" : "Sender left", partiesDetail(event))
  }
  if (event.receivers !== before.receivers) {
    return entry(event.receivers > before.receivers ? "Receiver connected" : "Receiver left", partiesDetail(event))
  }
  return undefined
}

/** Fills in the detail of the `complete`/`aborted` entry of `done`'s transfer. */
export const logWithDone = (log: ReadonlyArray<LogEntry>, done: DoneData): ReadonlyArray<LogEntry> =>
  log.map((entry) =>
    entry.transferId === done.transferId && (entry.state === "complete" || entry.state === "aborted")
      ? { ...entry, detail: doneDetail(done) }
      : entry
  )

export const pushLog = (log: ReadonlyArray<LogEntry>, entry: LogEntry): ReadonlyArray<LogEntry> =>
  [entry, ...log].slice(0, maxLogEntries)

/** What a snapshot tells of the path's history, newest first. */
export const initialLog = (snapshot: Snapshot): ReadonlyArray<LogEntry> => {
  const { done } = snapshot
  const started: Array<LogEntry> = snapshot.startedAt === null || snapshot.transferId === null
    ? []
    : [{
      at: snapshot.startedAt,
      state: "streaming",
      title: "Streaming started",
      detail: `to ${plural(snapshot.expectedReceivers, "receiver", "receivers")}`,
      transferId: snapshot.transferId
    }]
  switch (snapshot.state) {
    case "idle":
      return [
        {
          at: snapshot.updatedAt,
          state: "idle",
          title: "Idle",
          detail: "no sender or receiver yet",
          transferId: null
        },
        // The path's history (protocol §9): what "Last transfer" refers to.
        ...(snapshot.last === null ? [] : [{
          at: snapshot.last.at,
          state: snapshot.last.ok ? "complete" as const : "aborted" as const,
          title: snapshot.last.ok ? "Transfer complete" : "Transfer aborted",
          detail: doneDetail(snapshot.last),
          transferId: snapshot.last.transferId
        }])
      ]
    case "waiting":
      return [{
        at: snapshot.updatedAt,
        state: "waiting",
        title: "Waiting",
        detail: partiesDetail(snapshot),
        transferId: null
      }]
    case "streaming":
      return started
    case "complete":
    case "aborted":
      return [
        {
          at: done?.at ?? snapshot.updatedAt,
          state: snapshot.state,
          title: snapshot.state === "complete" ? "Transfer complete" : "Transfer aborted",
          detail: done === null ? "" : doneDetail(done),
          transferId: snapshot.transferId
        },
        ...started
      ]
  }
}
