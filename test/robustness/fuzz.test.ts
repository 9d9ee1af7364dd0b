// Robustness fuzz (issue 11): 2,000+ seeded transfers that DO join a pipe and get a receiver, on raw sockets
// so hostile bytes go out unmodified. Senders fuzz multipart bodies (boundaries, malformed RFC 2231/5987
// `filename*`, raw UTF-8 / Latin-1 bytes in part headers, duplicate and 8 KB part headers, bare CR/LF, zero
// parts, truncation, epilogues, several parts) and plain bodies with fuzzed Content-Type, Content-Disposition,
// X-Piping (repeated), Host and X-Forwarded-* bytes; receivers fuzz `?filename=` / `?download=` (non-ASCII,
// emoji, percent-encoded lone surrogates, bidi controls, 300+ characters); some cases attach an SSE spectator.
// Per case: the sender's response ends, the receiver gets the exact bytes (200) or a visible break, every
// header it gets is printable ASCII and made safe (robustness spec: header encoding), the server lives.
// After all cases nothing is left: pipes 0, waiting parties 0, started = completed + aborted, sockets at
// baseline, no uncaught exception in the log.
import { readFileSync, writeFileSync } from "node:fs"
import { describe, expect, it } from "vitest"
import type { PipeEvent } from "../../src/schema/PipeEvent.js"
import { artifactPath } from "../support/artifacts.js"
import { sampleValue, scrapeMetrics } from "../support/hardening-prom.js"
import { pool, Random, suiteSeed } from "../support/hardening-random.js"
import { attemptSpectator, type Spectator } from "../support/hardening-sse.js"
import { pipePath } from "../support/pipe.js"
import {
  chunked,
  headValue,
  headValues,
  RawClient,
  type RawHead,
  rawRequest,
  showBytes
} from "../support/robustness-raw.js"
import { useServer } from "../support/server.js"
import { expectNothingLeft } from "../support/transfer.js"
import { waitFor, within } from "../support/wait.js"

const CASES = 2_000
const AT_ONCE = 8
/** Every awaited event of a case (a response head, a body end, a socket close, a `done`) within this. */
const STEP_MS = 5_000
/** Stop starting new cases after this many hangs (a broken build must not run for many minutes). */
const HANG_BUDGET = 24
/** Stop starting new cases after this long (the run must stay well under the file's time limit). */
const DEADLINE_MS = 70_000
/** A case's hard limit, whatever it waits for. */
const CASE_MS = 30_000

const seed = suiteSeed("fuzz", "test/robustness/fuzz.test.ts")
const server = useServer(["--retention", "0s"])

// ---- text and bytes ---------------------------------------------------------------------------------------

const latin1 = (bytes: Buffer): string => bytes.toString("latin1")
const utf8Bytes = (text: string): Buffer => Buffer.from(text, "utf8")
const bytesOf = (latin1Text: string): Buffer => Buffer.from(latin1Text, "latin1")

const BIDI = [
  "\u202A",
  "\u202B",
  "\u202C",
  "\u202D",
  "\u202E",
  "\u2066",
  "\u2067",
  "\u2068",
  "\u2069",
  "\u200E",
  "\u200F",
  "\u061C"
]
/** What the spec strips from file names: control characters and the bidi controls it lists. */
const STRIPPED = /[\p{Cc}\u202A-\u202E\u2066-\u2069\u200E\u200F\u061C]/gu
const strip = (name: string): string => name.replace(STRIPPED, "")
const hasStripped = (text: string): boolean => new RegExp(STRIPPED.source, "u").test(text)
const codePoints = (text: string): number => [...text].length
const printableAscii = (text: string): boolean => /^[\x20-\x7e]*$/.test(text)
/** Node trims a header value's leading and trailing spaces and tabs. */
const trimOws = (text: string): string => text.replace(/^[ \t]+|[ \t]+$/g, "")

const fatalUtf8 = new TextDecoder("utf-8", { fatal: true })
const decodeUtf8 = (bytes: Buffer): string | undefined => {
  try {
    return fatalUtf8.decode(bytes)
  } catch {
    return undefined
  }
}
/** The spec's reading of raw header bytes: UTF-8 when they are valid UTF-8, else Latin-1. */
const headerText = (bytes: Buffer): string => decodeUtf8(bytes) ?? latin1(bytes)

/** Percent-encodes every byte outside RFC 5987 attr-char. */
const pct = (bytes: Buffer): string =>
  [...bytes].map((
    b
  ) => (/[A-Za-z0-9!#$&+\-.^_`|~]/.test(String.fromCharCode(b))
    ? String.fromCharCode(b)
    : `%${b.toString(16).toUpperCase().padStart(2, "0")}`)
  ).join("")

/** Decodes `%XX` escapes to bytes; undefined if an escape is malformed. */
const unpct = (text: string): Buffer | undefined => {
  const out: Array<number> = []
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (text[i] === "%") {
      const hex = text.slice(i + 1, i + 3)
      if (!/^[0-9A-Fa-f]{2}$/.test(hex)) return undefined
      out.push(parseInt(hex, 16))
      i += 2
    } else if (c > 0x7f) return undefined
    else out.push(c)
  }
  return Buffer.from(out)
}

const SCRIPTY = /xml|xsl|html|script|svg/

// ---- the model of what a receiver must get ----------------------------------------------------------------

/** The receiver's Content-Type: exactly this, or anything safe. */
type TypeModel = { readonly kind: "exact"; readonly value: string } | { readonly kind: "any" }

/** The receiver's Content-Disposition. */
type DispositionModel =
  | { readonly kind: "absent" }
  | { readonly kind: "any" }
  /** A printable-ASCII value without `filename*`: passes through unchanged. */
  | { readonly kind: "passthrough"; readonly value: string }
  /** Rebuilt: this disposition type, this (decoded, stripped) file name, and `name="…"` kept when given. */
  | { readonly kind: "name"; readonly type: string; readonly name: string; readonly param: string | undefined }
  /** From `?filename=`: the decoded query value, stripped, cut at 255 code points. */
  | { readonly kind: "query"; readonly raw: string }

/** The Content-Type a printable sender or part type must become (undefined: the spec does not pin it). */
const typeModelOf = (value: string | undefined): TypeModel => {
  if (value === undefined) return { kind: "exact", value: "application/octet-stream" }
  const v = trimOws(value)
  if (v === "") return { kind: "exact", value: "application/octet-stream" }
  // Only a well-formed media type (RFC 9110 `type "/" subtype *( OWS ";" OWS parameter )`) is pinned.
  const token = "[!#$%&'*+\\-.^_`|~0-9A-Za-z]+"
  const parameter = `[ \\t]*;[ \\t]*${token}=(?:${token}|"(?:[^"\\\\]|\\\\.)*")`
  if (!printableAscii(v) || !new RegExp(`^${token}/${token}(?:${parameter})*$`).test(v) || /^multipart\//i.test(v)) {
    return { kind: "any" }
  }
  const semicolon = v.indexOf(";")
  const media = (semicolon === -1 ? v : v.slice(0, semicolon)).trim().toLowerCase()
  if (SCRIPTY.test(media)) return { kind: "exact", value: `text/plain${semicolon === -1 ? "" : v.slice(semicolon)}` }
  return { kind: "exact", value: v }
}

// ---- cases ------------------------------------------------------------------------------------------------

type Expect = "exact" | "break" | "either"

