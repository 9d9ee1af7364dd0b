import { formatClock } from "../domain/Format.js"
import type { Snapshot } from "../schema/Snapshot.js"
import type { InitialData, LogEntry, View } from "./DashboardModel.js"
import { fromSnapshot, initialLog, offlineText, present } from "./DashboardModel.js"
import { dashboardCss } from "./DashboardStyle.js"
import { embedJson, escapeHtml } from "./Html.js"
import type { Capabilities, Page } from "./PageShell.js"
import { htmlPage } from "./PageShell.js"

/** The dashboard runs its script against its own SSE stream; it has no form and no image but its icon. */
export const dashboardCapabilities: Capabilities = { script: true, blobImages: false, forms: false }

const staticIcon = `data:image/svg+xml,${
  encodeURIComponent(
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><circle cx="8" cy="8" r="7" fill="#3b82f6"/></svg>`
  )
}`

const logo = `<svg width="26" height="26" viewBox="0 0 32 32" aria-hidden="true" focusable="false">
<rect width="32" height="32" rx="9" fill="#2563eb"/>
<path d="M7 12.5h11.5a4.5 4.5 0 0 1 0 9H13" fill="none" stroke="#fff" stroke-width="3" stroke-linecap="round"/>
<path d="M16 18l-3.5 3.5L16 25" fill="none" stroke="#fff" stroke-width="3" stroke-linecap="round" stroke-linejoin="round"/>
</svg>`

const renderLog = (log: ReadonlyArray<LogEntry>): string =>
  log.map((entry) =>
    `<li data-state="${escapeHtml(entry.state)}"><time datetime="${new Date(entry.at).toISOString()}">${
      escapeHtml(formatClock(entry.at, true))
    }</time><span class="entry"><span class="entry-title">${escapeHtml(entry.title)}</span>${
      entry.detail === "" ? "" : `<span class="entry-detail">${escapeHtml(entry.detail)}</span>`
    }</span></li>`
  ).join("")

const hidden = (hide: boolean): string => (hide ? " hidden" : "")

const renderDone = (view: View): string => {
  const done = view.done
  return `<div id="done" class="done" data-ok="${done === null ? "" : String(done.ok)}" data-previous="${
    done === null ? "" : String(done.previous)
  }" role="status"${hidden(done === null)}>
<span id="done-icon" class="done-icon" aria-hidden="true">${done === null ? "" : done.ok ? "✓" : "✕"}</span>
<span class="done-body"><span id="done-title" class="done-title">${escapeHtml(done?.title ?? "")}</span>
<span id="done-text" class="done-text">${escapeHtml(done?.text ?? "")}</span>
<span id="done-meta" class="done-meta">${escapeHtml(done?.meta ?? "")}</span>
<span id="done-error" class="done-error"${hidden(done === null || done.error === "")}>${
    escapeHtml(done?.error ?? "")
  }</span></span>
</div>`
}

export interface DashboardInput {
  /** The path exactly as the client asked for it. */
  readonly path: string
  readonly snapshot: Snapshot
  /** A fresh, unguessable value per response (base64). */
  readonly nonce: string
  /** The bundled browser script (src/web/browser/dashboard.ts), inlined as the page's only script. */
  readonly script: string
  /** The clock "finished 3 h ago" is measured with (default: now). */
  readonly now?: number
}

/** A button's icon: inline SVG in the text's colour (an emoji may be missing from a phone's fonts). */
const icon = (paths: string): string =>
  `<svg class="act-icon" viewBox="0 0 24 24" width="18" height="18" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true" focusable="false">${paths}</svg>`

/**
 * The phone-in-a-pocket tools: notify on done, copy the link, show it as a QR code. Each needs the script,
 * so each starts hidden and the script shows the ones this browser can do.
 */
const actions = `<div id="actions" class="actions" hidden>
<button id="notify" class="act" type="button" aria-pressed="false" hidden>${
  icon(`<path d="M6 8a6 6 0 0 1 12 0c0 7 3 9 3 9H3s3-2 3-9"/><path d="M10.3 21a1.94 1.94 0 0 0 3.4 0"/>`)
}<span id="notify-text">Notify me when done</span></button>
<button id="copy" class="act" type="button">${
  icon(
    `<path d="M10 13a5 5 0 0 0 7.54.54l3-3a5 5 0 0 0-7.07-7.07l-1.72 1.71"/><path d="M14 11a5 5 0 0 0-7.54-.54l-3 3a5 5 0 0 0 7.07 7.07l1.71-1.71"/>`
  )
}<span id="copy-text">Copy link</span></button>
<button id="qr-toggle" class="act" type="button" aria-expanded="false" aria-controls="share">${
  icon(
    `<rect x="3" y="3" width="7" height="7" rx="1"/><rect x="14" y="3" width="7" height="7" rx="1"/><rect x="3" y="14" width="7" height="7" rx="1"/><path d="M14 14h3v3h-3zM21 14v.01M14 21h.01M17 21h4v-4"/>`
  )
}<span>QR code</span></button>
</div>
<div id="share" class="share" hidden>
<div id="qr" class="qr" role="img" aria-label="QR code of this page's address"></div>
<p class="share-text"><span>Scan to open this page on another device, or copy the address:</span><code id="share-url" class="share-url"></code></p>
</div>`

