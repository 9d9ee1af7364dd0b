import { commandLines } from "./CommandLines.js"
import { escapeHtml } from "./Html.js"
import type { Capabilities, Page } from "./PageShell.js"
import { htmlPage } from "./PageShell.js"
import { baseCss, logoSvg } from "./SiteStyle.js"

/** The page sends and receives with XHR and fetch, holds what it received as `blob:` URLs, and has a form. */
const homeCapabilities: Capabilities = { script: true, blobImages: true, forms: true }

const homeCss = `
html:not(.js) .jsonly{display:none}
html.js .nojs{display:none}
.nojs.btn{margin:14px 0 0}
.notice{background:var(--soft);border:1px solid var(--line);border-radius:12px;padding:10px 14px;margin:0 0 16px;font-size:.925rem}
.hero{padding:28px 0 26px;max-width:760px}
.eyebrow{display:inline-flex;align-items:center;gap:8px;font-size:.8rem;font-weight:600;color:var(--accent);background:var(--soft);
border-radius:999px;padding:4px 12px;margin:0 0 14px}
.eyebrow i{width:7px;height:7px;border-radius:50%;background:var(--ok);display:inline-block}
.hero h1{font-size:clamp(1.9rem,5.2vw,3rem);font-weight:800;letter-spacing:-.03em}
.grad{background:linear-gradient(90deg,var(--accent),var(--accent2));-webkit-background-clip:text;background-clip:text;color:transparent}
.lede{color:var(--muted);font-size:1.075rem;margin:14px 0 0;max-width:640px}
.grid{display:grid;grid-template-columns:minmax(0,1.15fr) minmax(0,.85fr);gap:22px;align-items:start}
.side{display:grid;gap:22px;min-width:0}
@media (max-width:860px){.grid{grid-template-columns:minmax(0,1fr)}}
.fields{display:grid;grid-template-columns:minmax(0,1fr) 104px;gap:12px}
.path-box{display:flex;align-items:stretch;border:1px solid var(--line);border-radius:10px;background:var(--bg);overflow:hidden;
transition:border-color .15s,box-shadow .15s}
.path-box:focus-within{border-color:var(--accent);box-shadow:0 0 0 3px color-mix(in srgb,var(--accent) 22%,transparent)}
.path-box.bad{border-color:var(--err)}
.prefix{display:flex;align-items:center;padding:0 0 0 12px;color:var(--muted);white-space:nowrap;user-select:none}
.path-box input{border:0;background:transparent;box-shadow:none!important;padding-left:2px}
.field-note{display:flex;justify-content:space-between;align-items:baseline;gap:10px;flex-wrap:wrap}
.linkish{font:inherit;font-size:.85rem;color:var(--accent);background:none;border:0;padding:0;cursor:pointer;text-decoration:underline;
text-underline-offset:2px;white-space:nowrap}
.path-error{color:var(--err);font-size:.85rem;margin:6px 0 0;white-space:pre-wrap}
.token-field{margin:12px 0 0}
.token-field small{color:var(--muted);font-weight:400}
.tabs{display:grid;grid-template-columns:repeat(3,minmax(0,1fr));gap:4px;background:var(--bg2);border:1px solid var(--line);
border-radius:12px;padding:4px;margin:20px 0 16px}
.tabs button{font:inherit;font-weight:600;font-size:.925rem;color:var(--muted);background:transparent;border:0;border-radius:9px;
padding:9px 6px;cursor:pointer;white-space:nowrap}
.tabs button[aria-selected=true]{background:var(--tab);color:var(--text);box-shadow:0 1px 3px rgba(0,0,0,.12)}
.panel{display:grid;gap:14px}
.panel[hidden]{display:none}
.drop{position:relative;display:grid;justify-items:center;gap:4px;text-align:center;border:1.5px dashed var(--line);border-radius:14px;
padding:26px 16px;margin:0;cursor:pointer;background:var(--bg);font-weight:400;transition:border-color .15s,background .15s}
.drop:hover,.drop.over{border-color:var(--accent);background:var(--soft)}
.drop:focus-within{border-color:var(--accent)}
.drop input{position:absolute;inset:0;width:100%;height:100%;opacity:0;cursor:pointer}
.drop svg{width:36px;height:36px;color:var(--accent);margin-bottom:4px}
.drop-title{font-weight:600}
.drop .hint{margin:0}
.panel p{margin:0}
.receive-note{color:var(--muted);font-size:.95rem}
.transfer{margin:18px 0 0;border:1px solid var(--line);border-radius:14px;padding:16px;background:var(--bg)}
.transfer[hidden],.error[hidden],.log[hidden],.preview[hidden],.path-error[hidden]{display:none}
.t-head{display:flex;justify-content:space-between;align-items:baseline;gap:12px}
.t-title{min-width:0}
.t-pct{white-space:nowrap}
.t-title{font-weight:600}
.t-title.ok{color:var(--ok)}
.t-title.bad{color:var(--err)}
.t-pct{font-weight:600;font-variant-numeric:tabular-nums}
.bar{height:10px;border-radius:999px;background:var(--bg2);border:1px solid var(--line);overflow:hidden;margin:10px 0 8px}
.fill{height:100%;width:0;border-radius:999px;background:linear-gradient(90deg,var(--accent),var(--accent2));transition:width .2s}
.bar.indeterminate .fill{width:35%;animation:slide 1.2s ease-in-out infinite}
.bar.done .fill{background:var(--ok)}
@keyframes slide{0%{transform:translateX(-100%)}100%{transform:translateX(290%)}}
@media (prefers-reduced-motion:reduce){.bar.indeterminate .fill{animation:none;width:100%;opacity:.4}}
.t-stats{display:flex;justify-content:space-between;gap:10px;flex-wrap:wrap;color:var(--muted);font-size:.8rem;font-variant-numeric:tabular-nums}
.log-box{margin:12px 0 0}
.log-box summary{cursor:pointer;color:var(--muted);font-size:.85rem;width:max-content}
.log{margin:8px 0 0;padding:10px 12px;background:var(--code);color:var(--code-text);border-radius:10px;font-size:.75rem;
max-height:10em;overflow:auto;white-space:pre-wrap}
.t-actions{display:flex;gap:10px;flex-wrap:wrap;margin:12px 0 0}
.t-actions .btn{padding:8px 14px;font-size:.9rem}
.preview{margin:12px 0 0}
.preview pre{margin:6px 0 0;padding:12px;background:var(--card);border:1px solid var(--line);border-radius:10px;max-height:16em;overflow:auto;
white-space:pre-wrap}
.dash{display:flex;align-items:center;justify-content:space-between;gap:10px;margin:18px 0 0;padding:12px 14px;border-radius:12px;
border:1px solid var(--line);color:var(--text);text-decoration:none;font-weight:600;font-size:.95rem}
.dash:hover{border-color:var(--accent);background:var(--soft)}
.dash small{display:block;color:var(--muted);font-weight:400;font-size:.8rem}
.dash .arrow{color:var(--accent);font-size:1.2rem}
.dash[aria-disabled=true]{opacity:.5;pointer-events:none}
.card h2{font-size:1.1rem}
.card > .hint:first-of-type{margin-top:4px}
.cmds{display:grid;gap:12px;margin:16px 0 0}
.cmd-label{font-size:.8rem;font-weight:600;color:var(--muted);margin:0 0 4px}
.cmd{position:relative;background:var(--code);color:var(--code-text);border-radius:10px}
.cmd pre{margin:0;padding:11px 44px 11px 12px;white-space:pre-wrap;overflow-wrap:anywhere;font-size:.8rem;line-height:1.55}
.cmd pre::before{content:"$ ";color:#7c86a8}
.copy{position:absolute;top:6px;right:6px;width:30px;height:30px;display:grid;place-items:center;border:0;border-radius:7px;
background:rgba(255,255,255,.08);color:var(--code-text);cursor:pointer}
.copy:hover{background:rgba(255,255,255,.16)}
.copy svg{width:15px;height:15px}
.copy.done{color:#3ecf8e}
.how{margin:22px 0 0}
.steps{list-style:none;margin:14px 0 0;padding:0;display:grid;grid-template-columns:repeat(3,minmax(0,1fr));gap:18px}
@media (max-width:860px){.steps{grid-template-columns:minmax(0,1fr);gap:14px}}
.steps li{display:grid;grid-template-columns:30px minmax(0,1fr);gap:12px;align-items:start}
.steps b{display:grid;place-items:center;width:30px;height:30px;border-radius:50%;background:var(--soft);color:var(--accent);font-size:.85rem}
.steps strong{display:block}
.steps span{color:var(--muted);font-size:.9rem}
@media (max-width:520px){
.wrap{padding:0 14px}.card{padding:16px;border-radius:14px}.hero{padding:14px 0 20px}.lede{font-size:1rem}
.fields{grid-template-columns:minmax(0,1fr) 84px;gap:10px}.nav a{padding:6px 7px}.nav .wide{display:none}
.prefix .long{display:none}.tabs button{font-size:.85rem}}
`