interface Case {
  readonly index: number
  readonly label: string
  readonly name: string
  readonly receiverTarget: string
  /** The sender's request, in the writes it goes out in. */
  readonly senderWrites: ReadonlyArray<Buffer>
  /** Send only this many bytes of the request, then (once the sender is connected to its receiver) reset. */
  readonly abortAt: number | undefined
  readonly expect: Expect
  /** The body a complete receiver must get. */
  readonly body: Buffer
  /** The app may refuse the sender with `[ERROR] A multipart/form-data body needs a boundary.` (odd boundaries). */
  readonly boundaryRefusalAllowed: boolean
  readonly order: "receiver-first" | "sender-first"
  readonly spectator: boolean
  readonly type: TypeModel
  readonly disposition: DispositionModel
  /** Whether the download/filename query asks for an attachment. */
  readonly attachment: boolean
  readonly xPipingSent: boolean
  /** The sender's X-Piping values that are printable ASCII (as Node parses them). */
  readonly xPipingPrintable: ReadonlyArray<string>
}

const alnum = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

const shuffle = <T>(r: Random, items: ReadonlyArray<T>): Array<T> => {
  const out = [...items]
  for (let i = out.length - 1; i > 0; i--) {
    const j = r.int(0, i)
    const a = out[i] as T
    out[i] = out[j] as T
    out[j] = a
  }
  return out
}

interface Part {
  readonly lines: Array<Buffer>
  type: TypeModel
  disposition: DispositionModel
  /** Structurally unusual part headers: the spec pins no outcome, only safety. */
  odd: boolean
}

class Generator {
  constructor(readonly r: Random, readonly port: number) {}

  // -- strings --

  /** A piece of a file name: ASCII, accents, CJK, RTL text, emoji (ZWJ sequences), bidi, controls, … */
  namePiece(): string {
    const r = this.r
    return r.pick([
      () => r.pick(["report", "a", "file", "x-y_z", "2026 Q4", "data.tar", "résumé", "naïve", "ß", "Ærø"]),
      () => r.pick(["中文", "日本語のファイル", "한국어", "مرحبا", "עברית", "Ελληνικά", "кириллица"]),
      () => r.pick(["😀", "👨‍👩‍👧", "🏳️‍🌈", "🇫🇷", "𝔘𝔫𝔦", "💩"]),
      () => r.pick(BIDI),
      () => r.pick(["\t", "\u0085", "\u009b", "\u200B", "\uFEFF", "\uFFFD", "\u2028"]),
      () => r.string(r.int(1, 8), alnum)
    ])()
  }

  /** A file name (unicode), and whether the model can pin what the receiver sees. */
  fileName(long = false): string {
    const r = this.r
    let name = ""
    const pieces = long ? r.int(60, 200) : r.int(1, 5)
    for (let i = 0; i < pieces; i++) name += this.namePiece()
    if (long) { while (codePoints(name) < 300) name += this.namePiece() }
    return r.chance(0.6) ? `${name}.${r.pick(["txt", "bin", "tar.gz", "png", "pdf"])}` : name
  }

