import type { Snapshot } from "../../schema/Snapshot.js"
import type { LogEntry, View } from "./client.js"
import { formatClock, fromSnapshot, initialLog, present } from "./client.js"
import { dashboardCss } from "./styles.js"

const entities: Readonly<Record<string, string>> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  "\"": "&quot;",
  "'": "&#39;"
}

/** Text for HTML content and (quoted) attribute values. */
export const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (c) => entities[c] ?? c)

/**
 * JSON for a `<script type="application/json">` data block: `<`, `>` and `&` become `\u003c`…, so no
 * `</script>` or `<!--` can end or change the block whatever the strings hold; U+2028/2029 likewise.
 */
export const embedJson = (value: unknown): string =>
  JSON.stringify(value).replace(
    /[<>&\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`
  )

/** The page's Content-Security-Policy: nothing but its own nonce'd script and style, and its own SSE stream. */
export const contentSecurityPolicy = (nonce: string): string =>
  [
    "default-src 'none'",
    `script-src 'nonce-${nonce}'`,
    `style-src 'nonce-${nonce}'`,
    "connect-src 'self'",
    "img-src data:",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'"
  ].join("; ")

/** The headers of every dashboard response. */
export const dashboardHeaders = (nonce: string): Readonly<Record<string, string>> => ({
  "content-security-policy": contentSecurityPolicy(nonce),
  "cache-control": "no-store",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer"
})

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
<span id="done-error" class="done-error"${hidden(done === null || done.error === "")}>${escapeHtml(done?.error ?? "")}</span></span>
</div>`
}

export interface DashboardInput {
  /** The path exactly as the client asked for it. */
  readonly path: string
  readonly snapshot: Snapshot
  /** A fresh, unguessable value per response (base64). */
  readonly nonce: string
  /** The compiled client (`client.js`), inlined as the page's only script. */
  readonly script: string
}

/** The whole page, rendered in the state the snapshot describes. Every interpolated string is escaped. */
export const renderDashboard = ({ nonce, path, script, snapshot }: DashboardInput): string => {
  const view = present(fromSnapshot(snapshot), path)
  const n = escapeHtml(nonce)
  const p = escapeHtml(path)
  const bar = view.barMode === "determinate"
    ? ` aria-valuenow="${Math.round(view.barValue * 10) / 10}"`
    : ""
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<meta name="referrer" content="no-referrer">
<meta name="robots" content="noindex">
<noscript><meta http-equiv="refresh" content="5"></noscript>
<title>${escapeHtml(view.title)}</title>
<link id="icon" rel="icon" href="${escapeHtml(staticIcon)}">
<style nonce="${n}">${dashboardCss}
#bar { --p: ${view.barValue}%; }
</style>
</head>
<body data-state="${escapeHtml(view.state)}">
<div class="wrap">
<header class="top">
<a class="brand" href="/">${logo}<span>pipe <small>live transfer</small></span></a>
<span id="conn" class="conn" data-conn="connecting" role="status" hidden><span class="pulse" aria-hidden="true"></span><span id="conn-text">Connecting…</span></span>
</header>
<main>
<section class="card hero" aria-labelledby="path">
<div class="head">
<p class="eyebrow">Pipe</p>
<span id="badge" class="badge" data-state="${escapeHtml(view.state)}"><span class="dot" aria-hidden="true"></span><span id="state">${
    escapeHtml(view.stateLabel)
  }</span></span>
</div>
<h1 id="path" class="path">${p}</h1>
<p id="summary" class="summary">${escapeHtml(view.summary)}</p>
<div class="amount" aria-live="off">
<span id="bytes" class="big">${escapeHtml(view.bytes)}</span>
<span id="of" class="of">${escapeHtml(view.of)}</span>
<span id="percent" class="pct">${escapeHtml(view.percent)}</span>
</div>
<div id="bar" class="bar" role="progressbar" aria-label="Transfer progress" aria-valuemin="0" aria-valuemax="100"${bar} aria-valuetext="${
    escapeHtml(view.percent === "" ? view.stateLabel : view.percent)
  }" data-mode="${view.barMode}"><div class="fill"></div></div>
<dl class="stats">
<div class="stat"><dt id="speed-label">${escapeHtml(view.speedLabel)}</dt><dd id="speed">${escapeHtml(view.speed)}</dd></div>
<div class="stat"><dt>ETA</dt><dd id="eta">${escapeHtml(view.eta)}</dd></div>
<div class="stat"><dt>Elapsed</dt><dd id="elapsed">${escapeHtml(view.elapsed)}</dd></div>
<div class="stat"><dt>Receivers</dt><dd id="receivers">${escapeHtml(view.receivers)}</dd></div>
</dl>
${renderDone(view)}
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
<script type="application/json" id="initial">${embedJson({ path, snapshot })}</script>
<script type="module" nonce="${n}">${script}</script>
</body>
</html>
`
}
