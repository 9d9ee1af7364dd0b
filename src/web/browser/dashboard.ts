/**
 * The dashboard's script (protocol §4.3): reads the snapshot the server rendered the page from, then follows
 * the path's SSE stream and keeps the page in step with it. Bundled and inlined by the build; data from the
 * server reaches the DOM through `textContent` only.
 */
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import type { PipeEvent } from "../../schema/PipeEvent.js"
import { decodeSseFrameSync } from "../../schema/Sse.js"
import type { PipeStateName } from "../DashboardModel.js"
import {
  applyDone,
  applyProgress,
  applyState,
  fromSnapshot,
  InitialData,
  initialLog,
  logEntryFor,
  logWithDone,
  present,
  pushLog
} from "../DashboardModel.js"
import { formatClock } from "../Format.js"

const decodeInitial = Schema.decodeUnknownOption(Schema.fromJsonString(InitialData))

/** Follows the path's SSE stream and keeps the page in step with it. Runs in the browser only. */
const boot = (): void => {
  const byId = (id: string): HTMLElement => {
    const found = document.getElementById(id)
    if (found === null) throw new Error(`dashboard: #${id} is missing`)
    return found
  }
  const initial = decodeInitial(byId("initial").textContent ?? "")
  if (Option.isNone(initial)) throw new Error("dashboard: the embedded snapshot does not decode")
  const { path, snapshot } = initial.value
  let model = fromSnapshot(snapshot)
  let log = initialLog(snapshot)

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
    if (view.barMode === "determinate") {
      el.bar.setAttribute("aria-valuenow", String(Math.round(view.barValue * 10) / 10))
    } else el.bar.removeAttribute("aria-valuenow")
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

  /** The pipe event a message carries, decoded with the Schemas the server encoded it with. */
  const eventOf = (event: Event): PipeEvent | undefined =>
    event instanceof MessageEvent && typeof event.data === "string"
      ? decodeSseFrameSync({ event: event.type, id: event.lastEventId, data: event.data })
      : undefined

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
      const data = eventOf(event)
      if (data?.event !== "state") return
      const entry = logEntryFor(model, data)
      if (entry !== undefined) {
        log = pushLog(log, entry)
        renderLog()
      }
      model = applyState(model, data)
      render()
    })
    es.addEventListener("progress", (event) => {
      const data = eventOf(event)
      if (data?.event !== "progress") return
      // A progress of a transfer already over (a late sample) must not undo its final numbers.
      if (model.done !== null && model.done.transferId === data.transferId) return
      model = applyProgress(model, data)
      render()
    })
    es.addEventListener("done", (event) => {
      const data = eventOf(event)
      if (data?.event !== "done") return
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

boot()