  /** A model can pin the name: no character the spec leaves open, nothing to trim, something left. */
  modelable(name: string): boolean {
    const s = strip(name)
    return s !== "" && s === s.trim() && !/["\\/%]/.test(name)
  }

  /** Header bytes Node's parser accepts (HTAB, 0x20–0x7E, 0x80–0xFF), rarely one it refuses. */
  headerBytes(length: number, refusable: boolean): string {
    const r = this.r
    let out = ""
    for (let i = 0; i < length; i++) {
      const roll = r.next()
      if (roll < 0.68) out += String.fromCharCode(r.int(0x20, 0x7e))
      else if (roll < 0.9) out += String.fromCharCode(r.int(0x80, 0xff))
      else if (roll < 0.95) out += "\t"
      else out += r.pick([";", "\"", "\\", "'", "=", ",", "*", "%"])
    }
    if (refusable && r.chance(0.5)) {
      const at = r.int(0, out.length)
      out = `${out.slice(0, at)}${r.pick(["\x00", "\x01", "\x08", "\x0b", "\x0c", "\x1b", "\x7f", "\r"])}${
        out.slice(at)
      }`
    }
    return out
  }

  // -- receiver --

  receiverQuery(): {
    readonly query: string
    readonly disposition: DispositionModel | undefined
    readonly attachment: boolean
  } {
    const r = this.r
    const roll = r.next()
    if (roll < 0.55) return { query: "", disposition: undefined, attachment: false }
    const download = r.chance(0.35) ? r.pick(["1", "true", "yes", "0", "false", "no", "", "%E2%80%AE", "x"]) : undefined
    const parts: Array<string> = []
    if (download !== undefined) parts.push(`download=${download}`)
    let disposition: DispositionModel = { kind: "any" }
    if (roll < 0.92) {
      const long = r.chance(0.2)
      const name = this.fileName(long)
      let encoded = encodeURIComponent(name)
      // Percent-encoded bytes no valid string has: lone surrogates (CESU-8), a cut sequence, a stray byte, a bad escape.
      if (r.chance(0.3)) {
        const hostile = r.pick([
          "%ED%A0%80",
          "%ED%B0%80",
          "%ED%A0%BD%ED%B8%80",
          "%E2%82",
          "%FF",
          "%C0%AE",
          "%ZZ",
          "%",
          "%00",
          "%0A",
          "%1B",
          "%7F",
          "%E2%80%AE",
          "%C2%85"
        ])
        const at = r.int(0, encoded.length)
        // Never split an existing escape.
        const cut = encoded.slice(0, at).replace(/%[0-9A-F]?$/i, "")
        encoded = `${cut}${hostile}${encoded.slice(cut.length)}`
      }
      if (r.chance(0.05)) encoded = `${encoded}%22%5C%2F` // quote, backslash, slash
      parts.push(`filename=${encoded}`)
      const raw = new URLSearchParams(`filename=${encoded}`).get("filename") ?? ""
      disposition = raw !== "" && this.modelable(raw) ? { kind: "query", raw } : { kind: "any" }
    }
    // Protocol §2: `download=1` or `filename=<f>` (without a `download` saying otherwise) → an attachment.
    const attachment = download === "1" || (download === undefined && parts.some((p) => p.startsWith("filename=")))
    return { query: shuffle(r, parts).join("&"), disposition, attachment }
  }

  // -- sender headers --

  /** A Content-Disposition for a sender or a part, as raw bytes, and what the receiver must get from it. */
  disposition(
    type: string,
    withName: boolean,
    multipart: boolean
  ): { readonly value: string; readonly model: DispositionModel } {
    const r = this.r
    const nameParam = withName ? `; name="${r.pick(["f", "file", "input_data", "a b"])}"` : ""
    const param = withName ? /name="([^"]*)"/.exec(nameParam)?.[1] : undefined
    const plainName = r.pick(["a.txt", "report.pdf", "x", "data.tar.gz", "My File (1).txt"])
    switch (r.int(0, 8)) {
      case 0: {
        const value = r.pick([
          `${type}${nameParam}; filename="${plainName}"`,
          `${type}${nameParam}`,
          `${type}${nameParam}; filename=${plainName.replace(/[ ()]/g, "_")}`
        ])
        return { value, model: { kind: "passthrough", value } }
      }
      case 1: {
        // Raw UTF-8 bytes (valid), or Latin-1 bytes (not UTF-8), in a quoted file name.
        const name = this.fileName()
        const bytes = r.chance(0.5) || /[^\u0000-\u00ff]/.test(name) ? utf8Bytes(name) : Buffer.from(name, "latin1")
        const value = `${type}${nameParam}; filename="${latin1(bytes)}"`
        // A part's header bytes are the form's business (the spec reads raw Latin-1 only in a plain sender's header).
        const decoded = multipart ? decodeUtf8(bytes) : headerText(bytes)
        return {
          value,
          model: decoded !== undefined && this.modelable(decoded)
            ? { kind: "name", type, name: strip(decoded), param }
            : { kind: "any" }
        }
      }
      case 2:
      case 3: {
        // A malformed or unusable filename*: ignored, the plain filename wins.
        const bad = r.pick([
          "UTF-8''%ZZ",
          "utf-8'en'%E2%82",
          "''",
          "x-unknown''abc",
          "foo-bar''%41",
          "UTF-8'abc",
          "UTF-8''%",
          "UTF-8''%E2%82%AC%FF",
          "UTF-8''%ED%A0%80",
          "UTF-8\"\"abc",
          "UTF-8''\xe9",
          `UTF-8''${"%E2%82".repeat(r.int(1, 50))}`
        ])
        const value = r.chance(0.5)
          ? `${type}${nameParam}; filename="${plainName}"; filename*=${bad}`
          : `${type}${nameParam}; filename*=${bad}; filename="${plainName}"`
        return { value, model: { kind: "name", type, name: plainName, param } }
      }
      case 4: {
        // A well-formed filename* (with or without a language and a plain fallback).
        const name = this.fileName()
        const ext = `${r.pick(["UTF-8", "utf-8"])}'${r.pick(["", "en", "fr-CA"])}'${pct(utf8Bytes(name))}`
        const value = r.chance(0.7)
          ? `${type}${nameParam}; filename="fallback.bin"; filename*=${ext}`
          : `${type}${nameParam}; filename*=${ext}`
        return {
          value,
          model: this.modelable(name) ? { kind: "name", type, name: strip(name), param } : { kind: "any" }
        }
      }
      case 5: {
        // A bidi override or a tab hidden in a raw UTF-8 name ("invoice\u202Efdp.exe").
        const name = `${r.pick(["invoice", "photo", "a"])}${r.pick(BIDI)}${r.pick(["fdp.exe", "gnp.js", "txt"])}${
          r.chance(0.3) ? "\t" : ""
        }.${r.pick(["txt", "exe"])}`
        const value = `${type}${nameParam}; filename="${latin1(utf8Bytes(name))}"`
        return { value, model: { kind: "name", type, name: strip(name), param } }
      }
      case 6:
        return {
          value: `${type}${nameParam}; filename="${this.headerBytes(this.r.int(0, 60), false)}"`,
          model: { kind: "any" }
        }
      case 7:
        return { value: this.headerBytes(this.r.int(0, 120), false), model: { kind: "any" } }
      default: {
        // 300+ characters of name.
        const name = this.fileName(true)
        const value = `${type}${nameParam}; filename="${latin1(utf8Bytes(name))}"`
        return { value, model: { kind: "any" } }
      }
    }
  }

  contentType(): string | undefined {
    const r = this.r
    switch (r.int(0, 6)) {
      case 0:
        return undefined
      case 1:
        return r.pick([
          "text/plain",
          "application/octet-stream",
          "image/png",
          "text/plain; charset=utf-8",
          "application/json",
          "video/mp4",
          ""
        ])
      case 2:
        return r.pick([
          "text/html",
          "text/html; charset=utf-8",
          "image/svg+xml",
          "text/xsl",
          "application/xslt+xml",
          "application/x-javascript",
          "text/ecmascript",
          "application/xhtml+xml; charset=utf-8",
          "TEXT/HTML",
          "application/rss+xml",
          "text/x-shellscript",
          "application/vnd.ms-htmlhelp",
          "Text/XML;a=b"
        ])
      case 3:
        // Latin-1 bytes (each character one byte on the wire).
        return r.pick(["text/plaïn", "text/\xff", "application/\u00e9", "image/png; name=\"café\""])
      case 4:
        return latin1(utf8Bytes(r.pick(["text/plaïn", "text/☃", "application/😀", "text/plain; charset=\u202Eutf-8"])))
      case 5:
        return r.pick([
          "text/plain, text/html",
          "a/b,c/d",
          "text/plain;;;",
          ";",
          "text/",
          "/",
          "*/*",
          "text/plain; charset"
        ])
      default:
        return this.headerBytes(r.int(0, 80), false)
    }
  }

  /** The sender's header lines other than framing: fuzzed Content-Type/Disposition, X-Piping, Host, X-Forwarded-*. */
  senderHeaders(contentType: string | undefined, disposition: string | undefined): {
    readonly lines: Array<readonly [string, string]>
    readonly xPipingSent: boolean
    readonly xPipingPrintable: Array<string>
  } {
    const r = this.r
    const lines: Array<readonly [string, string]> = []
    const refusable = r.chance(0.04)
    const host = `127.0.0.1:${this.port}`
    const hostRoll = r.next()
    if (hostRoll < 0.8) lines.push(["Host", host])
    else if (hostRoll < 0.9) lines.push(["Host", this.headerBytes(r.int(0, 300), refusable)])
    else if (hostRoll < 0.95) lines.push(["Host", host], ["Host", r.pick(["evil.example", host, ""])])
    // else: no Host at all (Node refuses an HTTP/1.1 request without one)
    if (r.chance(0.2)) {
      lines.push([
        "X-Forwarded-Host",
        r.chance(0.5) ? this.headerBytes(r.int(0, 200), refusable) : r.pick(["evil.example", "a, b", "<script>", ""])
      ])
    }
    if (r.chance(0.2)) {
      lines.push([
        "X-Forwarded-Proto",
        r.chance(0.5)
          ? this.headerBytes(r.int(0, 40), refusable)
          : r.pick(["https", "http", "javascript", "https, http", ""])
      ])
    }
    if (contentType !== undefined) lines.push([r.pick(["Content-Type", "content-type", "CONTENT-TYPE"]), contentType])
    if (disposition !== undefined) lines.push([r.pick(["Content-Disposition", "content-disposition"]), disposition])
    const xPiping: Array<string> = []
    if (r.chance(0.45)) {
      for (let i = r.int(1, 5); i > 0; i--) {
        xPiping.push(
          r.pick([
            () => r.pick(["one", "two words", "x=1;y=2", "{\"k\":\"v\"}", "", "  padded  "]),
            () => this.headerBytes(r.int(0, 60), refusable && i === 1),
            () => latin1(utf8Bytes(r.pick(["é", "☃ snow", "\u202Eevil", "😀"]))),
            () => "p".repeat(r.int(1000, 4000))
          ])()
        )
      }
      for (const value of xPiping) lines.push([r.pick(["X-Piping", "x-piping"]), value])
    }
    const shuffled = shuffle(r, lines)
    // In wire order: what Node hands the server, trimmed.
    const printable = shuffled.filter(([n]) => n.toLowerCase() === "x-piping").map(([, v]) => trimOws(v)).filter((v) =>
      v !== "" && printableAscii(v)
    )
    return { lines: shuffled, xPipingSent: xPiping.length > 0, xPipingPrintable: printable }
  }

  // -- bodies --

  /** Content bytes: random binary, text, or text with CR/LF and dashes (close to a delimiter). */
  content(length: number, avoid: string | undefined): Buffer {
    const r = this.r
    for (;;) {
      const kind = r.int(0, 2)
      const body = kind === 0
        ? this.randomBytes(length)
        : kind === 1
        ? Buffer.from(r.string(length, `${alnum} \n`), "latin1")
        : Buffer.from(r.string(length, "-\r\n ab"), "latin1")
      // Not even right after the part's blank line: "\r\n\r\n--b…" would read as a delimiter to some parsers.
      if (avoid === undefined || !Buffer.concat([Buffer.from("\r\n"), body]).includes(bytesOf(`\r\n--${avoid}`))) {
        return body
      }
    }
  }

  randomBytes(length: number): Buffer {
    const out = Buffer.alloc(length)
    for (let i = 0; i < length; i++) out[i] = Math.floor(this.r.next() * 256)
    return out
  }

  bodyLength(): number {
    return this.r.chance(0.05) ? 0 : this.r.logInt(1, this.r.chance(0.1) ? 400_000 : 40_000)
  }

  // -- multipart --

  boundary(): { readonly boundary: string; readonly header: string; readonly wellFormed: boolean } {
    const r = this.r
    const bchars = `${alnum}'()+_,-./:=?`
    switch (r.int(0, 6)) {
      case 0: {
        const b = r.string(r.int(1, 70), alnum)
        return { boundary: b, header: `multipart/form-data; boundary=${b}`, wellFormed: true }
      }
      case 1: {
        const b = `----WebKitFormBoundary${r.string(16, alnum)}`
        return { boundary: b, header: `multipart/form-data; boundary=${b}`, wellFormed: true }
      }
      case 2: {
        const b = `${r.string(r.int(0, 30), `${bchars} `)}${r.string(1, bchars)}`
        return { boundary: b, header: `multipart/form-data; boundary="${b}"`, wellFormed: true }
      }
      case 3: {
        const b = r.string(r.int(1, 40), alnum)
        const header = r.pick([
          `Multipart/Form-Data; BOUNDARY=${b}`,
          `multipart/form-data;boundary=${b}`,
          `multipart/form-data; charset=utf-8; boundary=${b}`,
          `multipart/form-data; boundary="${b}"`,
          `multipart/form-data; boundary=${b}; foo=bar`
        ])
        return { boundary: b, header, wellFormed: true }
      }
      case 4: {
        const b = r.string(r.int(71, 300), alnum)
        return { boundary: b, header: `multipart/form-data; boundary=${b}`, wellFormed: false }
      }
      case 5: {
        const b = `${r.string(r.int(1, 10), alnum)}${
          r.pick([";", "\"", "\\", "\t", "\xe9", "\xff", "=", ",", "%", "--"])
        }${r.string(r.int(0, 10), alnum)}`
        return {
          boundary: b,
          header: r.chance(0.5) ? `multipart/form-data; boundary="${b}"` : `multipart/form-data; boundary=${b}`,
          wellFormed: false
        }
      }
      default: {
        const b = latin1(utf8Bytes(`${r.string(r.int(1, 8), alnum)}${r.pick(["☃", "é", "😀", "\u202E"])}`))
        return { boundary: b, header: `multipart/form-data; boundary="${b}"`, wellFormed: false }
      }
    }
  }

  part(first: boolean): Part {
    const r = this.r
    const lines: Array<Buffer> = []
    const part: Part = {
      lines,
      type: { kind: "exact", value: "application/octet-stream" },
      disposition: { kind: "absent" },
      odd: false
    }
    if (!r.chance(0.08)) {
      const d = this.disposition("form-data", true, true)
      lines.push(bytesOf(`${r.pick(["Content-Disposition", "content-disposition"])}: ${d.value}`))
      // multipasta hands the whole line's value (it skips one space): leading/trailing blanks are the model's edge.
      part.disposition = d.value === d.value.trim() ? d.model : { kind: "any" }
    }
    if (r.chance(0.7)) {
      const t = this.contentType()
      if (t !== undefined) {
        lines.push(bytesOf(`${r.pick(["Content-Type", "content-type"])}: ${t}`))
        const v = t
        // A part type that is not printable ASCII is dropped: application/octet-stream.
        part.type = v.trim() !== v
          ? { kind: "any" }
          : printableAscii(v)
          ? typeModelOf(v)
          : { kind: "exact", value: "application/octet-stream" }
      }
    }
    if (r.chance(0.04)) {
      // RFC 7578 requires `name`: a part without it is malformed (the spec pins no outcome, only safety).
      lines.push(bytesOf(`Content-Disposition: form-data; filename="${r.pick(["a.txt", "x"])}"`))
      part.odd = true
      part.disposition = { kind: "any" }
    }
    if (first && r.chance(0.12)) {
      // Duplicate headers: which one wins is not pinned.
      const again = r.pick([
        "Content-Disposition: form-data; name=\"second\"; filename=\"second.txt\"",
        "Content-Type: text/html",
        `Content-Disposition: ${this.headerBytes(40, false)}`
      ])
      lines.splice(r.int(0, lines.length), 0, bytesOf(again))
      if (/^Content-Type/.test(again)) part.type = { kind: "any" }
      else part.disposition = { kind: "any" }
    }
    if (r.chance(0.1)) {
      // One 8 KB header is within any sane limit; several may not be.
      for (let i = r.chance(0.7) ? 1 : r.int(2, 4); i > 0; i--) {
        lines.push(bytesOf(`X-Pad-${i}: ${"p".repeat(8 * 1024)}`))
      }
      // More than 16 KB of part headers is past a parser's limit: the spec pins no outcome for that.
      if (lines.reduce((n, l) => n + l.length + 2, 0) > 12 * 1024) part.odd = true
    }
    if (r.chance(0.06)) {
      // A bare CR or LF inside a header line.
      const bare = r.pick(["\r", "\n", "\r \n", "x\ry"])
      const at = r.int(0, lines.length - 1)
      const line = lines[at] ?? bytesOf("X-Bare: v")
      const cut = r.int(Math.min(line.length, 3), line.length)
      lines[at] = Buffer.concat([line.subarray(0, cut), bytesOf(bare), line.subarray(cut)])
      part.odd = true
      part.type = { kind: "any" }
      part.disposition = { kind: "any" }
    }
    if (lines.length === 0) part.odd = true // a part without headers: RFC 2046 allows it, the spec pins nothing
    return part
  }

  // -- a case --

  next(index: number): Case {
    const r = this.r
    const name = `fz${index}-${r.string(6, alnum)}`
    const path = r.chance(0.5) ? pipePath(name) : `/${name}`
    const q = this.receiverQuery()
    const receiverTarget = q.query === "" ? path : `${path}?${q.query}`
    const method = r.pick(["PUT", "POST"])
    const chunkedFraming = r.chance(0.2)
    const order = r.chance(0.5) ? "receiver-first" : "sender-first"
    const spectator = r.chance(0.2)
    const frame = (headers: Array<readonly [string, string]>, payload: Buffer): Buffer =>
      rawRequest(
        `${method} ${path} HTTP/1.1`,
        [
          ...headers,
          chunkedFraming
            ? ["Transfer-Encoding", "chunked"] as const
            : ["Content-Length", String(payload.length)] as const
        ],
        chunkedFraming ? chunked(this.split(payload)) : payload
      )

    if (r.chance(0.45)) {
      // ---- a plain body ----
      let contentType: string | undefined
      do contentType = r.chance(0.3) ? undefined : this.contentType()
      while (contentType !== undefined && /^[ \t]*multipart\/form-data/i.test(contentType))
      const d = r.chance(0.55)
        ? this.disposition(r.pick(["attachment", "inline", "form-data"]), r.chance(0.2), false)
        : undefined
      const headers = this.senderHeaders(contentType, d?.value)
      const body = this.content(this.bodyLength(), undefined)
      const request = frame(headers.lines, body)
      const abort = body.length > 0 && r.chance(0.12)
      const headEnd = request.indexOf("\r\n\r\n") + 4
      const dispositionModel: DispositionModel = q.disposition ??
        (d === undefined ? { kind: "absent" } : trimOws(d.value) === d.value ? d.model : { kind: "any" })
      return {
        index,
        label: `plain ${chunkedFraming ? "chunked" : "length"} ${body.length} B${abort ? " aborted" : ""}`,
        name,
        receiverTarget,
        senderWrites: this.writes(request),
        abortAt: abort ? r.int(headEnd, request.length - (chunkedFraming ? 6 : 1)) : undefined,
        expect: abort ? "break" : "exact",
        body,
        boundaryRefusalAllowed: false,
        order,
        spectator,
        type: typeModelOf(contentType),
        disposition: dispositionModel,
        attachment: q.attachment,
        xPipingSent: headers.xPipingSent,
        xPipingPrintable: headers.xPipingPrintable
      }
    }

    // ---- a multipart body ----
    const b = this.boundary()
    const delimiter = `--${b.boundary}`
    const parts = Array.from({ length: r.int(1, 4) }, (_, i) => this.part(i === 0))
    const bodies = parts.map(() => this.content(this.bodyLength(), b.boundary))
    const first = parts[0] ?? this.part(true)
    const firstBody = bodies[0] ?? Buffer.alloc(0)
    const chunks: Array<Buffer> = []
    if (r.chance(0.1)) chunks.push(bytesOf(`${r.pick(["This is a preamble.", "", "ignored\r\n"])}\r\n`))
    let firstPartEnd = 0
    parts.forEach((part, i) => {
      chunks.push(
        bytesOf(`${i === 0 ? "" : "\r\n"}${delimiter}\r\n`),
        ...part.lines.flatMap((l) => [l, bytesOf("\r\n")]),
        bytesOf("\r\n"),
        bodies[i] ?? Buffer.alloc(0)
      )
      if (i === 0) firstPartEnd = Buffer.concat(chunks).length + 2 + delimiter.length // through the next "\r\n--boundary"
    })
    chunks.push(bytesOf(`\r\n${delimiter}--`))
    if (r.chance(0.8)) chunks.push(bytesOf("\r\n"))
    if (r.chance(0.2)) {
      chunks.push(bytesOf(r.pick(["epilogue", "\r\n--not-a-boundary--\r\n", r.string(r.int(1, 3000), alnum)])))
    }
    const full = Buffer.concat(chunks)

    let payload: Buffer = full
    const odd = parts.some((p) => p.odd)
    let expect: Expect = b.wellFormed && !odd ? "exact" : "either"
    let shape = `${parts.length} part(s)`
    const roll = r.next()
    if (roll < 0.08) {
      payload = bytesOf(`${delimiter}--\r\n`)
      expect = "break"
      shape = "zero parts"
    } else if (roll < 0.11) {
      payload = Buffer.alloc(0)
      expect = "break"
      shape = "empty"
    } else if (roll < 0.14) {
      payload = bytesOf(
        r.pick([delimiter, `${delimiter}\r\n`, `${delimiter}\r\nContent-Type: text/pl`, "not multipart at all"])
      )
      expect = "break"
      shape = "ends in the first part's headers"
    } else if (roll < 0.3) {
      const cut = r.int(0, full.length - 1)
      payload = full.subarray(0, cut)
      expect = cut < firstPartEnd ? "break" : "either"
      shape = `truncated at ${cut}/${full.length} (first part ends at ${firstPartEnd})`
    }
    if (expect === "break" && !b.wellFormed) expect = "either" // an odd boundary may be read another way
    const headers = this.senderHeaders(b.header, undefined)
    const request = frame(headers.lines, payload)
    const headEnd = request.indexOf("\r\n\r\n") + 4
    // Reset mid-body, before the first part is complete (so the receiver can never have it all).
    const abort = expect !== "break" && b.wellFormed && !odd && payload === full && r.chance(0.1)
    const abortAt = abort
      ? r.int(headEnd, headEnd + Math.max(0, Math.min(firstPartEnd, payload.length) - 1))
      : undefined
    return {
      index,
      label: `multipart ${shape}${b.wellFormed ? "" : " odd boundary"}${odd ? " odd part headers" : ""} ${
        chunkedFraming ? "chunked" : "length"
      }${abort ? " aborted" : ""}`,
      name,
      receiverTarget,
      senderWrites: this.writes(request),
      abortAt,
      expect: abort ? "break" : expect,
      body: firstBody,
      boundaryRefusalAllowed: !b.wellFormed,
      order,
      spectator,
      type: first.type,
      disposition: q.disposition ?? first.disposition,
      attachment: q.attachment,
      xPipingSent: headers.xPipingSent,
      xPipingPrintable: headers.xPipingPrintable
    }
  }

  /** Body pieces for chunked framing. */
  split(payload: Buffer): Array<Buffer> {
    const pieces: Array<Buffer> = []
    let at = 0
    while (at < payload.length) {
      const size = this.r.logInt(1, Math.max(1, payload.length - at))
      pieces.push(payload.subarray(at, at + size))
      at += size
    }
    return pieces
  }

  /** The request in 1–3 writes, cut anywhere (inside the head, a part header, a chunk-size line). */
  writes(request: Buffer): Array<Buffer> {
    const cuts = [
      ...new Set(Array.from({ length: this.r.int(0, 2) }, () => this.r.int(1, Math.max(1, request.length - 1))))
    ].sort((a, b) => a - b)
    const out: Array<Buffer> = []
    let at = 0
    for (const cut of [...cuts, request.length]) {
      if (cut > at) out.push(request.subarray(at, cut))
      at = cut
    }
    return out.length === 0 ? [request] : out
  }
}

