// The home page's script, bundled and inlined into the page (src/web/HomePage.ts) by the build: it relies on
// nothing but the DOM, the page's own markup and what it imports.
import { formatBytes } from "../../domain/Format.js"
import { commandLines } from "../CommandLines.js"

// ---------------------------------------------------------------------------------------------------------
// Elements

const byId = <T extends HTMLElement>(id: string, type: { new(): T; prototype: T }): T => {
  const element = document.getElementById(id)
  if (!(element instanceof type)) throw new Error(`home page: #${id} is missing`)
  return element
}

const ui = {
  target: byId("target", HTMLFormElement),
  path: byId("path", HTMLInputElement),
  pathBox: byId("path-box", HTMLDivElement),
  pathError: byId("path-error", HTMLParagraphElement),
  n: byId("n", HTMLInputElement),
  shuffle: byId("shuffle", HTMLButtonElement),
  file: byId("file", HTMLInputElement),
  drop: byId("drop", HTMLLabelElement),
  fileName: byId("file-name", HTMLSpanElement),
  fileMeta: byId("file-meta", HTMLSpanElement),
  sendFile: byId("send-file", HTMLButtonElement),
  text: byId("text", HTMLTextAreaElement),
  sendText: byId("send-text", HTMLButtonElement),
  receive: byId("receive", HTMLButtonElement),
  direct: byId("direct", HTMLAnchorElement),
  error: byId("error", HTMLDivElement),
  transfer: byId("transfer", HTMLDivElement),
  title: byId("t-title", HTMLSpanElement),
  pct: byId("t-pct", HTMLSpanElement),
  bar: byId("bar", HTMLDivElement),
  fill: byId("fill", HTMLDivElement),
  bytes: byId("t-bytes", HTMLSpanElement),
  rate: byId("t-rate", HTMLSpanElement),
  logBox: byId("log-box", HTMLDetailsElement),
  log: byId("log", HTMLPreElement),
  preview: byId("preview", HTMLDivElement),
  previewText: byId("preview-text", HTMLPreElement),
  cancel: byId("cancel", HTMLButtonElement),
  copyText: byId("copy-text", HTMLButtonElement),
  saveAgain: byId("save-again", HTMLAnchorElement),
  dashboard: byId("dashboard", HTMLAnchorElement),
  dashboardPath: byId("dashboard-path", HTMLElement),
  token: byId("token", HTMLInputElement)
}

const base = document.body.dataset["base"] ?? location.origin

// ---------------------------------------------------------------------------------------------------------
// Rules (protocol §1 and §2)

const maxPathBytes = 512
const allowedChar = /^[A-Za-z0-9._~\/-]$/

/** Why a pipe path is refused, in words, quoting it; undefined when it is valid. */
const pathProblem = (path: string): string | undefined => {
  const rule = pathRule(path)
  if (rule === undefined || path === "") return rule
  const shown = [...path].length > 64 ? `${[...path].slice(0, 63).join("")}…` : path
  return `“${shown}” is not a valid path. ${rule}`
}

const pathRule = (path: string): string | undefined => {
  if (path === "") return "Enter a path, for example my-files."
  const bad = [...new Set([...path].filter((c) => !allowedChar.test(c)))]
  if (bad.length > 0) {
    const shown = bad.slice(0, 8).map((c) => (c === " " ? "space" : `“${c}”`)).join(" ")
    return `A path may only contain letters, digits, . _ ~ - and /. Not allowed: ${shown}.`
  }
  if (new TextEncoder().encode(path).length > maxPathBytes) return `A path is at most ${maxPathBytes} bytes long.`
  const segments = path.split("/")
  if (segments.some((s) => s === "")) {
    return path.startsWith("/") || path.endsWith("/")
      ? "A path may not start or end with “/”."
      : "A path may not contain an empty part (“//”)."
  }
  if (segments.some((s) => s === "." || s === "..")) return "“.” and “..” are not allowed as parts of a path."
  return undefined
}

/** The receiver count, or why it is refused. */
const parseN = (raw: string): number | string => {
  const text = raw.trim()
  if (text === "") return 1
  if (!/^\d+$/.test(text)) return "The number of receivers must be a whole number from 1 to 256."
  const n = Number(text)
  return n >= 1 && n <= 256 ? n : "The number of receivers must be from 1 to 256."
}

