import * as Option from "effect/Option"
import { parsePipeName } from "../domain/PipeName.js"
import { escapeHtml } from "./Html.js"
import type { Capabilities, Page } from "./PageShell.js"
import { htmlPage } from "./PageShell.js"
import { baseCss, logoSvg } from "./SiteStyle.js"

/** No script at all: the form is a plain POST to this origin. */
const noscriptCapabilities: Capabilities = { script: false, blobImages: true, forms: true }

/**
 * `?path=` as piping-server's /noscript takes it: leading slashes stripped, every character outside the
 * protocol's alphabet (`[A-Za-z0-9._~-]` and `/`) dropped.
 */
export const sanitiseNoscriptPath = (raw: string): string => raw.replace(/^\/+/, "").replace(/[^A-Za-z0-9._~\/-]/g, "")

const noscriptCss = `
.narrow{max-width:620px}
.intro{padding:20px 0 18px}
.intro h1{font-size:clamp(1.6rem,5vw,2.2rem);font-weight:800;letter-spacing:-.025em}
.intro p{color:var(--muted);margin:10px 0 0}
form{display:grid;gap:16px;margin:0}
.target{display:flex;flex-wrap:wrap;align-items:baseline;gap:6px 10px;background:var(--bg);border:1px solid var(--line);border-radius:10px;
padding:10px 12px;font-size:.9rem}
.target span{color:var(--muted)}
.target code{font-size:.9rem;word-break:break-all}
.modes{display:flex;gap:4px;background:var(--bg2);border:1px solid var(--line);border-radius:12px;padding:4px}
.modes a{flex:1;text-align:center;padding:8px 6px;border-radius:9px;color:var(--muted);text-decoration:none;font-weight:600;font-size:.925rem}
.modes a[aria-current=page]{background:var(--tab);color:var(--text);box-shadow:0 1px 3px rgba(0,0,0,.12)}
input[type=file]{width:100%;font:inherit;color:var(--text);background:var(--bg);border:1.5px dashed var(--line);border-radius:12px;padding:18px 12px}
.row{display:grid;grid-template-columns:minmax(0,1fr) 104px;gap:12px}
label small{color:var(--muted);font-weight:400}
.note{color:var(--muted);font-size:.85rem;margin:0}
.switch{margin:14px 0 0;font-size:.9rem}
@media (max-width:520px){.wrap{padding:0 14px}.card{padding:16px}.row{grid-template-columns:minmax(0,1fr) 84px}}
`

const validN = (raw: string | null): number | undefined =>
  raw !== null && /^\d+$/.test(raw) && Number(raw) >= 1 && Number(raw) <= 256 ? Number(raw) : undefined

const page = (nonce: string, title: string, content: string): Page =>
  htmlPage({
    title,
    nonce,
    css: `${baseCss}${noscriptCss}`,
    body: `<header class="wrap narrow top"><a class="brand" href="/">${logoSvg}<span>pipe</span></a>
<nav class="nav" aria-label="Site"><a href="/">Home</a><a href="/help">Help</a></nav></header>
<main class="wrap narrow">
${content}
</main>
<footer class="wrap narrow foot">This page runs no script. Nothing is stored: the receiver gets the bytes while you send them.</footer>`
  }, noscriptCapabilities)

/**
 * A token (protocol §12) for a server that asks for one: this page has no script to send a header, so it rides in
 * the form's `?token=`, which the server takes as well and never logs.
 */
const tokenOf = (query: URLSearchParams): string | undefined => {
  const token = query.get("token")?.trim()
  return token === undefined || token === "" ? undefined : token
}