// ---- judging ----------------------------------------------------------------------------------------------

/** The file name a Content-Disposition carries: `filename*` decoded when present, else `filename`. */
const parseDisposition = (
  value: string
): {
  readonly type: string
  readonly name: string | undefined
  readonly ext: boolean
  readonly problems: Array<string>
} => {
  const problems: Array<string> = []
  const type = value.split(";")[0]?.trim() ?? ""
  let name: string | undefined
  let ext = false
  const star = /;\s*filename\*\s*=\s*([^;]*)/i.exec(value)
  if (star !== null) {
    ext = true
    const m = /^UTF-8'[A-Za-z0-9-]*'(.*)$/i.exec((star[1] ?? "").trim())
    if (m === null) problems.push(`filename* is not UTF-8''…: ${JSON.stringify(star[1])}`)
    else {
      const bytes = unpct(m[1] ?? "")
      const decoded = bytes === undefined ? undefined : decodeUtf8(bytes)
      if (decoded === undefined) {
        problems.push(`filename* does not decode as percent-encoded UTF-8: ${JSON.stringify(m[1])}`)
      } else name = decoded
    }
  }
  const plain = /;\s*filename\s*=\s*("((?:[^"\\]|\\.)*)"|[^;]*)/i.exec(value)
  if (name === undefined && plain !== null) {
    name = plain[2] !== undefined
      ? plain[2].replace(/\\(.)/g, "$1")
      : (plain[1] ?? "").trim()
  }
  if (name !== undefined && hasStripped(name)) {
    problems.push(`file name keeps a control or bidi character: ${JSON.stringify(name)}`)
  }
  return { type, name, ext, problems }
}