const pipeUrl = (path: string, params: ReadonlyArray<string>): string =>
  `/api/v1/pipe/${path}${params.length === 0 ? "" : `?${params.join("&")}`}`

/** The token of a server with access control (protocol §12): pasted, or from this page's own `?token=`. */
const token = (): string | undefined => {
  const value = ui.token.value.trim()
  return value === "" ? undefined : value
}

/** `token=…` for what cannot send a header (links, EventSource); nothing without a token. */
const tokenParam = (): Array<string> => {
  const value = token()
  return value === undefined ? [] : [`token=${encodeURIComponent(value)}`]
}

/** `Authorization: Bearer …` for what can (the upload, the download): kept out of URLs and so out of logs. */
const tokenHeaders = (): Record<string, string> => {
  const value = token()
  return value === undefined ? {} : { authorization: `Bearer ${value}` }
}

const nParams = (n: number): Array<string> => (n > 1 ? [`n=${n}`] : [])

// ---------------------------------------------------------------------------------------------------------
// Formatting

/** Whole seconds and minutes: the time left of an upload is an estimate, not a measurement. */
const roughDuration = (seconds: number): string => {
  if (!Number.isFinite(seconds)) return ""
  if (seconds < 60) return `${Math.max(1, Math.round(seconds))} s`
  const m = Math.floor(seconds / 60)
  if (m < 60) return `${m} min ${Math.round(seconds % 60)} s`
  return `${Math.floor(m / 60)} h ${m % 60} min`
}

// ---------------------------------------------------------------------------------------------------------
// The path, the receiver count, and everything that depends on them

let touched = false

/** Re-renders what depends on the path and `n`; returns them when both are valid. */
const refresh = (): { readonly path: string; readonly n: number } | undefined => {
  const path = ui.path.value.trim()
  const n = parseN(ui.n.value)
  const problem = pathProblem(path) ?? (typeof n === "string" ? n : undefined)
  const show = problem !== undefined && (touched || path !== "")
  ui.pathError.textContent = show ? problem : ""
  ui.pathError.hidden = !show
  ui.pathBox.classList.toggle("bad", show && pathProblem(path) !== undefined)
  ui.path.setAttribute("aria-invalid", String(show))
  const valid = problem === undefined && typeof n === "number"
  const shownPath = valid ? path : "mypath"
  const shownN = typeof n === "number" ? n : 1
  for (const { id, line } of commandLines(base, shownPath, shownN)) {
    const pre = document.getElementById(`cmd-${id}`)
    if (pre !== null) pre.textContent = line
  }
  const dashboard = pipeUrl(shownPath, ["progress"])
  ui.dashboard.href = pipeUrl(shownPath, ["progress", ...tokenParam()])
  ui.dashboardPath.textContent = dashboard
  ui.dashboard.setAttribute("aria-disabled", String(!valid))
  ui.direct.href = pipeUrl(shownPath, [...nParams(shownN), "download=1", ...tokenParam()])
  return valid ? { path, n } : undefined
}

/**
 * An unguessable path (issue 16): 128 random bits as 22 URL-safe characters. A word-word-number name is found by
 * a scan in seconds, and whoever finds a waiting sender takes its data.
 */
