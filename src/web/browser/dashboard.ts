/**
 * The dashboard's script (protocol §4.3): reads the snapshot the server rendered the page from, then follows
 * the path's SSE stream and keeps the page in step with it. Bundled and inlined by the build; data from the
 * server reaches the DOM through `textContent` only.
 */
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import { formatClock } from "../../domain/Format.js"
import type { DoneData, PipeEvent } from "../../schema/PipeEvent.js"
import { Snapshot } from "../../schema/Snapshot.js"
import { decodeSseFrameSync } from "../../schema/Sse.js"
import type { View } from "../DashboardModel.js"
import {
  applyDone,
  applyProgress,
  applyState,
  fromSnapshot,
  InitialData,
  initialLog,
  logEntryFor,
  logWithDone,
  notificationOf,
  present,
  pushLog
} from "../DashboardModel.js"
import type { QrCode } from "./Qr.js"
import { encodeQr, svgPath } from "./Qr.js"

const decodeInitial = Schema.decodeUnknownOption(Schema.fromJsonString(InitialData))
const decodeSnapshot = Schema.decodeUnknownOption(Schema.fromJsonString(Snapshot))
const decodeTokenRoles = Schema.decodeUnknownOption(
  Schema.fromJsonString(Schema.Struct({ r: Schema.Array(Schema.String) }))
)

/**
 * Whether a signed token (protocol §12, `pipe1.<payload>.<mac>`) grants watching and nothing else, read from
 * its payload, which is in clear. Only such a token may go in the link this page hands on.
 */
const isWatchOnly = (token: string): boolean => {
  const [version, payload] = token.split(".")
  if (version !== "pipe1" || payload === undefined || !/^[A-Za-z0-9_-]+$/.test(payload)) return false
  let json: string
  try {
    json = atob(payload.replace(/-/g, "+").replace(/_/g, "/"))
  } catch {
    return false
  }
  return Option.match(decodeTokenRoles(json), {
    onNone: () => false,
    onSome: ({ r }) => r.length > 0 && r.every((role) => role === "watch")
  })
}

/** A stream that failed this long without coming back is "lost", even before a second attempt fails. */
const lostAfterMs = 4000
/**
 * A phone that loses its network often gets no error at all: the stream just goes quiet. While a transfer
 * streams the server sends `progress` every interval (a stalled one too, with `stalledSec`), so a silence of
 * several intervals, and at least this long, is a connection that is gone.
 */