/** No `?path` yet (or an unusable one): a GET form that reloads this page with the chosen path. */
const choosePath = (
  nonce: string,
  mode: "file" | "text",
  problem: string | undefined,
  value: string,
  token: string | undefined
) =>
  page(
    nonce,
    "pipe: send without JavaScript",
    `<section class="intro"><h1>Send without JavaScript</h1>
<p>For locked-down browsers: choose the path the receiver will use, then pick a file or type a text.</p></section>
<section class="card">
<form method="get" action="/noscript">
<div class="row">
<div><label for="path">Path</label><input type="text" id="path" name="path" value="${
      escapeHtml(value)
    }" placeholder="my-files"
required maxlength="512" autocomplete="off" autocapitalize="off" spellcheck="false"></div>
<div><label for="n">Receivers</label><input type="number" id="n" name="n" value="1" min="1" max="256" step="1"></div>
</div>
<div><label for="token">Token <small>(only if this server asks for one)</small></label><input type="password" id="token"
name="token" value="${escapeHtml(token ?? "")}" autocomplete="off" autocapitalize="off" spellcheck="false"></div>
<input type="hidden" name="mode" value="${mode}">
${problem === undefined ? "" : `<p class="error" role="alert">${escapeHtml(problem)}</p>`}
<p class="note">Letters, digits, <code>. _ ~ -</code> and <code>/</code> between parts.</p>
<button class="btn block" type="submit">Continue</button>
</form>
</section>`
  )

/** `/noscript`: a send form that works without JavaScript (a plain multipart POST to the pipe). */
export const renderNoscript = (query: URLSearchParams, nonce: string): Page => {
  const mode = query.get("mode") === "text" ? "text" : "file"
  const raw = query.get("path")
  const token = tokenOf(query)
  if (raw === null || raw.trim() === "") return choosePath(nonce, mode, undefined, "", token)
  const path = sanitiseNoscriptPath(raw)
  if (Option.isNone(parsePipeName(path))) {
    const problem =
      `“${path === "" ? raw : path}” is not a valid path: use 1 to 512 bytes of letters, digits, . _ ~ - in parts ` +
      `separated by single slashes, without “.” or “..” parts.`
    return choosePath(nonce, mode, problem, path, token)
  }
  const n = validN(query.get("n")) ?? 1
  const target = `/api/v1/pipe/${path}${n > 1 ? `?n=${n}` : ""}`
  const action = token === undefined ? target : `${target}${n > 1 ? "&" : "?"}token=${encodeURIComponent(token)}`
  /** This page again in mode `m`, for this path or (`keepPath` false) to choose another; the token goes along. */
  const link = (m: "file" | "text", keepPath = true) => {
    const params = new URLSearchParams(keepPath ? { path, mode: m } : { mode: m })
    if (keepPath && n > 1) params.set("n", String(n))
    if (token !== undefined) params.set("token", token)
    return `/noscript?${params.toString()}`
  }
  const input = mode === "file"
    ? `<div><label for="input_file">File</label><input type="file" id="input_file" name="input_file" required></div>`
    : `<div><label for="input_text">Text</label><textarea id="input_text" name="input_text" required placeholder="Type or paste a text"></textarea></div>`
  return page(
    nonce,
    `pipe: send to ${path}`,
    `<section class="intro"><h1>Send ${mode === "file" ? "a file" : "a text"}</h1>
<p>The receiver runs <code>curl</code> on the same path, or opens it in a browser. Your browser shows the server's report when the
transfer ends.</p></section>
<section class="card">
<form method="post" action="${escapeHtml(action)}" enctype="multipart/form-data" accept-charset="utf-8">
<p class="target"><span>To</span><code>${escapeHtml(target)}</code></p>
<nav class="modes" aria-label="What to send"><a href="${escapeHtml(link("file"))}"${
      mode === "file" ? ` aria-current="page"` : ""
    }>File</a>` +
      `<a href="${escapeHtml(link("text"))}"${mode === "text" ? ` aria-current="page"` : ""}>Text</a></nav>
${input}
<button class="btn block" type="submit">Send</button>
</form>
<p class="switch"><a href="${escapeHtml(link(mode, false))}">Use another path</a></p>
</section>`
  )
}
