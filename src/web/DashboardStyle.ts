/** The dashboard's stylesheet: system fonts, light and dark, readable from 320 px up. Inlined with the nonce. */
export const dashboardCss = `
:root {
  color-scheme: light dark;
  --sans: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, "Noto Sans", sans-serif;
  --mono: ui-monospace, SFMono-Regular, "SF Mono", Menlo, Consolas, "Liberation Mono", monospace;
  --bg: #f4f6fa;
  --card: #ffffff;
  --text: #0f172a;
  --muted: #5b6678;
  --faint: #8b95a7;
  --line: #e3e7ee;
  --track: #e9edf3;
  --code: #f3f5f9;
  --shadow: 0 1px 2px rgba(15, 23, 42, .05), 0 10px 30px -12px rgba(15, 23, 42, .12);
  --idle: #64748b;
  --waiting: #c27803;
  --streaming: #2563eb;
  --complete: #15803d;
  --aborted: #dc2626;
  --bar-streaming: #3b82f6;
  --bar-complete: #22c55e;
  --bar-aborted: #ef4444;
  --tone: var(--idle);
  --bar: var(--bar-streaming);
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #0a0e16;
    --card: #111722;
    --text: #e7ebf2;
    --muted: #9aa4b5;
    --faint: #6b7587;
    --line: #1e2633;
    --track: #1b2331;
    --code: #0d121b;
    --shadow: 0 1px 0 rgba(255, 255, 255, .03) inset, 0 10px 30px -12px rgba(0, 0, 0, .6);
    --idle: #94a3b8;
    --waiting: #fbbf24;
    --streaming: #60a5fa;
    --complete: #4ade80;
    --aborted: #f87171;
    --bar-streaming: #3b82f6;
    --bar-complete: #22c55e;
    --bar-aborted: #ef4444;
  }
}
[data-state="idle"] { --tone: var(--idle); }
[data-state="waiting"] { --tone: var(--waiting); }
[data-state="streaming"] { --tone: var(--streaming); --bar: var(--bar-streaming); }
[data-state="complete"] { --tone: var(--complete); --bar: var(--bar-complete); }
[data-state="aborted"] { --tone: var(--aborted); --bar: var(--bar-aborted); }
[data-state="offline"] { --tone: var(--idle); --bar: var(--idle); }

*, *::before, *::after { box-sizing: border-box; }
[hidden] { display: none !important; }
html { -webkit-text-size-adjust: 100%; text-size-adjust: 100%; }
body {
  margin: 0;
  min-height: 100vh;
  background: var(--bg);
  color: var(--text);
  font: 15px/1.5 var(--sans);
  -webkit-font-smoothing: antialiased;
}
a { color: inherit; }
code, .mono { font-family: var(--mono); font-size: .86em; }

.wrap { max-width: 920px; margin: 0 auto; padding: 20px 16px 40px; }
@media (min-width: 720px) { .wrap { padding: 36px 32px 56px; } }

.top { display: flex; align-items: center; justify-content: space-between; gap: 12px; margin-bottom: 18px; }
.brand { display: inline-flex; align-items: center; gap: 9px; font-weight: 650; font-size: 17px; letter-spacing: -.01em; text-decoration: none; }
.brand svg { display: block; }
.brand small { font-weight: 500; color: var(--faint); font-size: 13px; letter-spacing: 0; }

.conn {
  display: inline-flex; align-items: center; gap: 7px; padding: 4px 10px; border-radius: 999px;
  font-size: 12.5px; font-weight: 550; color: var(--muted); background: var(--card); border: 1px solid var(--line);
  white-space: nowrap;
}
.conn .pulse { width: 7px; height: 7px; border-radius: 50%; background: var(--faint); }
.conn[data-conn="live"] .pulse { background: var(--bar-complete); box-shadow: 0 0 0 0 rgba(34, 197, 94, .5); animation: ping 2s ease-out infinite; }
.conn[data-conn="reconnecting"] { color: var(--waiting); }
.conn[data-conn="reconnecting"] .pulse { background: var(--waiting); animation: blink 1s steps(2, start) infinite; }
.conn[data-conn="lost"] { color: var(--aborted); border-color: color-mix(in srgb, var(--aborted) 35%, transparent); }
.conn[data-conn="lost"] .pulse { background: var(--aborted); animation: blink 1s steps(2, start) infinite; }

.offline {
  margin: 12px 0 0; padding: 10px 14px; border-radius: 10px; font-weight: 600; font-size: 14px;
  color: var(--aborted); background: color-mix(in srgb, var(--aborted) 9%, transparent);
  border: 1px solid color-mix(in srgb, var(--aborted) 30%, transparent);
}

.card { background: var(--card); border: 1px solid var(--line); border-radius: 16px; box-shadow: var(--shadow); }
.hero { padding: 20px; }
@media (min-width: 720px) { .hero { padding: 28px 32px 30px; } }

.head { display: flex; align-items: center; justify-content: space-between; gap: 12px; margin-bottom: 8px; }
.eyebrow { margin: 0; font-size: 11.5px; font-weight: 650; letter-spacing: .08em; text-transform: uppercase; color: var(--faint); }
.path {
  margin: 0; font-family: var(--mono); font-size: 17px; font-weight: 600; line-height: 1.35; letter-spacing: -.01em;
  overflow-wrap: anywhere; word-break: break-all;
}
@media (min-width: 720px) { .path { font-size: 20px; } }
.summary { margin: 6px 0 0; color: var(--muted); font-size: 14px; }

.badge {
  flex: none; display: inline-flex; align-items: center; gap: 7px; padding: 5px 11px 5px 9px; border-radius: 999px;
  font-size: 13px; font-weight: 650; letter-spacing: .01em; color: var(--tone);
  background: color-mix(in srgb, var(--tone) 13%, transparent);
  border: 1px solid color-mix(in srgb, var(--tone) 28%, transparent);
}
.badge .dot { width: 8px; height: 8px; border-radius: 50%; background: currentColor; }
.badge[data-state="streaming"] .dot { animation: pulse 1.2s ease-in-out infinite; }
.badge[data-state="waiting"] .dot { animation: pulse 2s ease-in-out infinite; }

.amount { display: flex; align-items: baseline; flex-wrap: wrap; gap: 4px 10px; margin: 26px 0 12px; }
.big {
  font-size: clamp(36px, 11vw, 56px); font-weight: 700; line-height: 1; letter-spacing: -.035em;
  font-variant-numeric: tabular-nums;
}
[data-state="idle"] .big, [data-state="waiting"] .big { color: var(--faint); }
@media (max-width: 479px) {
  .big { flex-basis: 100%; }
  .amount { margin-bottom: 10px; }
}
.of { color: var(--muted); font-size: 16px; font-variant-numeric: tabular-nums; }
.pct { margin-left: auto; font-size: clamp(20px, 6vw, 28px); font-weight: 650; color: var(--tone); font-variant-numeric: tabular-nums; letter-spacing: -.02em; }

.bar { --p: 0%; position: relative; height: 12px; border-radius: 999px; background: var(--track); overflow: hidden; }
.fill {
  position: absolute; inset: 0 auto 0 0; width: var(--p); border-radius: inherit; background: var(--bar);
  transition: width .2s ease-out, background-color .3s;
}
.bar[data-mode="empty"] .fill { width: 0; }
.bar[data-mode="determinate"] .fill { min-width: 0; }
[data-state="streaming"] .bar[data-mode="determinate"] .fill {
  background-image: linear-gradient(90deg, transparent 0, rgba(255, 255, 255, .28) 50%, transparent 100%);
  background-size: 220px 100%; background-repeat: no-repeat; background-color: var(--bar);
  animation: shimmer 1.6s linear infinite;
}
.bar[data-mode="indeterminate"] .fill {
  width: 36%; transition: none;
  animation: slide 1.4s cubic-bezier(.45, 0, .55, 1) infinite;
}

.stats { display: grid; grid-template-columns: repeat(2, minmax(0, 1fr)); gap: 1px; margin: 24px 0 0; background: var(--line); border: 1px solid var(--line); border-radius: 12px; overflow: hidden; }
@media (min-width: 620px) { .stats { grid-template-columns: repeat(4, minmax(0, 1fr)); } }
.stat { background: var(--card); padding: 12px 14px; min-width: 0; }
.stat dt { font-size: 11.5px; font-weight: 650; letter-spacing: .07em; text-transform: uppercase; color: var(--faint); }
.stat dd { margin: 3px 0 0; font-size: 21px; font-weight: 650; letter-spacing: -.02em; font-variant-numeric: tabular-nums; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }

.done {
  display: flex; gap: 12px; align-items: flex-start; margin: 18px 0 0; padding: 13px 15px; border-radius: 12px;
  background: color-mix(in srgb, var(--tone) 10%, transparent); border: 1px solid color-mix(in srgb, var(--tone) 25%, transparent);
}
/* An idle path that has history shows that, not an empty meter: the outcome keeps its colour. */
[data-history="true"] .amount, [data-history="true"] .bar, [data-history="true"] .stats { display: none; }
.done[data-previous="true"] { margin-top: 16px; }
.done[data-ok="true"] { --tone: var(--complete); }
.done[data-ok="false"] { --tone: var(--aborted); }
.done-icon {
  flex: none; display: grid; place-items: center; width: 26px; height: 26px; border-radius: 50%;
  background: var(--tone); color: var(--card); font-weight: 800; font-size: 14px; line-height: 1;
}
.done-body { display: flex; flex-direction: column; min-width: 0; }
.done-title { font-weight: 650; color: var(--tone); }
.done-text { color: var(--text); font-variant-numeric: tabular-nums; overflow-wrap: anywhere; }
.done-meta { color: var(--muted); font-size: 13.5px; overflow-wrap: anywhere; }
.done-error { color: var(--aborted); font-family: var(--mono); font-size: 13px; overflow-wrap: anywhere; margin-top: 2px; }

/* The pocket tools: big enough for a thumb (44 px), wrapping rather than scrolling on a phone. */
.actions { display: flex; flex-wrap: wrap; gap: 8px; margin: 18px 0 0; }
.act {
  flex: 1 1 auto; display: inline-flex; align-items: center; justify-content: center; gap: 7px; min-height: 44px;
  padding: 9px 14px; border-radius: 11px; border: 1px solid var(--line); background: var(--code); color: var(--text);
  font: 600 14px/1.2 var(--sans); cursor: pointer; touch-action: manipulation; -webkit-tap-highlight-color: transparent;
}
.act:hover { border-color: color-mix(in srgb, var(--streaming) 45%, var(--line)); }
.act:focus-visible { outline: 2px solid var(--streaming); outline-offset: 2px; }
.act[aria-pressed="true"], .act[aria-expanded="true"] {
  color: var(--streaming); border-color: color-mix(in srgb, var(--streaming) 45%, transparent);
  background: color-mix(in srgb, var(--streaming) 10%, transparent);
}
.act[data-notify="denied"] { color: var(--faint); cursor: not-allowed; }
.act-icon { flex: none; display: block; }
@media (min-width: 620px) { .act { flex: 0 1 auto; } }
.share { display: flex; flex-wrap: wrap; align-items: center; gap: 14px 18px; margin: 14px 0 0; padding: 14px; border-radius: 12px; border: 1px solid var(--line); background: var(--code); }
.qr { flex: none; width: min(220px, 100%); line-height: 0; }
.qr svg { width: 100%; height: auto; border-radius: 8px; }
.share-text { flex: 1 1 180px; min-width: 0; margin: 0; font-size: 13.5px; color: var(--muted); }
.share-url { display: block; margin-top: 6px; color: var(--text); overflow-wrap: anywhere; word-break: break-all; user-select: all; -webkit-user-select: all; }

.grid { display: grid; gap: 16px; margin-top: 16px; }
@media (min-width: 860px) {
  .grid.two { grid-template-columns: minmax(0, 1.1fr) minmax(0, 1fr); align-items: start; }
  .grid.two:has(> [hidden]) { grid-template-columns: minmax(0, 1fr); }
}
.panel { padding: 18px 20px; }
.panel h2 { margin: 0 0 12px; font-size: 13px; font-weight: 650; letter-spacing: .07em; text-transform: uppercase; color: var(--faint); }

.cmd { margin: 0 0 12px; }
.cmd:last-child { margin-bottom: 0; }
.cmd > span { display: block; font-size: 13px; color: var(--muted); margin-bottom: 4px; }
.cmd code {
  display: block; padding: 9px 12px; border-radius: 9px; background: var(--code); border: 1px solid var(--line);
  font-size: 12.5px; line-height: 1.5; overflow-wrap: anywhere; white-space: pre-wrap;
}

.log { list-style: none; margin: 0; padding: 0; max-height: 340px; overflow-y: auto; }
.log li { display: grid; grid-template-columns: auto minmax(0, 1fr); gap: 12px; padding: 8px 0; border-top: 1px solid var(--line); }
.log li:first-child { border-top: 0; padding-top: 0; }
.log time { font-family: var(--mono); font-size: 12.5px; color: var(--faint); padding-top: 1px; font-variant-numeric: tabular-nums; }
.entry { display: flex; flex-direction: column; min-width: 0; }
.entry-title { font-weight: 600; font-size: 14px; display: flex; align-items: center; gap: 8px; }
.entry-title::before { content: ""; flex: none; width: 7px; height: 7px; border-radius: 50%; background: var(--tone); }
.entry-detail { color: var(--muted); font-size: 13px; overflow-wrap: anywhere; padding-left: 15px; }

.note { margin: 16px 0 0; padding: 10px 14px; border-radius: 10px; border: 1px dashed var(--line); color: var(--muted); font-size: 13.5px; }
.foot { margin-top: 22px; display: flex; flex-wrap: wrap; gap: 6px 16px; color: var(--faint); font-size: 12.5px; }
.foot a { color: var(--muted); text-decoration: none; border-bottom: 1px solid var(--line); }
.foot a:hover { color: var(--text); }

@keyframes slide { from { transform: translateX(-100%); } to { transform: translateX(265%); } }
@keyframes shimmer { from { background-position: -220px 0; } to { background-position: calc(100% + 220px) 0; } }
@keyframes pulse { 0%, 100% { opacity: 1; } 50% { opacity: .35; } }
@keyframes blink { to { visibility: hidden; } }
@keyframes ping { 0% { box-shadow: 0 0 0 0 rgba(34, 197, 94, .45); } 80%, 100% { box-shadow: 0 0 0 6px rgba(34, 197, 94, 0); } }
@media (prefers-reduced-motion: reduce) {
  *, *::before, *::after { animation: none !important; transition: none !important; }
  .bar[data-mode="indeterminate"] .fill {
    width: 100%; opacity: .55;
    background: repeating-linear-gradient(45deg, var(--bar) 0 10px, transparent 10px 20px);
  }
}
`
