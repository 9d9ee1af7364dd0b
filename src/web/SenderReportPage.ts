/**
 * What a browser's form POST (`/noscript`, protocol §3) gets back instead of plain text: the same sender lines,
 * streamed as they happen, in a page a phone shows at its own width. A text/plain reply has no viewport, so a
 * phone lays it out 980 px wide and shrinks it to a third: unreadable. The server writes `head` with the
 * headers, `line(…)` for every line it would have written as text, then `tail`. Without a script the heading
 * follows the lines by CSS alone (`:has`): "Sending…", then "Sent ✓" or "Not sent".
 */
import { escapeHtml } from "./Html.js"
import type { Capabilities } from "./PageShell.js"
import { htmlDocument, pageHeaders } from "./PageShell.js"
import { baseCss, logoSvg } from "./SiteStyle.js"

/** No script, no form: lines and two links. */
const reportCapabilities: Capabilities = { script: false, blobImages: false, forms: false }

export interface SenderReport {
  readonly contentType: string
  readonly headers: Record<string, string>
  /** The document up to where the lines go; sent at once, like the first text line. */
  readonly head: string
  /** One protocol line (`[INFO] …\n`) as markup; the keep-alive probe (`\n`) stays whitespace. */
  readonly line: (line: string) => string
  /** The rest of the document, after the last line. */
  readonly tail: string
}

const reportCss = `
.narrow{max-width:620px}
.intro{padding:8px 0 16px}
.intro h1{font-size:clamp(1.5rem,6vw,2rem);font-weight:800;letter-spacing:-.02em}
.intro p{color:var(--muted);margin:8px 0 0}
.intro code{font-size:.95rem;word-break:break-all}
.lines{list-style:none;margin:0;padding:0;display:grid;gap:10px;font-size:1rem;line-height:1.45}
.lines li{display:flex;gap:10px;align-items:baseline;overflow-wrap:anywhere;min-width:0}
.lines li::before{content:"";flex:none;width:8px;height:8px;border-radius:50%;background:var(--muted);transform:translateY(-1px)}
.lines li[data-kind=ok]{color:var(--ok);font-weight:700}
.lines li[data-kind=ok]::before{background:var(--ok)}
.lines li[data-kind=error]{color:var(--err);font-weight:700}
.lines li[data-kind=error]::before{background:var(--err)}
.tag{flex:none;min-width:3.4em;overflow-wrap:normal;font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.8rem;font-weight:600;color:var(--muted)}
.sent,.failed{display:none}
main:has(li[data-kind=ok]) .busy{display:none}
main:has(li[data-kind=ok]):not(:has(li[data-kind=error])) .sent{display:inline;color:var(--ok)}
main:has(li[data-kind=error]) .busy{display:none}
main:has(li[data-kind=error]) .failed{display:inline;color:var(--err)}
.next{display:flex;flex-wrap:wrap;gap:10px;margin:18px 0 0}
.next .btn{flex:1 1 160px;min-height:44px}
@media (max-width:520px){.wrap{padding:0 14px}.card{padding:16px}}
`

const marker = "<!--sender-lines-->"

/** `[INFO] All receiver(s) received successfully.` → its kind, its tag and its text. */
const parse = (
  line: string
): { readonly kind: "info" | "ok" | "error"; readonly tag: string; readonly text: string } => {
  const match = /^\[(INFO|ERROR)\] (.*)$/s.exec(line.replace(/\n$/, ""))
  const tag = match?.[1] ?? ""
  const text = match?.[2] ?? line.trim()
  const kind = tag === "ERROR" ? "error" : /successfully/.test(text) ? "ok" : "info"
  return { kind, tag, text }
}

/** The report page of a sender on `path` (`/api/v1/pipe/NAME`, as the form posted to it). */
export const senderReport = (path: string, nonce: string): SenderReport => {
  const name = path.replace(/^\/api\/v1\/pipe\//, "").replace(/^\//, "")
  const p = escapeHtml(path)
  const document = htmlDocument({
    title: `pipe: sending to ${name}`,
    nonce,
    css: `${baseCss}${reportCss}`,
    body: `<header class="wrap narrow top"><a class="brand" href="/">${logoSvg}<span>pipe</span></a>
<nav class="nav" aria-label="Site"><a href="/">Home</a><a href="/help">Help</a></nav></header>
<main class="wrap narrow">
<section class="intro"><h1><span class="busy">Sending…</span><span class="sent">Sent ✓</span><span class="failed">Not sent</span></h1><p>To <code>${p}</code>. Keep this page open until the last line says so.</p></section>
<section class="card" aria-label="What the server says">
<ol class="lines" aria-live="polite">${marker}</ol>
<nav class="next" aria-label="Next"><a class="btn secondary" href="${p}?progress">Watch this path</a><a class="btn secondary" href="/noscript?path=${
      escapeHtml(encodeURIComponent(name))
    }">Send another</a></nav>
</section>
</main>
<footer class="wrap narrow foot">This page runs no script. Nothing is stored: the receiver gets the bytes while you send them.</footer>`
  })
  const at = document.indexOf(marker)
  return {
    contentType: "text/html; charset=utf-8",
    headers: pageHeaders(nonce, reportCapabilities),
    head: document.slice(0, at),
    line: (line) => {
      if (line.trim() === "") return line
      const { kind, tag, text } = parse(line)
      return `<li data-kind="${kind}">${tag === "" ? "" : `<span class="tag">${tag}</span>`}<span>${
        escapeHtml(text)
      }</span></li>\n`
    },
    tail: document.slice(at + marker.length)
  }
}
