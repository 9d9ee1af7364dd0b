/**
 * The one encoder for what a client sent that goes back out in a response header. Node refuses (throws on)
 * any header value outside Latin-1 or with a control character, and a browser reads file names in ways a
 * hostile sender can exploit, so nothing a client sent reaches `writeHead` without passing through here.
 */

/** Printable ASCII: what every header value we write is made of. */
const printable = /^[\x20-\x7e]*$/

export const isPrintableAscii = (text: string): boolean => printable.test(text)

const utf8 = new TextDecoder("utf-8", { fatal: true })

/**
 * A request header as the client's bytes meant it. Node reads header bytes as Latin-1; clients that send a
 * raw file name mostly send UTF-8 (browsers, curl), some Latin-1 (Python's `http.client`). Both are read right.
 */
export const requestHeaderText = (latin1: string): string => {
  if (isPrintableAscii(latin1)) return latin1
  try {
    return utf8.decode(Buffer.from(latin1, "latin1"))
  } catch {
    return latin1
  }
}

/** Controls, and the bidi overrides that make `evil\u202Etxt.exe` display as `evilexe.txt`. */
const unsafeInName = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g

/** Half a surrogate pair, which no encoder can write (`encodeURIComponent` throws on it). */
const loneSurrogate = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g

/** At most 255 code points, never half a surrogate pair, no control or bidi character, no path. */
export const cleanFileName = (name: string): string =>
  Array.from(name.replace(loneSurrogate, "\ufffd").replace(unsafeInName, "").replace(/["\\/]/g, "_")).slice(0, 255)
    .join("")

/** RFC 5987 `attr-char` percent-encoding, from a well-formed string (so it cannot throw). */
const encode5987 = (text: string): string =>
  encodeURIComponent(text).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)

const token = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/

interface Disposition {
  readonly type: string
  readonly params: ReadonlyMap<string, string>
}

/** A tolerant `Content-Disposition` reader: `type; a=b; c="d \" e"`, names lower-cased, first one wins. */
const parseDisposition = (value: string): Disposition => {
  const params = new Map<string, string>()
  const semicolon = value.indexOf(";")
  const type = (semicolon === -1 ? value : value.slice(0, semicolon)).trim().toLowerCase()
  const pattern = /;\s*([^\s=;]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;]*))/g
  for (const match of value.slice(semicolon === -1 ? value.length : semicolon).matchAll(pattern)) {
    const name = match[1]?.toLowerCase()
    const raw = match[2] === undefined ? match[3]?.trim() : match[2].replace(/\\(.)/g, "$1")
    if (name !== undefined && raw !== undefined && !params.has(name)) params.set(name, raw)
  }
  return { type, params }
}

/** `filename*=charset'lang'pct-encoded` (RFC 5987); `undefined` when it does not decode. */
const decode5987 = (value: string): string | undefined => {
  const match = /^([A-Za-z0-9!#$%&+^_`{}~-]*)'[^']*'(.*)$/.exec(value)
  if (match === null) return undefined
  const charset = (match[1] ?? "").toLowerCase()
  const encoded = match[2] ?? ""
  if (!/^(?:[^%]|%[0-9A-Fa-f]{2})*$/.test(encoded)) return undefined
  const bytes = Buffer.from(
    encoded.replace(/%([0-9A-Fa-f]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16))),
    "latin1"
  )
  if (charset === "iso-8859-1") return bytes.toString("latin1")
  if (charset !== "utf-8") return undefined
  try {
    return utf8.decode(bytes)
  } catch {
    return undefined
  }
}

/** The file name a `Content-Disposition` carries (`filename*` first), as Unicode. */
export const dispositionFileName = (value: string | undefined): string | undefined => {
  if (value === undefined) return undefined
  const { params } = parseDisposition(value)
  const extended = params.get("filename*")
  return (extended === undefined ? undefined : decode5987(extended)) ?? params.get("filename")
}

/**
 * `type; filename="ascii fallback"; filename*=UTF-8''…` (RFC 6266): every browser and curl's `-J` read the
 * extended form, older clients get the fallback, and the value is printable ASCII whatever the name was.
 */
export const formatDisposition = (
  type: string,
  fileName: string | undefined,
  fieldName?: string | undefined
): string => {
  const parts = [token.test(type) ? type.toLowerCase() : "attachment"]
  if (fieldName !== undefined) parts.push(`name="${cleanFileName(fieldName).replace(/[^\x20-\x7e]/g, "_")}"`)
  if (fileName !== undefined) {
    const clean = cleanFileName(fileName)
    const ascii = clean.replace(/[^\x20-\x7e]/g, "_")
    parts.push(`filename="${ascii}"`)
    if (ascii !== clean) parts.push(`filename*=UTF-8''${encode5987(clean)}`)
  }
  return parts.join("; ")
}

/**
 * A sender's (or a multipart part's) `Content-Disposition`, made safe to relay. A plain printable-ASCII value
 * without an extended name passes as it is (what piping-server relays); anything else is rebuilt.
 */
export const safeDisposition = (value: string | undefined): string | undefined => {
  if (value === undefined || value.trim() === "") return undefined
  if (isPrintableAscii(value) && !/filename\*/i.test(value)) return value
  const { params, type } = parseDisposition(value)
  return formatDisposition(type, dispositionFileName(value), params.get("name"))
}
