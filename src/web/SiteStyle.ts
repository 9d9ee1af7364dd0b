/** The mark of the brand: a pipe with a stream running through it (inline SVG, no request). */
export const logoSvg = `<svg class="logo" viewBox="0 0 32 32" aria-hidden="true" focusable="false">
<rect x="1" y="1" width="30" height="30" rx="9" class="logo-bg"/>
<path d="M7 12h9a5 5 0 0 1 5 5v0a5 5 0 0 0 5 5h-1" class="logo-line"/>
<path d="M7 20h4" class="logo-line logo-dim"/>
<circle cx="23.5" cy="10" r="2" class="logo-dot"/>
</svg>`

/** Shared look of `/` and `/noscript`: system fonts, one accent, light and dark, fluid down to 320 px. */
export const baseCss = `
:root{color-scheme:light dark;--bg:#f6f7fb;--bg2:#eef0f7;--card:#fff;--text:#151a2d;--muted:#5d6684;--line:#e1e4ef;
--accent:#4f46e5;--tab:#fff;--accent2:#0ea5e9;--accent-text:#fff;--soft:#eef0ff;--code:#0f1425;--code-text:#e6e9f5;--ok:#0f9d58;
--err:#c0262d;--err-bg:#fff1f1;--shadow:0 1px 2px rgba(20,24,45,.05),0 8px 24px rgba(20,24,45,.07);--radius:16px}
@media (prefers-color-scheme:dark){:root{--bg:#0b0e1a;--bg2:#101427;--card:#141a2e;--text:#e8ebf6;--muted:#98a0bd;
--line:#242c47;--accent:#8b85ff;--tab:#283157;--accent2:#38bdf8;--accent-text:#0b0e1a;--soft:#1d2342;--code:#080b16;--code-text:#dfe4f7;
--ok:#3ecf8e;--err:#ff8a8f;--err-bg:#2a1520;--shadow:0 1px 2px rgba(0,0,0,.3),0 10px 30px rgba(0,0,0,.35)}}
*,*::before,*::after{box-sizing:border-box}
[hidden]{display:none!important}
html{-webkit-text-size-adjust:100%}
body{margin:0;background:radial-gradient(1200px 500px at 50% -200px,var(--soft),transparent) no-repeat,var(--bg);
color:var(--text);font:16px/1.55 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;
overflow-wrap:anywhere}
a{color:var(--accent)}
code,pre,kbd,.mono{font-family:ui-monospace,SFMono-Regular,"SF Mono",Menlo,Consolas,"Liberation Mono",monospace;font-size:.875em}
.wrap{max-width:1080px;margin:0 auto;padding:0 20px}
.top{display:flex;align-items:center;justify-content:space-between;gap:12px;padding-top:18px;padding-bottom:18px}
.brand{display:flex;align-items:center;gap:10px;color:var(--text);text-decoration:none;font-weight:700;font-size:1.25rem;letter-spacing:-.01em}
.logo{width:32px;height:32px;flex:none}
.logo-bg{fill:var(--accent)}
.logo-line{fill:none;stroke:var(--accent-text);stroke-width:2.6;stroke-linecap:round}
.logo-dim{opacity:.6}
.logo-dot{fill:var(--accent-text)}
.nav{display:flex;gap:4px;flex-wrap:wrap}
.nav a{color:var(--muted);text-decoration:none;padding:6px 10px;border-radius:8px;font-size:.925rem}
.nav a:hover{color:var(--text);background:var(--bg2)}
.card{background:var(--card);border:1px solid var(--line);border-radius:var(--radius);box-shadow:var(--shadow);padding:22px}
h1,h2,h3{line-height:1.2;letter-spacing:-.015em;margin:0}
label{display:block;font-weight:600;font-size:.9rem;margin:0 0 6px}
.hint{color:var(--muted);font-size:.85rem;margin:6px 0 0}
input[type=text],input[type=number],input[type=password],textarea{width:100%;min-width:0;font:inherit;color:var(--text);background:var(--bg);
border:1px solid var(--line);border-radius:10px;padding:10px 12px;outline:none;transition:border-color .15s,box-shadow .15s}
input[type=text]:focus,input[type=number]:focus,input[type=password]:focus,textarea:focus{border-color:var(--accent);box-shadow:0 0 0 3px color-mix(in srgb,var(--accent) 22%,transparent)}
textarea{min-height:140px;resize:vertical;font-family:inherit}
.btn{display:inline-flex;align-items:center;justify-content:center;gap:8px;font:inherit;font-weight:600;border:0;border-radius:10px;
padding:11px 18px;cursor:pointer;background:var(--accent);color:var(--accent-text);text-decoration:none;transition:filter .15s,transform .05s}
.btn:hover{filter:brightness(1.08)}
.btn:active{transform:translateY(1px)}
.btn:disabled{opacity:.55;cursor:not-allowed}
.btn.secondary{background:var(--bg2);color:var(--text);border:1px solid var(--line)}
.btn.block{width:100%}
.error{color:var(--err);background:var(--err-bg);border:1px solid color-mix(in srgb,var(--err) 30%,transparent);border-radius:10px;padding:10px 12px;margin:12px 0 0;font-size:.925rem;white-space:pre-wrap}
.foot{display:flex;flex-wrap:wrap;justify-content:center;gap:4px 14px;color:var(--muted);font-size:.85rem;padding:32px 20px 40px;text-align:center}
.foot a{color:var(--muted)}
`
