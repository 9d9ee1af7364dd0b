/**
 * The dashboard's view logic (protocol §4.3), shared by the server and the browser.
 *
 * The server imports the pure part (the model, the reducers, `present`) to render the first response, so a
 * page without JavaScript still shows the state. The build compiles this file to `client.js`, which the server
 * inlines as the page's only script: in a browser, `boot()` reads the embedded snapshot and follows the SSE
 * stream. So this file must never import anything at runtime (type-only imports are erased) and must touch the
 * DOM only inside `boot()`. Data from the server reaches the DOM through `textContent` only.
 */
import type { DoneData, ProgressData, StateData } from "../../schema/PipeEvent.js"
import type { Snapshot } from "../../schema/Snapshot.js"

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
  /** The last transfer's end, still shown (as history) once the path is idle again. */
  readonly previous: DoneData | null
}

/** The JSON the server embeds in `<script type="application/json" id="initial">`. */
export interface InitialData {
  readonly path: string
  readonly snapshot: Snapshot
}

// ---- formatting ---------------------------------------------------------------------------------------

const units = ["kB", "MB", "GB", "TB", "PB", "EB"] as const

/** Bytes in SI units with three significant digits: `512 B`, `12.3 MB`, `1.23 GB` (MB = 10^6). */
export const formatBytes = (bytes: number): string => {
  if (!Number.isFinite(bytes) || bytes < 0) return "—"
  if (bytes < 1000) return `${Math.round(bytes)} B`
  let value = bytes / 1000
  let unit = 0
  while (value >= 999.5 && unit < units.length - 1) {
    value /= 1000
    unit++
  }
  return `${value.toPrecision(3)} ${units[unit] ?? "EB"}`
}

/** A rate given in MB/s, in the most readable unit: `118 MB/s`, `5.42 MB/s`, `640 kB/s`, `1.20 GB/s`. */
export const formatRate = (mbps: number): string => `${formatBytes(mbps * 1_000_000)}/s`

/** `10,000,000`: an exact byte count, the same on every locale. */
export const groupDigits = (n: number): string => String(Math.round(n)).replace(/\B(?=(\d{3})+(?!\d))/g, ",")

const pad2 = (n: number): string => String(n).padStart(2, "0")

/** `0.09 s`, `0.4 s`, `8.2 s`, `42 s`, `4m 05s`, `1h 05m`. */
export const formatDuration = (seconds: number): string => {
  if (!Number.isFinite(seconds) || seconds < 0) return "—"
  if (seconds < 0.1) return `${seconds.toFixed(2)} s`
  if (seconds < 10) return `${(Math.floor(seconds * 10) / 10).toFixed(1)} s`
  const whole = Math.floor(seconds)
  if (whole < 60) return `${whole} s`
  if (whole < 3600) return `${Math.floor(whole / 60)}m ${pad2(whole % 60)}s`
  return `${Math.floor(whole / 3600)}h ${pad2(Math.floor((whole % 3600) / 60))}m`
}

/** `61.8%` (one decimal below 100, never `100.0%` before the end). */
export const formatPercent = (percent: number): string =>
  percent >= 100 ? "100%" : `${(Math.floor(percent * 10) / 10).toFixed(1)}%`

/** `14:03:27`, local time in the browser; `14:03:27 UTC` on the server (the browser re-renders it at once). */
export const formatClock = (at: number, utc: boolean): string => {
  const date = new Date(at)
  return utc
    ? `${pad2(date.getUTCHours())}:${pad2(date.getUTCMinutes())}:${pad2(date.getUTCSeconds())} UTC`
    : `${pad2(date.getHours())}:${pad2(date.getMinutes())}:${pad2(date.getSeconds())}`
}

const plural = (n: number, one: string, many: string): string => `${n} ${n === 1 ? one : many}`

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
    percent: snapshot.percent,
    mbps: snapshot.mbps,
    etaSec: snapshot.etaSec,
    elapsedSec: snapshot.elapsedSec,
    done: snapshot.done,
    sampled: snapshot.state !== "idle" && snapshot.state !== "waiting",
    previous: null
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
  percent: event.percent,
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
  percent: done.total === null || done.total === 0 ? null : Math.min(100, (done.bytes / done.total) * 100),
  mbps: done.avgMbps,
  etaSec: null,
  elapsedSec: done.durationSec,
  sampled: true
})

// ---- what the page shows ------------------------------------------------------------------------------

export type BarMode = "empty" | "determinate" | "indeterminate"

export interface DoneView {
  readonly ok: boolean
  /** The transfer before the current one (the path is idle again). */
  readonly previous: boolean
  readonly title: string
  readonly text: string
  readonly error: string
}

export interface View {
  readonly state: PipeStateName
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
}

export const stateLabels: Readonly<Record<PipeStateName, string>> = {
  idle: "Idle",
  waiting: "Waiting",
  streaming: "Streaming",
  complete: "Complete",
  aborted: "Aborted"
}