const describeCase = (c: Case): string =>
  `#${c.index} ${c.label}, ${c.order}${c.spectator ? ", spectator" : ""}; receiver GET ${
    showBytes(Buffer.from(c.receiverTarget, "latin1"), 300)
  }; ` +
  `sender ${showBytes(Buffer.concat([...c.senderWrites]), 700)}${
    c.abortAt === undefined ? "" : ` (reset after ${c.abortAt} bytes)`
  }`

/** Checks the head a receiver got (status 200) against the spec's header rules; returns the problems. */
const judgeHead = (c: Case, head: RawHead): Array<string> => {
  const problems: Array<string> = []
  if (!printableAscii(head.statusLine)) {
    problems.push(`status line not printable ASCII: ${JSON.stringify(head.statusLine)}`)
  }
  for (const h of head.headers) {
    if (
      !/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(h.name) ||
      !(h.name.toLowerCase() === "x-piping" ? /^[\t\x20-\x7e\x80-\xff]*$/.test(h.raw) : printableAscii(h.raw))
    ) problems.push(`header-not-printable-ascii: ${JSON.stringify(h.raw.slice(0, 200))}`)
  }
  const type = headValue(head, "content-type") ?? ""
  const media = (type.split(";")[0] ?? "").trim().toLowerCase()
  if (SCRIPTY.test(media)) problems.push(`script-capable Content-Type: ${JSON.stringify(type)}`)
  if (c.type.kind === "exact" && type !== c.type.value) {
    problems.push(`content-type: got ${JSON.stringify(type)}, want ${JSON.stringify(c.type.value)}`)
  }
  if (!/\bsandbox\b/.test(headValue(head, "content-security-policy") ?? "")) {
    problems.push(
      `no Content-Security-Policy: sandbox (got ${JSON.stringify(headValue(head, "content-security-policy"))})`
    )
  }
  if (headValue(head, "x-content-type-options") !== "nosniff") problems.push("no X-Content-Type-Options: nosniff")
  if (headValue(head, "x-robots-tag") !== "none") problems.push("no X-Robots-Tag: none")

  // X-Piping: every printable value, in order; exposed only when sent.
  const got = headValues(head, "x-piping")
  let at = 0
  for (const value of got) if (value === c.xPipingPrintable[at]) at++
  if (at < c.xPipingPrintable.length) {
    problems.push(
      `x-piping: sent printable ${JSON.stringify(c.xPipingPrintable.map((v) => v.slice(0, 40)))}, got ${
        JSON.stringify(got.map((v) => v.slice(0, 40)))
      }`
    )
  }
  const exposed = headValues(head, "access-control-expose-headers").some((v) => /\bx-piping\b/i.test(v))
  if (!c.xPipingSent && exposed) {
    problems.push("expose-without-x-piping: Access-Control-Expose-Headers: X-Piping without any X-Piping sent")
  }
  if (c.xPipingPrintable.length > 0 && !exposed) problems.push("X-Piping sent but not exposed")

  // Content-Disposition.
  const dispositions = headValues(head, "content-disposition")
  const disposition = dispositions[0]
  if (dispositions.length > 1) problems.push(`${dispositions.length} Content-Disposition headers`)
  if (disposition !== undefined) {
    if (hasStripped(disposition)) {
      problems.push(`Content-Disposition with a control or bidi char: ${JSON.stringify(disposition)}`)
    }
    const parsed = parseDisposition(disposition)
    problems.push(
      ...parsed.problems.map((p) =>
        `content-disposition-encoding: ${p} in ${JSON.stringify(disposition.slice(0, 300))}`
      )
    )
    const model = c.disposition
    switch (model.kind) {
      case "absent":
        problems.push(`content-disposition: none sent, got ${JSON.stringify(disposition.slice(0, 200))}`)
        break
      case "passthrough":
        if (disposition !== model.value) {
          problems.push(
            `content-disposition passthrough: sent ${JSON.stringify(model.value)}, got ${JSON.stringify(disposition)}`
          )
        }
        break
      case "name":
        if (parsed.type.toLowerCase() !== model.type.toLowerCase()) {
          problems.push(
            `content-disposition type: got ${JSON.stringify(disposition.slice(0, 200))}, want ${model.type}`
          )
        }
        if (parsed.name !== model.name) {
          problems.push(
            `content-disposition name: got ${JSON.stringify(parsed.name)} from ${
              JSON.stringify(disposition.slice(0, 300))
            }, want ${JSON.stringify(model.name)}`
          )
        }
        if (model.param !== undefined && !disposition.includes(`name="${model.param}"`)) {
          problems.push(`content-disposition lost name="${model.param}": ${JSON.stringify(disposition.slice(0, 200))}`)
        }
        break
      case "query": {
        const want = strip(model.raw)
        if (c.attachment && parsed.type.toLowerCase() !== "attachment") {
          problems.push(`?filename= without attachment: ${JSON.stringify(disposition.slice(0, 100))}`)
        }
        const name = parsed.name ?? ""
        if (codePoints(model.raw) <= 255) {
          if (name !== want) problems.push(`?filename= name: got ${JSON.stringify(name)}, want ${JSON.stringify(want)}`)
        } else if (!want.startsWith(name) || codePoints(name) > 255 || codePoints(name) < 128) {
          problems.push(
            `?filename= of ${codePoints(model.raw)} code points: got ${codePoints(name)} code points ${
              JSON.stringify(name.slice(0, 60))
            }…, want a prefix of at most 255`
          )
        }
        break
      }
      case "any":
        break
    }
  } else if (c.disposition.kind === "passthrough" || c.disposition.kind === "query") {
    problems.push(`content-disposition missing (want ${c.disposition.kind})`)
  }
  return problems
}