const copyIcon =
  `<svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true"><rect x="9" y="9" width="12" height="12" rx="2"/><path d="M5 15V5a2 2 0 0 1 2-2h10"/></svg>`

const uploadIcon =
  `<svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="1.8" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true"><path d="M12 16V4m0 0-4.5 4.5M12 4l4.5 4.5"/><path d="M4 15v3a2 2 0 0 0 2 2h12a2 2 0 0 0 2-2v-3"/></svg>`

const commandBlocks = (base: string): string =>
  commandLines(base, "mypath", 1).map(({ id, label, line }) =>
    `<div><p class="cmd-label">${escapeHtml(label)}</p><div class="cmd"><pre id="cmd-${id}">${escapeHtml(line)}</pre>` +
    `<button type="button" class="copy jsonly" data-copy="cmd-${id}" aria-label="Copy: ${
      escapeHtml(label)
    }" title="Copy">${copyIcon}</button></div></div>`
  ).join("\n")

/**
 * `/`: what this server is, how to use it from this very host, and a browser send/receive form, run by
 * `script` (src/web/browser/home.ts).
 */
export const renderHome = (base: string, nonce: string, script: string): Page =>
  htmlPage({
    title: "pipe · stream files between devices through a URL",
    nonce,
    head:
      `<meta name="description" content="Send a file or a text from one device to another through a URL. Nothing is stored.">
<script nonce="${escapeHtml(nonce)}">document.documentElement.classList.add("js")</script>`,
    css: `${baseCss}${homeCss}`,
    bodyAttributes: { "data-base": base },
    body: `<header class="wrap top">
<a class="brand" href="/">${logoSvg}<span>pipe</span></a>
<nav class="nav" aria-label="Site"><a href="#terminal" class="wide">Terminal</a><a href="/help">Help</a><a href="/noscript">No-JS form</a></nav>
</header>
<main class="wrap">
<noscript><p class="notice">JavaScript is off. Use the <a href="/noscript">form that works without JavaScript</a> or the commands below.</p></noscript>
<section class="hero">
<p class="eyebrow"><i></i>Nothing is stored</p>
<h1>Send anything to any device, <span class="grad">through a URL.</span></h1>
<p class="lede">pipe streams bytes from a sender to its receivers while they flow. Pick a path, send from one
device, receive on another: in this browser or with <code>curl</code>. No account, no upload limit, nothing kept.</p>
</section>
<div class="grid">
<section class="card" id="app" aria-label="Send and receive">
<form id="target" method="get" action="/noscript">
<div class="fields">
<div><label for="path">Path</label>
<div class="path-box" id="path-box"><span class="prefix mono"><span class="long">/api/v1/pipe</span>/</span>
<input id="path" name="path" type="text" value="" placeholder="my-files" autocomplete="off" autocapitalize="off"
spellcheck="false" aria-describedby="path-help path-error"></div></div>
<div><label for="n">Receivers</label><input id="n" name="n" type="number" min="1" max="256" step="1" value="1" inputmode="numeric"></div>
</div>
<div class="field-note"><p class="hint" id="path-help">Use the same path on both sides. Letters, digits, <code>. _ ~ -</code> and <code>/</code>.</p>
<button type="button" class="linkish jsonly" id="shuffle">New random path</button></div>
<div class="token-field jsonly"><label for="token">Token <small>(only if this server asks for one)</small></label>
<input id="token" type="password" value="" autocomplete="off" autocapitalize="off" spellcheck="false"></div>
<p class="path-error" id="path-error" role="alert" hidden></p>
<button type="submit" class="btn block nojs">Continue to the send form</button>
</form>
<div class="tabs jsonly" role="tablist" aria-label="What to do">
<button type="button" role="tab" id="tab-file" aria-controls="panel-file" aria-selected="true">Send file</button>
<button type="button" role="tab" id="tab-text" aria-controls="panel-text" aria-selected="false" tabindex="-1">Send text</button>
<button type="button" role="tab" id="tab-receive" aria-controls="panel-receive" aria-selected="false" tabindex="-1">Receive</button>
</div>
<div class="panel jsonly" id="panel-file" role="tabpanel" aria-labelledby="tab-file">
<label class="drop" id="drop">${uploadIcon}<input type="file" id="file" name="file">
<span class="drop-title" id="file-name">Choose a file or drop it here</span>
<span class="hint" id="file-meta">Any size: it streams straight to the receiver.</span></label>
<button type="button" class="btn block" id="send-file">Send file</button>
</div>
<div class="panel jsonly" id="panel-text" role="tabpanel" aria-labelledby="tab-text" hidden>
<div><label for="text">Text</label><textarea id="text" name="text" placeholder="Type or paste a message, a link, a snippet…"></textarea></div>
<button type="button" class="btn block" id="send-text">Send text</button>
</div>
<div class="panel jsonly" id="panel-receive" role="tabpanel" aria-labelledby="tab-receive" hidden>
<p class="receive-note">Waits for a sender on this path, then saves what arrives with the sender's file name. A text is shown here.</p>
<button type="button" class="btn block" id="receive">Receive</button>
<p class="hint">A very large file? <a id="direct" href="/api/v1/pipe/mypath?download=1" download>Download it directly</a>: the browser saves it while it streams.</p>
</div>
<div class="error" id="error" role="alert" hidden></div>
<div class="transfer" id="transfer" aria-live="polite" hidden>
<div class="t-head"><span class="t-title" id="t-title">Connecting…</span><span class="t-pct mono" id="t-pct"></span></div>
<div class="bar" id="bar" role="progressbar" aria-label="Transfer progress" aria-valuemin="0" aria-valuemax="100" aria-valuenow="0"><div class="fill" id="fill"></div></div>
<div class="t-stats mono"><span id="t-bytes"></span><span id="t-rate"></span></div>
<details class="log-box" id="log-box" hidden><summary>Server report</summary><pre class="log" id="log"></pre></details>
<div class="preview" id="preview" hidden><label>Received text</label><pre id="preview-text"></pre></div>
<div class="t-actions"><button type="button" class="btn secondary" id="cancel">Cancel</button>
<button type="button" class="btn secondary" id="copy-text" hidden>Copy text</button>
<a class="btn secondary" id="save-again" href="#" hidden>Save again</a></div>
</div>
<a class="dash jsonly" id="dashboard" href="/api/v1/pipe/mypath?progress" target="_blank" rel="noopener">
<span>Watch this path live<small id="dashboard-path">/api/v1/pipe/mypath?progress</small></span><span class="arrow" aria-hidden="true">→</span></a>
</section>
<div class="side">
<section class="card" id="terminal" aria-labelledby="terminal-title">
<h2 id="terminal-title">From a terminal</h2>
<p class="hint">Any HTTP client works. These use the path above; mix them freely with the browser.</p>
<div class="cmds">
${commandBlocks(base)}
</div>
</section>
</div>
</div>
<section class="card how" aria-labelledby="how-title">
<h2 id="how-title">How it works</h2>
<ol class="steps">
<li><b>1</b><div><strong>Agree on a path</strong><span>Any name both sides know, like <code>alice/photos</code>.</span></div></li>
<li><b>2</b><div><strong>Connect both sides</strong><span>Sender and receiver may come in any order; each waits for the other.</span></div></li>
<li><b>3</b><div><strong>Bytes stream through</strong><span>At the pace of the slowest receiver. The server keeps nothing.</span></div></li>
</ol>
</section>
</main>
<footer class="wrap foot"><span>pipe: an HTTP pipe server</span><a href="/help">curl help</a><a href="/noscript">send without JavaScript</a><a href="/version">version</a></footer>`,
    script
  }, homeCapabilities)