const summaryOf = (m: Model): string => {
  switch (m.state) {
    case "idle":
      return m.previous === null
        ? "Nothing on this path yet. Start a sender or a receiver: this page follows along by itself."
        : "The path is free again. The next sender or receiver will show up here."
    case "waiting":
      return m.sender
        ? `Sender connected · waiting for ${m.expectedReceivers > 1 ? "receivers" : "the receiver"} (${m.receivers}/${m.expectedReceivers})`
        : `${plural(m.receivers, "receiver", "receivers")} ready · waiting for the sender`
    case "streaming":
      return `Streaming to ${plural(m.expectedReceivers, "receiver", "receivers")}`
    case "complete":
      return `Delivered to ${plural(m.expectedReceivers, "receiver", "receivers")}`
    case "aborted":
      return "The transfer stopped before the end"
  }
}

const doneViewOf = (done: DoneData, previous: boolean): DoneView => ({
  ok: done.ok,
  previous,
  title: `${previous ? "Last transfer: " : "Transfer "}${done.ok ? "complete" : "aborted"}`,
  text: `${formatBytes(done.bytes)} (${groupDigits(done.bytes)} bytes) in ${formatDuration(done.durationSec)} · avg ${
    formatRate(done.avgMbps)
  }`,
  error: done.ok ? "" : done.error ?? "unknown error"
})

export const present = (m: Model, path: string): View => {
  const ended = m.state === "complete" || m.state === "aborted"
  const live = m.state === "streaming"
  const percent = m.state === "complete" ? 100 : m.percent
  const barMode: BarMode = live
    ? (!m.sampled ? "empty" : percent === null ? "indeterminate" : "determinate")
    : ended
    ? "determinate"
    : "empty"
  const barValue = barMode === "determinate" ? (percent ?? 100) : 0
  const pct = percent === null || !(live || ended) ? "" : formatPercent(percent)
  const bytes = formatBytes(m.bytes)
  return {
    state: m.state,
    stateLabel: stateLabels[m.state],
    summary: summaryOf(m),
    bytes,
    of: m.total !== null && m.total > 0 ? `of ${formatBytes(m.total)}` : live && m.sampled ? "so far" : "",
    percent: pct,
    barMode,
    barValue: Math.max(0, Math.min(100, barValue)),
    speedLabel: ended ? "Avg speed" : "Speed",
    speed: m.mbps === null || !(live || ended) ? "—" : formatRate(m.mbps),
    eta: live && m.etaSec !== null ? formatDuration(m.etaSec) : live && m.sampled && m.total === null ? "unknown" : "—",
    elapsed: m.elapsedSec === null || !(live || ended) ? "—" : formatDuration(m.elapsedSec),
    receivers: m.state === "idle"
      ? "—"
      : ended
      ? String(m.expectedReceivers)
      : `${m.receivers}/${m.expectedReceivers}`,
    showHint: m.state === "idle" || m.state === "waiting",
    done: ended && m.done !== null
      ? doneViewOf(m.done, false)
      : m.state === "idle" && m.previous !== null
      ? doneViewOf(m.previous, true)
      : null,
    title: `${live && pct !== "" ? `${pct} · ` : ""}${stateLabels[m.state]} · ${path} · pipe`
  }
}

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

const partiesDetail = (e: { readonly sender: boolean; readonly receivers: number; readonly expectedReceivers: number }) =>
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
      return [{ at: snapshot.updatedAt, state: "idle", title: "Idle", detail: "no sender or receiver yet", transferId: null }]
    case "waiting":
      return [{ at: snapshot.updatedAt, state: "waiting", title: "Waiting", detail: partiesDetail(snapshot), transferId: null }]
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

// ---- the browser --------------------------------------------------------------------------------------