const randomPath = (): string =>
  btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))))
    .replace(/\+/g, "-")
    .replace(/\//g, "_")
    .replace(/=+$/, "")

// ---------------------------------------------------------------------------------------------------------
// Tabs

const tabs = ["file", "text", "receive"] as const
type Tab = (typeof tabs)[number]

const selectTab = (tab: Tab, focus = false): void => {
  for (const name of tabs) {
    const button = byId(`tab-${name}`, HTMLButtonElement)
    const selected = name === tab
    button.setAttribute("aria-selected", String(selected))
    button.tabIndex = selected ? 0 : -1
    byId(`panel-${name}`, HTMLDivElement).hidden = !selected
    if (selected && focus) button.focus()
  }
}

tabs.forEach((name, index) => {
  const button = byId(`tab-${name}`, HTMLButtonElement)
  button.addEventListener("click", () => selectTab(name))
  button.addEventListener("keydown", (event) => {
    const step = event.key === "ArrowRight" ? 1 : event.key === "ArrowLeft" ? -1 : 0
    if (step === 0) return
    event.preventDefault()
    selectTab(tabs[(index + step + tabs.length) % tabs.length] ?? "file", true)
  })
})

// ---------------------------------------------------------------------------------------------------------
// The transfer panel

interface Job {
  readonly cancel: () => void
  readonly spectator: EventSource | undefined
}

let job: Job | undefined
let savedUrl: string | undefined

const setBusy = (busy: boolean): void => {
  for (const button of [ui.sendFile, ui.sendText, ui.receive]) button.disabled = busy
  ui.path.readOnly = busy
  ui.n.readOnly = busy
  ui.cancel.hidden = !busy
}

const showError = (message: string): void => {
  ui.error.textContent = message
  ui.error.hidden = false
}

const clearError = (): void => {
  ui.error.textContent = ""
  ui.error.hidden = true
}

const setTitle = (text: string, tone: "" | "ok" | "bad" = ""): void => {
  ui.title.textContent = text
  ui.title.className = `t-title${tone === "" ? "" : ` ${tone}`}`
}

/** Transfer speed over the last ~2 s, from (time, bytes) samples. */
class Meter {
  readonly #samples: Array<readonly [number, number]> = []
  /** When the first byte moved. */
  firstAt: number | undefined

  add(bytes: number): number {
    const now = performance.now()
    if (this.firstAt === undefined && bytes > 0) this.firstAt = now
    this.#samples.push([now, bytes])
    while (this.#samples.length > 2 && (this.#samples[1]?.[0] ?? now) < now - 2000) this.#samples.shift()
    const first = this.#samples[0]
    if (first === undefined || now - first[0] < 250) return NaN
    return ((bytes - first[1]) / (now - first[0])) * 1000
  }
}

const showProgress = (meter: Meter, bytes: number, total: number | undefined): void => {
  const rate = meter.add(bytes)
  const known = total !== undefined && total > 0
  const percent = known ? Math.min(100, Math.floor((bytes / total) * 100)) : total === 0 ? 100 : undefined
  ui.bar.classList.toggle("indeterminate", percent === undefined)
  if (percent === undefined) {
    ui.bar.removeAttribute("aria-valuenow")
    ui.pct.textContent = ""
  } else {
    ui.bar.setAttribute("aria-valuenow", String(percent))
    ui.fill.style.width = `${percent}%`
    ui.pct.textContent = `${percent}%`
  }
  ui.bytes.textContent = known ? `${formatBytes(bytes)} of ${formatBytes(total)}` : formatBytes(bytes)
  const eta = known && rate > 0 ? ` · ${roughDuration((total - bytes) / rate)} left` : ""
  ui.rate.textContent = Number.isFinite(rate) ? `${formatBytes(Math.round(rate))}/s${eta}` : ""
}

const showLog = (text: string): void => {
  ui.log.textContent = text
  ui.logBox.hidden = text === ""
  ui.log.scrollTop = ui.log.scrollHeight
}

const startPanel = (title: string): Meter => {
  clearError()
  ui.transfer.hidden = false
  ui.logBox.open = false
  showLog("")
  ui.preview.hidden = true
  ui.previewText.textContent = ""
  ui.copyText.hidden = true
  ui.saveAgain.hidden = true
  if (savedUrl !== undefined) URL.revokeObjectURL(savedUrl)
  savedUrl = undefined
  ui.bar.classList.remove("done")
  ui.bar.classList.add("indeterminate")
  ui.bar.setAttribute("aria-valuenow", "0")
  ui.fill.style.width = "0%"
  ui.pct.textContent = ""
  ui.bytes.textContent = ""
  ui.rate.textContent = ""
  setTitle(title)
  setBusy(true)
  return new Meter()
}

const finish = (outcome: "ok" | "bad" | "cancelled", title: string, meter?: Meter, bytes?: number): void => {
  job?.spectator?.close()
  job = undefined
  setBusy(false)
  ui.bar.classList.remove("indeterminate")
  if (outcome === "ok") {
    ui.bar.classList.add("done")
    ui.bar.setAttribute("aria-valuenow", "100")
    ui.fill.style.width = "100%"
    ui.pct.textContent = "100%"
    if (meter !== undefined && bytes !== undefined) {
      const seconds = meter.firstAt === undefined ? 0 : (performance.now() - meter.firstAt) / 1000
      ui.rate.textContent = seconds >= 0.5
        ? `${formatBytes(Math.round(bytes / seconds))}/s average · ${roughDuration(seconds)}`
        : ""
    }
  }
  setTitle(title, outcome === "ok" ? "ok" : outcome === "bad" ? "bad" : "")
}

/**
 * Watches the path's spectator stream while a transfer runs, to say who is still missing. Best effort: the
 * transfer itself never depends on it.
 */
const watchState = (path: string, describe: (state: string, sender: boolean, k: number, n: number) => void) => {
  if (typeof EventSource === "undefined") return undefined
  const source = new EventSource(pipeUrl(path, ["progress=sse", ...tokenParam()]))
  source.addEventListener("state", (event) => {
    if (!(event instanceof MessageEvent) || typeof event.data !== "string") return
    // Checked by hand, not with the Schemas: four fields of a hint are not worth the ~75 kB Schema adds to this
    // page's script (the dashboard, which needs every event right, pays it).
    let data: unknown
    try {
      data = JSON.parse(event.data)
    } catch {
      return
    }
    if (typeof data !== "object" || data === null) return
    const state = "state" in data && typeof data.state === "string" ? data.state : ""
    const sender = "sender" in data && data.sender === true
    const k = "receivers" in data && typeof data.receivers === "number" ? data.receivers : 0
    const n = "expectedReceivers" in data && typeof data.expectedReceivers === "number" ? data.expectedReceivers : 0
    describe(state, sender, k, n)
  })
  return source
}

// ---------------------------------------------------------------------------------------------------------
// Sending

/** `Content-Disposition` for a file name: ASCII `filename`, plus RFC 5987 `filename*` when the name is not ASCII. */
const dispositionFor = (name: string): string => {
  const ascii = name.replace(/[^\x20-\x7e]/g, "_").replace(/["\\]/g, "_")
  if (ascii === name) return `attachment; filename="${ascii}"`
  const encoded = encodeURIComponent(name).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encoded}`
}

const lastError = (text: string): string | undefined =>
  text.split("\n").map((line) => line.trim()).filter((line) => line.startsWith("[ERROR]")).at(-1)

/**
 * Whether this page came over HTTP/2 (protocol §11): only there can `fetch` stream a request body (browsers
 * refuse a streaming upload over HTTP/1.1), and the page's own connection is the one its requests will use.
 */
const servedOverH2 = (): boolean => {
  if (typeof ReadableStream === "undefined" || typeof TransformStream === "undefined") return false
  const entry = performance.getEntriesByType("navigation")[0]
  return entry instanceof PerformanceNavigationTiming && entry.nextHopProtocol === "h2"
}

const send = (body: Blob, contentType: string, filename: string | undefined, what: string): void => {
  touched = true
  const target = refresh()
  if (target === undefined || job !== undefined) return
  const { path, n } = target
  const meter = startPanel(`Connecting…`)
  const spectator = watchState(path, (state, _sender, k, expected) => {
    if (state === "waiting" && k < expected) {
      setTitle(`Waiting for ${expected - k} receiver${expected - k === 1 ? "" : "s"}…`)
    } else if (state === "streaming") setTitle(`Sending ${what}…`)
  })
  const headers: Record<string, string> = { "Content-Type": contentType, ...tokenHeaders() }
  if (filename !== undefined) headers["Content-Disposition"] = dispositionFor(filename)
  const upload = { path, n, body, headers, what, meter, spectator }
  if (servedOverH2()) streamUpload(upload)
  else xhrUpload(upload)
}

interface Upload {
  readonly path: string
  readonly n: number
  readonly body: Blob
  readonly headers: Readonly<Record<string, string>>
  readonly what: string
  readonly meter: Meter
  readonly spectator: EventSource | undefined
}

/** What the sender's response said, once it is over: the status lines, or the refusal. */
const concluded = (upload: Upload, status: number, text: string): void => {
  const error = lastError(text)
  if (status !== 200) {
    showError(text.trim() === "" ? `The server answered ${status}.` : text.trim())
    finish("bad", "Not sent")
  } else if (error !== undefined) {
    showLog(text)
    ui.logBox.open = true
    showError(error)
    finish("bad", "Failed")
  } else {
    showLog(text)
    finish("ok", `Sent ${upload.what} · ${formatBytes(upload.body.size)}`, upload.meter, upload.body.size)
  }
}

/**
 * Over h2: the file goes as a stream (`fetch` with a `ReadableStream` body), read from disk as the connection
 * takes it, so a large file is never held in memory; h2's flow control paces the reading. Its progress is what
 * the upload has read. The browser gives the response once the body is sent (half duplex), so until then the
 * spectator stream says what is going on. `?total=` tells spectators the size a stream has no header for.
 */
const streamUpload = (upload: Upload): void => {
  const { body, meter } = upload
  const controller = new AbortController()
  let uploaded = 0
  let cancelled = false
  job = {
    cancel: () => {
      cancelled = true
      controller.abort()
    },
    spectator: upload.spectator
  }
  const counted = body.stream().pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform: (chunk, out) => {
        uploaded += chunk.byteLength
        showProgress(meter, uploaded, body.size)
        if (uploaded === body.size) setTitle("Finishing…")
        out.enqueue(chunk)
      }
    })
  )
  // `duplex` is not in TypeScript's DOM types yet; browsers require it for a stream body.
  const init = { method: "PUT", headers: upload.headers, body: counted, duplex: "half", signal: controller.signal }
  fetch(pipeUrl(upload.path, [...nParams(upload.n), `total=${body.size}`]), init).then(
    async (response) => {
      const text = await response.text()
      concluded(upload, response.status, text)
    }
  ).catch(() => {
    if (cancelled) return finish("cancelled", "Cancelled")
    showError(
      uploaded === 0
        ? "Could not reach the server, or it refused the upload."
        : "The connection broke before the transfer finished."
    )
    finish("bad", "Failed")
  })
}

/** Over HTTP/1.1: an `XMLHttpRequest`, whose upload and response both report progress. */
const xhrUpload = (upload: Upload): void => {
  const { path, n, body, meter } = upload
  const xhr = new XMLHttpRequest()
  let uploaded = 0
  job = { cancel: () => xhr.abort(), spectator: upload.spectator }
  xhr.open("PUT", pipeUrl(path, nParams(n)))
  for (const [name, value] of Object.entries(upload.headers)) xhr.setRequestHeader(name, value)
  xhr.upload.addEventListener("progress", (event) => {
    uploaded = event.loaded
    showProgress(meter, event.loaded, event.lengthComputable ? event.total : body.size)
  })
  xhr.upload.addEventListener("load", () => {
    showProgress(meter, body.size, body.size)
    setTitle("Finishing…")
  })
  xhr.addEventListener("progress", () => showLog(xhr.responseText))
  xhr.addEventListener("load", () => concluded(upload, xhr.status, xhr.responseText))
  xhr.addEventListener("error", () => {
    showError(
      uploaded === 0
        ? "Could not reach the server, or it refused the upload."
        : "The connection broke before the transfer finished."
    )
    finish("bad", "Failed")
  })
  xhr.addEventListener("abort", () => finish("cancelled", "Cancelled"))
  xhr.send(body)
}

let chosen: File | undefined

const choose = (file: File | undefined): void => {
  chosen = file
  ui.fileName.textContent = file === undefined ? "Choose a file or drop it here" : file.name
  ui.fileMeta.textContent = file === undefined
    ? "Any size: it streams straight to the receiver."
    : `${formatBytes(file.size)}${file.type === "" ? "" : ` · ${file.type}`}`
}

ui.file.addEventListener("change", () => choose(ui.file.files?.[0]))
ui.drop.addEventListener("dragover", (event) => {
  event.preventDefault()
  ui.drop.classList.add("over")
})
ui.drop.addEventListener("dragleave", () => ui.drop.classList.remove("over"))
ui.drop.addEventListener("drop", (event) => {
  event.preventDefault()
  ui.drop.classList.remove("over")
  const file = event.dataTransfer?.files[0]
  if (file !== undefined) choose(file)
})

ui.sendFile.addEventListener("click", () => {
  if (chosen === undefined) {
    showError("Choose a file first.")
    return
  }
  send(chosen, chosen.type === "" ? "application/octet-stream" : chosen.type, chosen.name, `“${chosen.name}”`)
})

ui.sendText.addEventListener("click", () => {
  if (ui.text.value === "") {
    showError("Type a text first.")
    return
  }
  send(
    new Blob([ui.text.value], { type: "text/plain;charset=utf-8" }),
    "text/plain; charset=utf-8",
    undefined,
    "the text"
  )
})

// ---------------------------------------------------------------------------------------------------------
// Receiving

const cleanName = (name: string): string | undefined => {
  const clean = name.replace(/[\u0000-\u001f\u007f\/\\]/g, "_").trim()
  return clean === "" || clean === "." || clean === ".." ? undefined : clean
}

/** The file name a `Content-Disposition` header gives (RFC 6266: `filename*` wins over `filename`). */
const filenameOf = (header: string | null): string | undefined => {
  if (header === null) return undefined
  const star = /filename\*\s*=\s*([\w!#$&+.^`|~-]+)'[^']*'([^;\s]+)/i.exec(header)
  if (star?.[1]?.toLowerCase() === "utf-8" && star[2] !== undefined) {
    try {
      return cleanName(decodeURIComponent(star[2]))
    } catch {
      // fall back to the plain parameter
    }
  }
  const quoted = /filename\s*=\s*"((?:[^"\\]|\\.)*)"/i.exec(header)
  if (quoted?.[1] !== undefined) return cleanName(quoted[1].replace(/\\(.)/g, "$1"))
  const token = /filename\s*=\s*([^;\s"]+)/i.exec(header)
  return token?.[1] === undefined ? undefined : cleanName(token[1])
}

const save = (blob: Blob, name: string): void => {
  savedUrl = URL.createObjectURL(blob)
  ui.saveAgain.href = savedUrl
  ui.saveAgain.download = name
  ui.saveAgain.hidden = false
  const anchor = document.createElement("a")
  anchor.href = savedUrl
  anchor.download = name
  anchor.hidden = true
  document.body.append(anchor)
  anchor.click()
  anchor.remove()
}

const previewLimit = 1_000_000

/**
 * What arrived, as text to show in the page: only when the sender gave no file name, it is small, and it is
 * UTF-8 without control characters (a `curl -T -` of a message comes as application/octet-stream).
 */
const asText = async (blob: Blob, type: string, named: boolean): Promise<string | undefined> => {
  if (named || blob.size > previewLimit || !/^(text\/|application\/octet-stream\b)/i.test(type)) return undefined
  try {
    const text = new TextDecoder("utf-8", { fatal: true }).decode(await blob.arrayBuffer())
    return /[\u0000-\u0008\u000b\u000e-\u001f\u007f]/.test(text) ? undefined : text
  } catch {
    return undefined
  }
}

const receive = async (): Promise<void> => {
  touched = true
  const target = refresh()
  if (target === undefined || job !== undefined) return
  const { path, n } = target
  const meter = startPanel("Waiting for the sender…")
  const controller = new AbortController()
  const spectator = watchState(path, (state, sender, k, expected) => {
    if (state === "waiting" && !sender) setTitle("Waiting for the sender…")
    else if (state === "waiting" && k < expected) {
      setTitle(`Waiting for ${expected - k} more receiver${expected - k === 1 ? "" : "s"}…`)
    }
  })
  job = { cancel: () => controller.abort(), spectator }
  let received = 0
  try {
    const response = await fetch(pipeUrl(path, nParams(n)), {
      signal: controller.signal,
      cache: "no-store",
      headers: tokenHeaders()
    })
    if (!response.ok) {
      const text = (await response.text()).trim()
      showError(text === "" ? `The server answered ${response.status}.` : text)
      finish("bad", "Not received")
      return
    }
    const lengthHeader = response.headers.get("content-length")
    const total = lengthHeader !== null && /^\d+$/.test(lengthHeader) ? Number(lengthHeader) : undefined
    const type = response.headers.get("content-type") ?? "application/octet-stream"
    const name = filenameOf(response.headers.get("content-disposition"))
    setTitle(name === undefined ? "Receiving…" : `Receiving “${name}”…`)
    const chunks: Array<BlobPart> = []
    const reader = response.body?.getReader()
    if (reader !== undefined) {
      for (;;) {
        const { done, value } = await reader.read()
        if (done) break
        // A fetch body never hands out views of a SharedArrayBuffer.
        chunks.push(value as Uint8Array<ArrayBuffer>)
        received += value.byteLength
        showProgress(meter, received, total)
      }
    }
    if (total !== undefined && received !== total) throw new Error("short body")
    const blob = new Blob(chunks, { type })
    const text = await asText(blob, type, name !== undefined)
    if (text !== undefined) {
      ui.previewText.textContent = text
      ui.preview.hidden = false
      ui.copyText.hidden = false
      savedUrl = URL.createObjectURL(blob)
      ui.saveAgain.href = savedUrl
      ui.saveAgain.download = `${path.split("/").at(-1) ?? "pipe"}.txt`
      ui.saveAgain.textContent = "Save as file"
      ui.saveAgain.hidden = false
      finish("ok", `Received a text · ${formatBytes(blob.size)}`, meter, blob.size)
    } else {
      const fileName = name ?? path.split("/").at(-1) ?? "download"
      ui.saveAgain.textContent = "Save again"
      save(blob, fileName)
      finish("ok", `Received “${fileName}” · ${formatBytes(blob.size)}`, meter, blob.size)
    }
  } catch (error) {
    if (controller.signal.aborted) {
      finish("cancelled", "Cancelled")
    } else {
      showError(
        received > 0
          ? "The transfer broke off before the end: the sender went away or the connection failed."
          : `Could not receive: ${error instanceof Error ? error.message : String(error)}`
      )
      finish("bad", "Failed")
    }
  }
}

ui.receive.addEventListener("click", () => void receive())

ui.copyText.addEventListener("click", () => {
  const text = ui.previewText.textContent ?? ""
  void copyToClipboard(text, ui.previewText).then((ok) => {
    ui.copyText.textContent = ok ? "Copied" : "Copy failed"
  })
})

ui.cancel.addEventListener("click", () => job?.cancel())

// ---------------------------------------------------------------------------------------------------------
// Copy buttons

const copyToClipboard = async (text: string, element: HTMLElement): Promise<boolean> => {
  try {
    await navigator.clipboard.writeText(text)
    return true
  } catch {
    // Not a secure context (plain http to a remote host): select the text and let the user copy it.
    const selection = getSelection()
    const range = document.createRange()
    range.selectNodeContents(element)
    selection?.removeAllRanges()
    selection?.addRange(range)
    return false
  }
}

document.querySelectorAll<HTMLButtonElement>("button[data-copy]").forEach((button) => {
  button.addEventListener("click", () => {
    const source = document.getElementById(button.dataset["copy"] ?? "")
    if (source === null) return
    void copyToClipboard(source.textContent ?? "", source).then((ok) => {
      if (!ok) return
      button.classList.add("done")
      setTimeout(() => button.classList.remove("done"), 1200)
    })
  })
})

// ---------------------------------------------------------------------------------------------------------
// Start

// Without this script the form leads to /noscript; with it, Enter in a field only re-checks the path.
ui.target.addEventListener("submit", (event) => {
  event.preventDefault()
  touched = true
  refresh()
})
ui.path.addEventListener("input", () => void refresh())
ui.n.addEventListener("input", () => void refresh())
ui.shuffle.addEventListener("click", () => {
  ui.path.value = randomPath()
  refresh()
})
window.addEventListener("beforeunload", (event) => {
  if (job !== undefined) event.preventDefault()
})

if (ui.path.value === "") ui.path.value = randomPath()
const pageToken = new URLSearchParams(location.search).get("token")
if (pageToken !== null && ui.token.value === "") ui.token.value = pageToken
ui.token.addEventListener("input", () => void refresh())
refresh()
ui.cancel.hidden = true
document.documentElement.dataset["ready"] = "true"