// ---- running a case ---------------------------------------------------------------------------------------

type Outcome = "exact" | "broken" | "refused" | "hang" | "crash"

interface CaseResult {
  readonly outcome: Outcome
  readonly failures: ReadonlyArray<string>
}

const stateWithReceiver = (events: ReadonlyArray<PipeEvent>): boolean =>
  events.some((e) => e.event === "state" && e.receivers >= 1)

/** Resolves when the spectator has seen a `state` with a receiver (checked on each of its chunks). */
const untilReceiverSeen = (spectator: Spectator, timeoutMs: number): Promise<boolean> =>
  new Promise((resolve) => {
    const check = () => {
      if (!stateWithReceiver(spectator.events)) return
      spectator.res.off("data", check)
      clearTimeout(timer)
      resolve(true)
    }
    const timer = setTimeout(() => {
      spectator.res.off("data", check)
      resolve(false)
    }, timeoutMs)
    spectator.res.on("data", check)
    check()
  })

const serverAlive = (): boolean => {
  try {
    process.kill(server().pid, 0)
    return true
  } catch {
    return false
  }
}

const BOUNDARY_REFUSAL = "[ERROR] A multipart/form-data body needs a boundary.\n"

/**
 * Node's parser answers a request head it cannot parse with a 400 and closes. A client still writing its body
 * then meets a reset, and a reset can make the client's kernel drop that 400 before it is read: the sender
 * sees its connection reset with nothing. Whether that was the parser's refusal is told by the head alone, in
 * one write (nothing unread is left to turn the close into a reset), on a fresh connection.
 */