/** The whole page, rendered in the state the snapshot describes. Every interpolated string is escaped. */
export const renderDashboard = ({ nonce, now = Date.now(), path, script, snapshot }: DashboardInput): Page => {
  const view = present(fromSnapshot(snapshot), path, { now, localTime: false, offline: false })
  const p = escapeHtml(path)
  const bar = view.barMode === "determinate"
    ? ` aria-valuenow="${Math.round(view.barValue * 10) / 10}"`
    : ""
  const initial: typeof InitialData.Encoded = { path, snapshot }
  return htmlPage({
    title: view.title,
    nonce,
    head: `<meta name="robots" content="noindex">
<noscript><meta http-equiv="refresh" content="5"></noscript>
<link id="icon" rel="icon" href="${escapeHtml(staticIcon)}">`,
    css: `${dashboardCss}
#bar { --p: ${view.barValue}%; }
`,
    bodyAttributes: { "data-state": view.state, "data-history": String(view.done?.previous === true) },
    body: `<div class="wrap">
<header class="top">
<a class="brand" href="/">${logo}<span>pipe <small>live transfer</small></span></a>
<span id="conn" class="conn" data-conn="connecting" role="status" hidden><span class="pulse" aria-hidden="true"></span><span id="conn-text">Connecting…</span></span>
</header>
<main>
<section class="card hero" aria-labelledby="path">
<div class="head">
<p class="eyebrow">Pipe</p>
<span id="badge" class="badge" data-state="${
      escapeHtml(view.state)
    }"><span class="dot" aria-hidden="true"></span><span id="state">${escapeHtml(view.stateLabel)}</span></span>
</div>
<h1 id="path" class="path">${p}</h1>
<p id="summary" class="summary">${escapeHtml(view.summary)}</p>
<p id="offline" class="offline" role="alert" hidden>${escapeHtml(offlineText)}</p>
<div class="amount" aria-live="off">
<span id="bytes" class="big">${escapeHtml(view.bytes)}</span>
<span id="of" class="of">${escapeHtml(view.of)}</span>
<span id="percent" class="pct">${escapeHtml(view.percent)}</span>
</div>
<div id="bar" class="bar" role="progressbar" aria-label="Transfer progress" aria-valuemin="0" aria-valuemax="100"${bar} aria-valuetext="${
      escapeHtml(view.percent === "" ? view.stateLabel : view.percent)
    }" data-mode="${view.barMode}"><div class="fill"></div></div>
<dl class="stats">
<div class="stat"><dt id="speed-label">${escapeHtml(view.speedLabel)}</dt><dd id="speed">${
      escapeHtml(view.speed)
    }</dd></div>
<div class="stat"><dt>ETA</dt><dd id="eta">${escapeHtml(view.eta)}</dd></div>
<div class="stat"><dt>Elapsed</dt><dd id="elapsed">${escapeHtml(view.elapsed)}</dd></div>
<div class="stat"><dt>Receivers</dt><dd id="receivers">${escapeHtml(view.receivers)}</dd></div>
</dl>
${renderDone(view)}
${actions}
<noscript><p class="note">Live updates need JavaScript: this page reloads itself every 5 seconds instead.</p></noscript>
</section>
<div class="grid two">
<section class="card panel" aria-labelledby="log-title">
<h2 id="log-title">Activity</h2>
<ol id="log" class="log">${renderLog(initialLog(snapshot))}</ol>
</section>
<section id="hint" class="card panel" aria-labelledby="hint-title"${hidden(!view.showHint)}>
<h2 id="hint-title">Use this pipe</h2>
<p class="cmd"><span>Send a file</span><code>curl -T file.bin <span data-origin></span>${p}</code></p>
<p class="cmd"><span>Send a stream</span><code>tar c dir | curl -T - <span data-origin></span>${p}</code></p>
<p class="cmd"><span>Receive</span><code>curl <span data-origin></span>${p} &gt; file.bin</code></p>
</section>
</div>
</main>
<footer class="foot"><span>Nothing is stored: bytes flow from the sender to the receivers.</span><a href="${p}?progress=json">JSON</a><a href="${p}?progress=sse">Event stream</a></footer>
</div>
<script type="application/json" id="initial">${embedJson(initial)}</script>`,
    script
  }, dashboardCapabilities)
}
