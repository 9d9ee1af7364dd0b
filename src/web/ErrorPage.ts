import { escapeHtml } from "./Html.js"
import type { Capabilities, Page } from "./PageShell.js"
import { htmlPage } from "./PageShell.js"
import { baseCss, logoSvg } from "./SiteStyle.js"

/** A refusal read in a browser: markup and a link, nothing that runs, posts or loads. */
const errorCapabilities: Capabilities = { script: false, blobImages: false, forms: false }

/** What a browser user is told a refusal means, by status; the server's own line says the rest. */
const headings: Readonly<Record<number, string>> = {
  400: "This request cannot be served",
  401: "A token is needed",
  403: "This token does not open this pipe",
  404: "Nothing here",
  405: "Method not allowed",
  408: "Nobody came",
  409: "This pipe is busy",
  429: "Too many people watching",
  500: "Something broke on our side",
  503: "The server is busy"
}

/** Where one status has causes a person would call by different names. */
const reasonHeadings: Readonly<Record<string, string>> = {
  TooManyConnections: "Too many connections"
}

/** A hint of what to do next, by the refusal's reason (src/domain/PipeError.ts), where there is a useful one. */
const hints: Readonly<Record<string, string>> = {
  InvalidPath:
    "A pipe path is made of letters, digits and <code>. _ ~ -</code>, in segments separated by <code>/</code>.",
  NotFound: "Pipes live at <code>/api/v1/pipe/&lt;name&gt;</code> or simply <code>/&lt;name&gt;</code>.",
  WaitTimedOut: "The other side did not arrive in time. Start both again, in any order.",
  SenderConflict: "Someone is already sending on this path. Wait for that transfer to end, or pick another path.",
  AlreadyEstablished: "A transfer is already using this path. Wait for it to end, or pick another path.",
  ReceiversFull: "Every receiver this transfer asked for is already here.",
  TokenRequired: "Open this page with the <code>?token=</code> link you were given.",
  TokenRefused: "The token may have expired, or be meant for another path or another use.",
  TooManyConnections: "Close some of your other transfers, then try again.",
  TooManySpectators: "Try again in a few seconds.",
  TooManySpectatorsOnServer: "Try again in a few seconds.",
  TooManyPipes: "Try again in a few seconds.",
  ShuttingDown: "The server is restarting. Try again in a few seconds."
}

/** Longer paths are cut: the page is for reading, and the message says what went wrong. */
const maxShownPath = 200

export interface ErrorPageInput {
  readonly status: number
  /** The refusal's message: the `[ERROR]` line a curl user reads, without its prefix. */
  readonly message: string
  /** The refusal's finer cause, which picks the hint. */
  readonly reason: string
  readonly method: string
  /** The path as the client sent it (never the query, which may carry a token). */
  readonly path: string
  readonly nonce: string
}

const errorCss = `
.narrow{max-width:640px}
.oops{margin:12px 0 40px}
.status{display:inline-block;font-weight:700;font-size:.85rem;color:var(--err);background:var(--err-bg);border-radius:999px;
padding:3px 12px;margin:0 0 12px;font-variant-numeric:tabular-nums}
.oops h1{font-size:clamp(1.5rem,5vw,2rem);font-weight:800}
.oops .error{margin:16px 0 0}
.asked{color:var(--muted);font-size:.9rem;margin:14px 0 0}
.asked code{word-break:break-all}
.oops .hint{font-size:.925rem;margin:12px 0 0}
.actions{display:flex;gap:10px;flex-wrap:wrap;margin:22px 0 0}
@media (max-width:520px){.wrap{padding:0 14px}.card{padding:16px}.actions{flex-direction:column}}
`

/** The HTML face of a refusal (same status, same message as the plain `[ERROR]` line), with a way home. */
export const renderErrorPage = ({ message, method, nonce, path, reason, status }: ErrorPageInput): Page => {
  const heading = reasonHeadings[reason] ?? headings[status] ?? "This request was refused"
  const hint = hints[reason]
  const shown = path.length > maxShownPath ? `${path.slice(0, maxShownPath)}…` : path
  return htmlPage({
    title: `${status} · ${heading} · pipe`,
    nonce,
    css: `${baseCss}${errorCss}`,
    body: `<header class="wrap narrow top"><a class="brand" href="/">${logoSvg}<span>pipe</span></a>
<nav class="nav" aria-label="Site"><a href="/">Home</a><a href="/help">Help</a></nav></header>
<main class="wrap narrow">
<section class="card oops" aria-labelledby="heading">
<span class="status">${status}</span>
<h1 id="heading">${escapeHtml(heading)}</h1>
<p class="error" role="alert">${escapeHtml(message)}</p>
<p class="asked">You asked for <code>${escapeHtml(`${method} ${shown}`)}</code></p>${
      hint === undefined ? "" : `\n<p class="hint">${hint}</p>`
    }
<div class="actions"><a class="btn" href="/">Go to the home page</a><a class="btn secondary" href="/help">How to use pipe</a></div>
</section>
</main>`
  }, errorCapabilities)
}
