import * as Multipasta from "multipasta"
import { Readable } from "node:stream"
import { requestHeaderText } from "./HeaderText.js"
import type { WireRequest } from "./NodeWire.js"

/** What the receivers get: the bytes and the headers that describe them. */
export interface SenderBody {
  readonly stream: Readable
  readonly contentType: string | undefined
  readonly contentDisposition: string | undefined
  readonly contentLength: number | undefined
}

export const isMultipart = (req: WireRequest) => /^multipart\/form-data\b/i.test(req.headers["content-type"] ?? "")

/** A multipart body we can parse: its `Content-Type` names a boundary. */
export const hasBoundary = (req: WireRequest) =>
  /;\s*boundary=("[^"]+"|[^;\s]+)/i.test(req.headers["content-type"] ?? "")

export const contentLengthOf = (req: WireRequest): number | undefined => {
  const raw = req.headers["content-length"]
  return raw !== undefined && /^\d+$/.test(raw) ? Number(raw) : undefined
}

/**
 * Opens the sender's body for relaying. A plain body is the request itself. A `multipart/form-data` body (a
 * browser form, `curl -F`) relays only its first part, with that part's own headers; the rest is read and
 * dropped so that the sender still completes. Resolves once the receivers' headers are known.
 */
export const openSenderBody = (req: WireRequest): Promise<SenderBody> =>
  isMultipart(req)
    ? firstPart(req)
    : Promise.resolve({
      stream: req,
      contentType: req.headers["content-type"],
      contentDisposition: optionalText(req.headers["content-disposition"]),
      contentLength: contentLengthOf(req)
    })

const optionalText = (latin1: string | undefined) => latin1 === undefined ? undefined : requestHeaderText(latin1)

// Made once: the multipart byte path swaps them around every chunk it parses.
const strictDecode = globalThis.decodeURIComponent
const lenientDecode = (text: string): string => {
  try {
    return strictDecode(text)
  } catch {
    return text
  }
}

const firstPart = (req: WireRequest): Promise<SenderBody> =>
  new Promise((resolve, reject) => {
    // A sender that left just before its transfer started will never say 'close' again.
    if (req.destroyed) return reject(new Error("sender gone"))
    let opened = false
    let partEnded = false
    const part = new Readable({ read: () => void req.resume() })
    const fail = (error: Error) => {
      if (!opened) reject(error)
      // Once the relay is over nobody listens: an 'error' without a listener would crash the process.
      else if (!partEnded) part.destroy(part.listenerCount("error") > 0 ? error : undefined)
    }
    const headers: Record<string, string> = {}
    for (const [key, value] of Object.entries(req.headers)) if (typeof value === "string") headers[key] = value
    const parser = Multipasta.make({
      headers,
      isFile: () => true,
      maxParts: Infinity,
      onField: () => {},
      onFile: (info) => {
        if (opened) return () => {}
        // multipasta takes a CR followed by anything and then LF for a line end, so `…\r \n\r\n` ends the
        // headers two bytes early and the receivers would get them as data. Such a CR stays in the value it
        // cut short: refusing that part is a visible break instead of silently shifted bytes.
        if (Object.values(info.headers).some((value) => [value].flat().some((text) => text.includes("\r")))) {
          req.off("data", feed)
          req.resume()
          fail(new Error("multipart: a bare CR in the first part's headers"))
          return () => {}
        }
        opened = true
        // The part's own header lines, whole: multipasta's parsed fields keep only the type, not `filename=`.
        const header = (name: string) => {
          const value = info.headers[name]
          return typeof value === "string" && value !== "" ? value : undefined
        }
        resolve({
          stream: part,
          contentType: header("content-type"),
          contentDisposition: header("content-disposition"),
          contentLength: undefined
        })
        return (chunk) => {
          if (partEnded) return
          if (chunk === null) {
            partEnded = true
            part.push(null)
            // Keep reading so the sender can finish its upload; later parts are dropped unparsed.
            req.off("data", feed)
            req.resume()
          } else if (!part.push(chunk)) {
            req.pause()
          }
        }
      },
      onError: (error) => fail(new Error(`multipart: ${error._tag}`)),
      onDone: () => {
        if (!opened) reject(new Error("multipart: no part"))
      }
    })
    // The parser runs inside the request's Node callbacks, and it throws on some hostile part headers (a
    // `filename*` that is not percent-encoding): a throw there would take the whole process down.
    const guarded = (step: () => void) => {
      // multipasta decodes `filename*` with the global `decodeURIComponent`, which throws on `%ZZ`: for the
      // parser's synchronous run only, a malformed one decodes to itself (we read the name ourselves anyway,
      // and ignore a `filename*` that does not decode, see HeaderText).
      globalThis.decodeURIComponent = lenientDecode
      try {
        step()
      } catch (error) {
        req.off("data", feed)
        req.resume()
        fail(new Error(`multipart: ${String(error)}`))
      } finally {
        globalThis.decodeURIComponent = strictDecode
      }
    }
    const feed = (chunk: Buffer) => guarded(() => parser.write(chunk))
    req.on("data", feed)
    req.on("end", () =>
      guarded(() => {
        parser.end()
        // A body that ends inside the preamble or a part's headers makes the parser call neither back.
        if (!opened) reject(new Error("multipart: no part"))
        else if (!partEnded) fail(new Error("multipart: the body ended inside its first part"))
      }))
    req.on("error", (error) => fail(error))
    req.on("close", () => {
      if (!req.complete) fail(new Error("sender aborted"))
    })
  })