const quietAfterMs = 5000

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
  // Opened with `?token=` (a server with access control): the page's own requests carry it too.
  const pageToken = new URLSearchParams(location.search).get("token")
  const tokenQuery = pageToken === null || pageToken === "" ? "" : `&token=${encodeURIComponent(pageToken)}`
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
    doneMeta: byId("done-meta"),
    doneError: byId("done-error"),
    offline: byId("offline"),
    actions: byId("actions"),
    notify: byId("notify"),
    notifyText: byId("notify-text"),
    copy: byId("copy"),
    copyText: byId("copy-text"),
    qrToggle: byId("qr-toggle"),
    share: byId("share"),
    qr: byId("qr"),
    shareUrl: byId("share-url"),
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

  const tones: Readonly<Record<View["state"], string>> = {
    offline: "#94a3b8",
    idle: "#94a3b8",
    waiting: "#f59e0b",
    streaming: "#3b82f6",
    complete: "#22c55e",
    aborted: "#ef4444"
  }
  const favicon = (state: View["state"]): string =>
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

  /** Set while the stream is down and its reconnects fail: then nothing live is vouched for. */
  let offline = false

  const render = () => {
    const view = present(model, path, { now: Date.now(), localTime: true, offline })
    root.dataset["state"] = view.state
    root.dataset["history"] = String(view.done?.previous === true)
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
      setText(el.doneMeta, view.done.meta)
      setText(el.doneError, view.done.error)
      el.doneError.hidden = view.done.error === ""
    }
    setText(el.offline, view.offlineNote)
    el.offline.hidden = view.offlineNote === ""
    if (document.title !== view.title) document.title = view.title
    const href = favicon(view.state)
    if (el.icon.getAttribute("href") !== href) el.icon.setAttribute("href", href)
  }

  const connTexts = {
    connecting: "Connecting…",
    live: "Live",
    reconnecting: "Reconnecting…",
    lost: "Offline"
  } as const
  const setConnection = (status: keyof typeof connTexts) => {
    el.conn.hidden = false
    el.conn.dataset["conn"] = status
    setText(el.connText, connTexts[status])
    const wasOffline = offline
    offline = status === "lost"
    if (offline !== wasOffline) render()
  }

  // ---- notify me when done ----
  // Only where the API exists and may be used (a secure context); permission is asked on the click only.
  const canNotify = typeof Notification === "function" && window.isSecureContext
  let notifyOn = false
  const renderNotify = () => {
    const permission = canNotify ? Notification.permission : "denied"
    const on = notifyOn && permission === "granted"
    el.notify.setAttribute("aria-pressed", String(on))
    el.notify.dataset["notify"] = permission === "denied" ? "denied" : on ? "on" : "off"
    setText(
      el.notifyText,
      permission === "denied" ? "Notifications blocked" : on ? "Will notify when done" : "Notify me when done"
    )
  }
  const notifyDone = (done: DoneData) => {
    if (!notifyOn || !canNotify || Notification.permission !== "granted") return
    const { body, title } = notificationOf(done, path)
    try {
      new Notification(title, { body, tag: `pipe ${path}` })
    } catch {
      // Chrome on Android allows notifications from a service worker only: the tab's title still tells.
    }
  }
  if (canNotify) {
    el.notify.hidden = false
    renderNotify()
    el.notify.addEventListener("click", () => {
      if (Notification.permission === "granted") {
        notifyOn = !notifyOn
        renderNotify()
        return
      }
      if (Notification.permission === "denied") return renderNotify()
      void Notification.requestPermission().then((permission) => {
        notifyOn = permission === "granted"
        renderNotify()
      })
    })
  }

  // ---- copy link and QR code ----
  // The address to hand on: this page on this path, without whatever else the URL carried, but with a
  // watch-only token (a link is forwarded: it must never carry a token that opens the data).
  const shareUrl = new URL(location.pathname, location.origin)
  shareUrl.search = `?progress${
    pageToken !== null && isWatchOnly(pageToken) ? `&token=${encodeURIComponent(pageToken)}` : ""
  }`
  setText(el.shareUrl, shareUrl.href)
  const selectLink = () => {
    el.share.hidden = false
    el.qrToggle.setAttribute("aria-expanded", "true")
    drawQr()
    const range = document.createRange()
    range.selectNodeContents(el.shareUrl)
    const selection = window.getSelection()
    selection?.removeAllRanges()
    selection?.addRange(range)
  }
  let copyTimer: ReturnType<typeof setTimeout> | undefined
  const copied = (text: string) => {
    setText(el.copyText, text)
    clearTimeout(copyTimer)
    copyTimer = setTimeout(() => setText(el.copyText, "Copy link"), 2500)
  }
  el.copy.addEventListener("click", () => {
    const fallback = () => {
      selectLink()
      copied("Link selected: copy it")
    }
    if (navigator.clipboard === undefined) return fallback()
    navigator.clipboard.writeText(shareUrl.href).then(() => copied("Link copied ✓"), fallback)
  })
  const encodeFitting = (text: string): QrCode => {
    try {
      return encodeQr(text, { ecc: "M" })
    } catch {
      return encodeQr(text, { ecc: "L" })
    }
  }
  let qrDrawn = false
  const drawQr = () => {
    if (qrDrawn) return
    qrDrawn = true
    try {
      // Level M while it fits version 10; a longer address (paths go up to 512 bytes) trades margin for room.
      const qr = encodeFitting(shareUrl.href)
      const ns = "http://www.w3.org/2000/svg"
      const side = qr.size + 8
      const svg = document.createElementNS(ns, "svg")
      svg.setAttribute("viewBox", `0 0 ${side} ${side}`)
      svg.setAttribute("shape-rendering", "crispEdges")
      svg.setAttribute("aria-hidden", "true")
      // Dark on light whatever the page's scheme: scanners expect it, and the quiet zone needs the light.
      const background = document.createElementNS(ns, "rect")
      background.setAttribute("width", String(side))
      background.setAttribute("height", String(side))
      background.setAttribute("fill", "#fff")
      const modules = document.createElementNS(ns, "path")
      modules.setAttribute("d", svgPath(qr, 4))
      modules.setAttribute("fill", "#000")
      svg.append(background, modules)
      el.qr.replaceChildren(svg)
    } catch {
      el.qr.textContent = "This address is too long for a QR code."
    }
  }
  el.qrToggle.addEventListener("click", () => {
    const open = el.share.hidden
    el.share.hidden = !open
    el.qrToggle.setAttribute("aria-expanded", String(open))
    if (open) drawQr()
  })
  el.actions.hidden = false

  /** The pipe event a message carries, decoded with the Schemas the server encoded it with. */
  const eventOf = (event: Event): PipeEvent | undefined =>
    event instanceof MessageEvent && typeof event.data === "string"
      ? decodeSseFrameSync({ event: event.type, id: event.lastEventId, data: event.data })
      : undefined

  // Only this path's stream: no other query parameter of the page's URL is carried over, but its token.
  const streamUrl = new URL(location.pathname, location.origin)
  streamUrl.search = `?progress=sse${tokenQuery}`

  /**
   * An idle path's last result (protocol §9) is in the JSON snapshot, not in the stream (which never replays
   * an old `done`): asked for when the path goes idle, so a page that missed the end still shows it.
   */
  const fetchLast = (following: string | null) => {
    const url = new URL(location.pathname, location.origin)
    url.search = `?progress=json${tokenQuery}`
    fetch(url.href, { headers: { accept: "application/json" }, cache: "no-store" })
      .then((response) => (response.ok ? response.text() : ""))
      .then((text) => {
        const snapshot = decodeSnapshot(text)
        if (Option.isNone(snapshot) || snapshot.value.last === null || model.state !== "idle") return
        const last = snapshot.value.last
        model = { ...model, previous: last }
        render()
        // The end of the transfer this page was following, missed while it was offline: still news.
        if (last.transferId === following) notifyDone(last)
      }, () => undefined)
  }

  let source: EventSource | undefined
  let heardAt = Date.now()
  let progressGapMs = 0
  let lastProgressAt: number | undefined
  let retryMs = 1000
  let lostTimer: ReturnType<typeof setTimeout> | undefined
  let failures = 0
  const connect = () => {
    const es = new EventSource(streamUrl.href)
    source = es
    es.addEventListener("open", () => {
      heardAt = Date.now()
      retryMs = 1000
      failures = 0
      clearTimeout(lostTimer)
      lostTimer = undefined
      setConnection("live")
    })
    es.addEventListener("error", () => {
      // One error is a stream that ended (its time to live, a proxy): EventSource reconnects within a second.
      // A reconnect that fails too, or none for a few seconds, is a server gone: say so, keep retrying.
      failures++
      if (failures >= 2) setConnection("lost")
      else if (!offline) setConnection("reconnecting")
      lostTimer ??= setTimeout(() => setConnection("lost"), lostAfterMs)
      // EventSource retries by itself after a network error, but gives up for good on an HTTP error (a 429,
      // a proxy's 502): then start over, backing off.
      if (es.readyState === EventSource.CLOSED && source === es) {
        source = undefined
        setTimeout(connect, retryMs)
        retryMs = Math.min(retryMs * 2, 30_000)
      }
    })
    es.addEventListener("state", (event) => {
      heardAt = Date.now()
      const data = eventOf(event)
      if (data?.event !== "state") return
      const entry = logEntryFor(model, data)
      if (entry !== undefined) {
        log = pushLog(log, entry)
        renderLog()
      }
      const wasIdle = model.state === "idle"
      const following = model.transferId
      model = applyState(model, data)
      render()
      // A path this page saw go idle without seeing its end (it was offline meanwhile) has it in history.
      if (!wasIdle && data.state === "idle" && model.previous === null) fetchLast(following)
    })
    es.addEventListener("progress", (event) => {
      heardAt = Date.now()
      const data = eventOf(event)
      if (data?.event !== "progress") return
      if (lastProgressAt !== undefined) progressGapMs = Math.max(0, data.at - lastProgressAt)
      lastProgressAt = data.at
      // A progress of a transfer already over (a late sample) must not undo its final numbers.
      if (model.done !== null && model.done.transferId === data.transferId) return
      model = applyProgress(model, data)
      render()
    })
    es.addEventListener("done", (event) => {
      heardAt = Date.now()
      const data = eventOf(event)
      if (data?.event !== "done") return
      // A replayed `done` (a reconnect within the retention) is not news: notify for a new end only.
      const news = model.done?.transferId !== data.transferId
      model = applyDone(model, data)
      log = logWithDone(log, data)
      renderLog()
      render()
      if (news) notifyDone(data)
    })
  }

  // A streaming transfer gone quiet: drop that connection, say so, and start a new one.
  const checkQuiet = () => {
    if (model.state !== "streaming" || source === undefined) return
    if (Date.now() - heardAt < Math.max(quietAfterMs, 4 * progressGapMs)) return
    source.close()
    source = undefined
    setConnection("lost")
    heardAt = Date.now()
    connect()
  }

  renderLog()
  render()
  // "finished 3 h ago" ages by itself.
  setInterval(() => {
    checkQuiet()
    render()
  }, 1000)
  setConnection("connecting")
  connect()
}

boot()
