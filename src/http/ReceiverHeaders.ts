import type { OutgoingHttpHeaders } from "node:http"
import type { SenderBody } from "./SenderBody.js"

/** Types a browser would execute if served from our origin: relayed as text instead (protocol §3). */
const scriptCapable = new Set([
  "text/html",
  "application/xhtml+xml",
  "image/svg+xml",
  "text/javascript",
  "application/javascript",
  "text/xml",
  "application/xml"
])

export const safeContentType = (contentType: string | undefined): string => {
  // A list (`a/b, text/html`) is read by browsers as its last valid type: never pass one through.
  if (contentType === undefined || contentType.trim() === "" || contentType.includes(",")) {
    return "application/octet-stream"
  }
  const semicolon = contentType.indexOf(";")
  const mediaType = (semicolon === -1 ? contentType : contentType.slice(0, semicolon)).trim().toLowerCase()
  // Any `+xml` type (rss, atom, …) is rendered as an XML document, which may carry XHTML scripts.
  return scriptCapable.has(mediaType) || mediaType.endsWith("+xml")
    ? `text/plain${semicolon === -1 ? "" : contentType.slice(semicolon)}`
    : contentType
}

/** How a receiver asked to get the body: `?download=1`, `?download=0`, `?filename=f`. */
export interface Disposition {
  readonly download: boolean | undefined
  readonly filename: string | undefined
}

const attachment = (kind: "attachment" | "inline", filename: string): string => {
  const clean = filename.replace(/[\u0000-\u001f\u007f"\\/]/g, "_").slice(0, 255)
  const ascii = clean.replace(/[^\x20-\x7e]/g, "_")
  return ascii === clean
    ? `${kind}; filename="${clean}"`
    : `${kind}; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(clean)}`
}

const contentDisposition = (
  sender: string | undefined,
  wanted: Disposition,
  fallbackName: string
): string | undefined => {
  if (wanted.download === undefined && wanted.filename === undefined) return sender
  const kind = wanted.download === false ? "inline" : "attachment"
  const fromSender = sender?.match(/filename="?([^";]+)"?/i)?.[1]
  return attachment(kind, wanted.filename ?? fromSender ?? fallbackName)
}

/** The headers of a receiver's 200: what the sender declared, made safe, plus what the receiver asked for. */
export const receiverHeaders = (
  body: SenderBody,
  xPiping: ReadonlyArray<string>,
  wanted: Disposition,
  fallbackName: string
): OutgoingHttpHeaders => {
  const headers: OutgoingHttpHeaders = {
    "content-type": safeContentType(body.contentType),
    "access-control-allow-origin": "*",
    "access-control-expose-headers": "X-Piping",
    "x-robots-tag": "none",
    "x-content-type-options": "nosniff"
  }
  if (body.contentLength !== undefined) headers["content-length"] = body.contentLength
  const disposition = contentDisposition(body.contentDisposition, wanted, fallbackName)
  if (disposition !== undefined) headers["content-disposition"] = disposition
  if (xPiping.length > 0) headers["x-piping"] = [...xPiping]
  return headers
}