const parserRefusesHead = async (port: number, request: Buffer): Promise<boolean> => {
  const end = request.indexOf("\r\n\r\n")
  if (end < 0) return false
  const probe = new RawClient(port, request.subarray(0, end + 4))
  await within(probe.closed, 5_000, "the parser's answer to the head alone").catch(() => undefined)
  probe.destroy()
  return probe.head()?.status === 400 && /^HTTP\/1\.1 400 Bad Request\r\nConnection: close\r\n\r\n$/.test(
    probe.data.toString("latin1")
  )
}

const runCase = async (c: Case): Promise<CaseResult> => {
  const port = server().port
  const failures: Array<string> = []
  const fail = (tag: string, detail = ""): void => {
    failures.push(`${tag}${detail === "" ? "" : `: ${detail}`}`)
  }
  let spectator: Spectator | undefined
  let receiver: RawClient | undefined
  let sender: RawClient | undefined
  const receiverRequest = Buffer.from(`GET ${c.receiverTarget} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`, "latin1")
  const startSender = async (): Promise<RawClient> => {
    const client = new RawClient(port)
    const request = Buffer.concat([...c.senderWrites])
    if (c.abortAt !== undefined) {
      client.write(request.subarray(0, c.abortAt))
      return client
    }
    for (const piece of c.senderWrites) {
      client.write(piece)
      await new Promise((resolve) => setImmediate(resolve))
    }
    return client
  }
  /** The sender was refused before joining: Node's own 400 (no app headers, no body), or the boundary refusal. */
  const refusal = (s: RawClient): "node" | "boundary" | "other" | undefined => {
    const head = s.head()
    if (head === undefined || head.status === 200) return undefined
    if (
      (head.status === 400 || head.status === 431) && headValue(head, "access-control-allow-origin") === undefined &&
      s.text() === ""
    ) return "node"
    if (head.status === 400 && c.boundaryRefusalAllowed && s.text() === BOUNDARY_REFUSAL) return "boundary"
    return "other"
  }
  try {
    if (c.spectator) {
      const attempt = await attemptSpectator(server(), `${pipePath(c.name)}?progress`, STEP_MS).catch((
        error: unknown
      ) => error instanceof Error ? error : new Error(String(error)))
      if (attempt instanceof Error) {
        fail("spectator-no-head", attempt.message)
        return { outcome: "hang", failures }
      }
      if (!attempt.admitted) {
        fail(`spectator-refused-${attempt.status}`, JSON.stringify(attempt.body))
        return { outcome: "broken", failures }
      }
      spectator = attempt.spectator
      await within(spectator.firstState, STEP_MS, "spectator's first state")
    }
    if (c.order === "receiver-first") {
      receiver = new RawClient(port, receiverRequest)
      await receiver.connected
      if (spectator !== undefined && !(await untilReceiverSeen(spectator, STEP_MS))) {
        fail("spectator never saw the waiting receiver")
      }
      sender = await startSender()
    } else {
      sender = await startSender()
    }
    const s = sender
    // The sender's head comes at once (200 and its first line, or a refusal), whoever came first.
    const answered = await s.until(
      () => s.text().includes("[INFO] ") || (s.head() !== undefined && s.head()?.status !== 200),
      STEP_MS
    )
    if (!answered && !s.isClosed) {
      return {
        outcome: "hang",
        failures: [
          `hang-sender-head: the sender got no head and no [INFO] line within ${STEP_MS} ms (got ${
            showBytes(s.data, 300)
          })`
        ]
      }
    }
    if (c.order === "sender-first" && refusal(s) === undefined && !s.isClosed) {
      receiver = new RawClient(port, receiverRequest)
    }

    if (c.abortAt !== undefined) {
      // Reset the sender once it is paired with its receiver (or refused, or gone).
      await s.until(() => /connected\./.test(s.text()) || refusal(s) !== undefined, STEP_MS)
      if (refusal(s) === undefined) s.socket.resetAndDestroy()
    }

    const refused = refusal(s)
    if (refused !== undefined) {
      await s.until(() => s.complete(), STEP_MS)
      if (refused === "other") {
        fail(`sender-refused-${s.head()?.status}`, `${JSON.stringify(s.head()?.statusLine)} ${showBytes(s.data, 400)}`)
      }
      receiver?.destroy()
      if (receiver !== undefined && receiver.data.length > 0) {
        fail("receiver got bytes though its sender was refused", showBytes(receiver.data, 200))
      }
      return { outcome: "refused", failures }
    }
    if (receiver === undefined) {
      if (s.data.length === 0 && s.error === "ECONNRESET") {
        if (await parserRefusesHead(port, Buffer.concat([...c.senderWrites]))) return { outcome: "refused", failures }
      }
      fail("sender-closed-before-joining", `${s.error ?? "closed"} ${showBytes(s.data, 400)}`)
      return { outcome: "broken", failures }
    }

    // ---- the receiver ----
    const r = receiver
    const settled = await r.until(() => r.complete() || r.isClosed, STEP_MS)
    if (!settled) {
      fail(
        "hang-receiver",
        `neither a complete body nor a closed socket within ${STEP_MS} ms (head ${
          JSON.stringify(r.head()?.statusLine)
        }, ${r.data.length} bytes; sender so far ${showBytes(s.data, 400)})`
      )
      return { outcome: "hang", failures }
    }
    const head = r.head()
    const body = r.body()
    const exact = head?.status === 200 && body?.complete === true && body.body.equals(c.body)
    if (head !== undefined && head.status === 200) failures.push(...judgeHead(c, head))
    if (head !== undefined && head.status !== 200) fail(`receiver-status-${head.status}`, showBytes(r.data, 300))
    if (head === undefined && r.data.length > 0) {
      fail("receiver got bytes that are not an HTTP response", showBytes(r.data, 200))
    }
    if (body?.malformed === true) {
      fail("receiver-malformed-framing", showBytes(r.data.subarray(head?.bodyStart ?? 0), 200))
    }
    if (head?.status === 200 && body?.complete === true && !exact) {
      fail(
        "receiver-wrong-bytes",
        `${body.body.length} bytes, want ${c.body.length} (${showBytes(body.body, 80)} vs ${showBytes(c.body, 80)})`
      )
    }
    if (c.expect === "exact" && !exact) {
      fail(
        "exact-expected-but-broken",
        `receiver head ${JSON.stringify(head?.statusLine)} ${body?.body.length ?? 0}/${c.body.length} bytes, closed (${
          r.error ?? "FIN"
        })`
      )
    }
    if (c.expect === "break" && body?.complete === true && head?.status === 200) {
      fail("break-expected-but-complete", `the receiver got a complete 200 of ${body.body.length} bytes`)
    }
    // A complete receiver says goodbye (our FIN): the server may then say the transfer succeeded.
    r.end()
    if (!(await r.untilClosed(STEP_MS))) fail("receiver socket not closed by the server after our FIN")

    // ---- the sender ----
    let senderText = ""
    if (c.abortAt === undefined) {
      const ended = await s.until(() => s.complete() || s.isClosed, STEP_MS)
      senderText = s.text()
      if (!ended) {
        fail(
          "hang-sender",
          `the sender's response did not end within ${STEP_MS} ms: ${JSON.stringify(senderText.slice(-300))}`
        )
        return { outcome: "hang", failures }
      }
      const success = senderText.includes("[INFO] All receiver(s) received successfully.\n")
      if (exact && c.expect !== "either" && !success) {
        fail("sender-not-told-success", JSON.stringify(senderText.slice(-300)))
      }
      if (!exact && success) fail("sender-told-success-of-a-broken-transfer", JSON.stringify(senderText.slice(-300)))
      if (s.head()?.status !== 200) fail(`sender-status-${s.head()?.status}`, showBytes(s.data, 300))
    }

    // ---- the spectator ----
    if (spectator !== undefined) {
      const done = await within(spectator.done, STEP_MS, "done").catch((error: unknown) =>
        error instanceof Error ? error : new Error(String(error))
      )
      if (done instanceof Error) fail("spectator-no-done", done.message)
      else if (c.expect === "exact" && exact && !done.ok) {
        fail("done-ok-false-for-an-exact-transfer", JSON.stringify(done))
      } else if (!exact && done.ok) fail("done-ok-true-for-a-broken-transfer", JSON.stringify(done))
    }
    return { outcome: exact ? "exact" : "broken", failures }
  } finally {
    spectator?.close()
    receiver?.destroy()
    sender?.destroy()
    if (!serverAlive()) failures.push("CRASH: the server process is gone")
  }
}

