import type { OutgoingHttpHeaders } from "node:http"
import { dispositionFileName, formatDisposition, isPrintableAscii, safeDisposition } from "./HeaderText.js"
import type { SenderBody } from "./SenderBody.js"

/**
 * Media types a browser would run script in if served from our origin (HTML, SVG, JavaScript, and every
 * XML or XSLT type, which may carry XHTML or a stylesheet that builds it): relayed as text (protocol §3).
 */
const scriptCapable = /html|xml|xsl|script|svg/

export const safeContentType = (contentType: string | undefined): string => {
  // A list (`a/b, text/html`) is read by browsers as its last valid type: never pass one through. A value
  // Node could not write, or one that is no media type at all, says nothing a receiver can use.
  if (
    contentType === undefined || contentType.includes(",") || !isPrintableAscii(contentType) ||
    !/^\s*[^\s/;]+\/[^\s/;]+\s*(;|$)/.test(contentType)
  ) {
    return "application/octet-stream"
  }
  const semicolon = contentType.indexOf(";")
  const mediaType = (semicolon === -1 ? contentType : contentType.slice(0, semicolon)).trim().toLowerCase()
  return scriptCapable.test(mediaType)
    ? `text/plain${semicolon === -1 ? "" : contentType.slice(semicolon)}`
    : contentType
}

/** How a receiver asked to get the body: `?download=1`, `?download=0`, `?filename=f`. */
export interface Disposition {
  readonly download: boolean | undefined
  readonly filename: string | undefined
}

const contentDisposition = (
  sender: string | undefined,
  wanted: Disposition,
  fallbackName: string
): string | undefined => {
  if (wanted.download === undefined && wanted.filename === undefined) return safeDisposition(sender)
  const kind = wanted.download === false ? "inline" : "attachment"
  return formatDisposition(kind, wanted.filename ?? dispositionFileName(sender) ?? fallbackName)
}

/**
 * The headers of a receiver's 200: what the sender declared, made safe, plus what the receiver asked for.
 * `Connection: close` makes every client close its connection once it has read the end, which is how the
 * server knows a receiver got everything (see `Relay.ts`). The sandbox CSP keeps whatever the body is from
 * running as our origin, even where a browser sniffs or renders a type we did not foresee.
 *
 * Over h2 there is no `Connection` header (RFC 9113 §8.2.2 forbids it, Node refuses it): the stream's own
 * end is the receipt there (see `receiverSink`).
 */
export const receiverHeaders = (
  body: SenderBody,
  xPiping: ReadonlyArray<string>,
  wanted: Disposition,
  fallbackName: string,
  h2 = false
): OutgoingHttpHeaders => {
  const headers: OutgoingHttpHeaders = {
    "content-type": safeContentType(body.contentType),
    "access-control-allow-origin": "*",
    "x-robots-tag": "none",
    "x-content-type-options": "nosniff",
    "content-security-policy": "sandbox",
    ...(h2 ? {} : { connection: "close" })
  }
  if (body.contentLength !== undefined) headers["content-length"] = body.contentLength
  const disposition = contentDisposition(body.contentDisposition, wanted, fallbackName)
  if (disposition !== undefined) headers["content-disposition"] = disposition
  if (xPiping.length > 0) {
    // Relayed byte for byte (Node writes these Latin-1 strings back as the bytes it read).
    headers["x-piping"] = [...xPiping]
    headers["access-control-expose-headers"] = "X-Piping"
  }
  return headers
}