/** Follows the path's SSE stream and keeps the page in step with it. Runs in the browser only. */
const boot = (): void => {
  const byId = (id: string): HTMLElement => {
    const found = document.getElementById(id)
    if (found === null) throw new Error(`dashboard: #${id} is missing`)
    return found
  }
  const initialText = byId("initial").textContent ?? ""
  const initial = JSON.parse(initialText) as InitialData
  const { path } = initial
  let model = fromSnapshot(initial.snapshot)
  let log = initialLog(initial.snapshot)

  const root = document.body
  const el = {
    badge: byId("badge"),
    state: byId("state"),
    summary: byId("summary"),
    bytes: byId("bytes"),
    of: byId("of"),
    percent: byId("percent"),
    bar: byId("bar"),
    speedLabel: byId("speed-label"),
    speed: byId("speed"),
    eta: byId("eta"),
    elapsed: byId("elapsed"),
    receivers: byId("receivers"),
    hint: byId("hint"),
    done: byId("done"),
    doneIcon: byId("done-icon"),
    doneTitle: byId("done-title"),
    doneText: byId("done-text"),
    doneError: byId("done-error"),
    log: byId("log"),
    conn: byId("conn"),
    connText: byId("conn-text"),
    icon: byId("icon")
  }

  const setText = (node: HTMLElement, text: string) => {
    if (node.textContent !== text) node.textContent = text
  }

  // The commands in the hint name this very URL (the server only knows the path).
  for (const node of Array.from(document.querySelectorAll<HTMLElement>("[data-origin]"))) {
    setText(node, location.origin)
  }

  const tones: Readonly<Record<PipeStateName, string>> = {
    idle: "#94a3b8",
    waiting: "#f59e0b",
    streaming: "#3b82f6",
    complete: "#22c55e",
    aborted: "#ef4444"
  }
  const favicon = (state: PipeStateName): string =>
    `data:image/svg+xml,${
      encodeURIComponent(
        `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><circle cx="8" cy="8" r="7" fill="${
          tones[state]
        }"/></svg>`
      )
    }`

  const renderLog = () => {
    const items = log.map((entry) => {
      const li = document.createElement("li")
      li.dataset["state"] = entry.state
      const time = document.createElement("time")
      time.dateTime = new Date(entry.at).toISOString()
      time.textContent = formatClock(entry.at, false)
      const body = document.createElement("span")
      body.className = "entry"
      const title = document.createElement("span")
      title.className = "entry-title"
      title.textContent = entry.title
      body.append(title)
      if (entry.detail !== "") {
        const detail = document.createElement("span")
        detail.className = "entry-detail"
        detail.textContent = entry.detail
        body.append(detail)
      }
      li.append(time, body)
      return li
    })
    el.log.replaceChildren(...items)
  }

  const render = () => {
    const view = present(model, path)
    root.dataset["state"] = view.state
    el.badge.dataset["state"] = view.state
    setText(el.state, view.stateLabel)
    setText(el.summary, view.summary)
    setText(el.bytes, view.bytes)
    setText(el.of, view.of)
    setText(el.percent, view.percent)
    el.bar.dataset["mode"] = view.barMode
    el.bar.style.setProperty("--p", `${view.barValue}%`)
    if (view.barMode === "determinate") el.bar.setAttribute("aria-valuenow", String(Math.round(view.barValue * 10) / 10))
    else el.bar.removeAttribute("aria-valuenow")
    el.bar.setAttribute("aria-valuetext", view.percent === "" ? view.stateLabel : view.percent)
    setText(el.speedLabel, view.speedLabel)
    setText(el.speed, view.speed)
    setText(el.eta, view.eta)
    setText(el.elapsed, view.elapsed)
    setText(el.receivers, view.receivers)
    el.hint.hidden = !view.showHint
    el.done.hidden = view.done === null
    if (view.done !== null) {
      el.done.dataset["ok"] = String(view.done.ok)
      el.done.dataset["previous"] = String(view.done.previous)
      setText(el.doneIcon, view.done.ok ? "✓" : "✕")
      setText(el.doneTitle, view.done.title)
      setText(el.doneText, view.done.text)
      setText(el.doneError, view.done.error)
      el.doneError.hidden = view.done.error === ""
    }
    if (document.title !== view.title) document.title = view.title
    const href = favicon(view.state)
    if (el.icon.getAttribute("href") !== href) el.icon.setAttribute("href", href)
  }

  const setConnection = (status: "connecting" | "live" | "reconnecting") => {
    el.conn.hidden = false
    el.conn.dataset["conn"] = status
    setText(el.connText, status === "live" ? "Live" : status === "connecting" ? "Connecting…" : "Reconnecting…")
  }

  const parse = <A>(event: Event): A | undefined => {
    if (!(event instanceof MessageEvent) || typeof event.data !== "string") return undefined
    try {
      return JSON.parse(event.data) as A
    } catch {
      return undefined
    }
  }

  // Only this path's stream: no other query parameter of the page's URL is carried over.
  const streamUrl = new URL(location.pathname, location.origin)
  streamUrl.search = "?progress=sse"

  let source: EventSource | undefined
  let retryMs = 1000
  const connect = () => {
    const es = new EventSource(streamUrl.href)
    source = es
    es.addEventListener("open", () => {
      retryMs = 1000
      setConnection("live")
    })
    es.addEventListener("error", () => {
      setConnection("reconnecting")
      // EventSource retries by itself after a network error, but gives up for good on an HTTP error (a 429,
      // a proxy's 502): then start over, backing off.
      if (es.readyState === EventSource.CLOSED && source === es) {
        source = undefined
        setTimeout(connect, retryMs)
        retryMs = Math.min(retryMs * 2, 30_000)
      }
    })
    es.addEventListener("state", (event) => {
      const data = parse<StateData>(event)
      if (data === undefined) return
      const entry = logEntryFor(model, data)
      if (entry !== undefined) {
        log = pushLog(log, entry)
        renderLog()
      }
      model = applyState(model, data)
      render()
    })
    es.addEventListener("progress", (event) => {
      const data = parse<ProgressData>(event)
      if (data === undefined) return
      // A progress of a transfer already over (a late sample) must not undo its final numbers.
      if (model.done !== null && model.done.transferId === data.transferId) return
      model = applyProgress(model, data)
      render()
    })
    es.addEventListener("done", (event) => {
      const data = parse<DoneData>(event)
      if (data === undefined) return
      model = applyDone(model, data)
      log = logWithDone(log, data)
      renderLog()
      render()
    })
  }

  renderLog()
  render()
  setConnection("connecting")
  connect()
}

if (typeof document !== "undefined" && document.getElementById("initial") !== null) boot()