// ---- the test ---------------------------------------------------------------------------------------------

/** Log lines that say something escaped: an uncaught exception, an unhandled rejection, a defect, a stack trace. */
const logProblems = (logFile: string): Array<string> => {
  const lines = readFileSync(logFile, "utf8").split("\n").filter((l) => l !== "")
  return lines.slice(2).flatMap((line) => {
    let parsed: { message?: unknown; level?: unknown } | undefined
    try {
      parsed = JSON.parse(line) as { message?: unknown; level?: unknown }
    } catch {
      parsed = undefined
    }
    if (parsed === undefined) {
      return /uncaught|unhandled|error|exception|^\s+at |warning/i.test(line)
        ? [line.slice(0, 400)]
        : []
    }
    const text = JSON.stringify(parsed)
    return parsed.level === "FATAL" || /uncaught|unhandled|defect|exception/i.test(text) ? [text.slice(0, 400)] : []
  })
}

describe("robustness fuzz: hostile senders and receivers that do join a pipe", () => {
  it(
    `${CASES} seeded transfers: exact bytes or a visible break, safe headers, no crash, no hang, nothing left`,
    async () => {
      const generator = new Generator(new Random(seed), server().port)
      const cases = Array.from({ length: CASES }, (_, i) => generator.next(i))
      const started = performance.now()
      const tally: Record<Outcome, number> = { exact: 0, broken: 0, refused: 0, hang: 0, crash: 0 }
      const byTag = new Map<string, { count: number; sample: string }>()
      const all: Array<string> = []
      let run = 0
      let stopped: string | undefined
      await pool(cases.length, AT_ONCE, async (i) => {
        const c = cases[i]
        if (c === undefined) return
        if (stopped !== undefined) return
        if (tally.hang >= HANG_BUDGET) stopped = `${tally.hang} hangs`
        else if (performance.now() - started > DEADLINE_MS) stopped = `the ${DEADLINE_MS / 1000} s deadline`
        else if (tally.crash > 0) stopped = "a crash"
        if (stopped !== undefined) return
        const result = await within(runCase(c), CASE_MS, `case #${c.index}`).catch((error: unknown): CaseResult => ({
          outcome: "broken",
          failures: [`harness-error: ${error instanceof Error ? error.message : String(error)}`]
        }))
        run++
        const crashed = result.failures.some((f) => f.startsWith("CRASH"))
        tally[crashed ? "crash" : result.outcome]++
        for (const failure of result.failures) {
          all.push(
            `${failure}\n  case ${describeCase(c)}\n  sender base64 ${
              Buffer.concat([...c.senderWrites]).toString("base64")
            }`
          )
          const tag = failure.split(":")[0] ?? failure
          const entry = byTag.get(tag)
          if (entry === undefined) byTag.set(tag, { count: 1, sample: `${failure}\n      case ${describeCase(c)}` })
          else entry.count++
        }
      })
      const seconds = (performance.now() - started) / 1000

      // ---- after all cases: nothing left behind ----
      const after: Array<string> = []
      if (!serverAlive()) after.push("the server process is gone")
      else {
        await within(expectNothingLeft(server()), 25_000, "nothing left").catch((error: unknown) =>
          after.push(`nothing left: ${error instanceof Error ? error.message : String(error)}`)
        )
        let last = ""
        const metricsSettled = waitFor(
          async () => {
            const m = await within(scrapeMetrics(server()), 5_000, "/metrics")
            const [waiting, s, done, aborted] = [
              sampleValue(m, "pipe_waiting_parties"),
              sampleValue(m, "pipe_transfers_started_total"),
              sampleValue(m, "pipe_transfers_completed_total"),
              sampleValue(m, "pipe_transfers_aborted_total")
            ]
            last = `waiting parties ${waiting}, started ${s}, completed ${done}, aborted ${aborted}`
            return waiting === 0 && s === done + aborted
          },
          { what: "/metrics: waiting parties 0 and started = completed + aborted" }
        )
        await within(metricsSettled, 15_000, "/metrics").catch(() => after.push(`/metrics: ${last}`))
      }
      const log = logProblems(server().logFile)
      if (log.length > 0) after.push(`server log: ${log.length} problem line(s), e.g. ${log.slice(0, 3).join(" | ")}`)

      console.log(
        `fuzz: ${run} cases, seed ${seed}, crashes ${tally.crash}, hangs ${tally.hang}, exact ${tally.exact}, broken ${tally.broken}, refused ${tally.refused}`
      )
      console.log(
        `[fuzz] ${run} cases in ${seconds.toFixed(1)} s, ${AT_ONCE} at a time${
          stopped === undefined ? "" : `; stopped early after ${stopped}`
        }`
      )
      console.log(`[fuzz] after all cases: ${after.length === 0 ? "nothing left, no log problem" : after.join("; ")}`)
      const report = [...byTag].sort((a, b) => b[1].count - a[1].count).map(([tag, { count, sample }]) =>
        `  ${count}× ${tag}\n    e.g. ${sample}`
      )
      if (report.length > 0) {
        const file = artifactPath("fuzz-failures")
        writeFileSync(file, `seed ${seed}\n${all.join("\n")}\n`)
        console.log(`[fuzz] distinct failures (every one in ${file}):\n${report.join("\n")}`)
      }

      expect(stopped, "every case ran").toBeUndefined()
      expect(run).toBe(CASES)
      expect({ crashes: tally.crash, hangs: tally.hang }).toEqual({ crashes: 0, hangs: 0 })
      expect(report, "distinct failures (tag: count and one example)").toEqual([])
      expect(after).toEqual([])
      expect(tally.exact, "most cases are transfers that must succeed").toBeGreaterThan(CASES / 3)
      expect(tally.broken, "and some must break visibly").toBeGreaterThan(CASES / 20)
    },
    150_000
  )
})
