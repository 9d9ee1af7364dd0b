import type { IncomingMessage, ServerResponse } from "node:http"
import type { ReceiverParty, SenderParty } from "../actors/Party.js"
import type { Disposition } from "./ReceiverHeaders.js"

/**
 * The parties of the data path: what the actor sees (`SenderParty`, `ReceiverParty`) backed by a Node
 * request and response, which only this folder ever touches again. A party made here is found back by
 * `nodeSender`/`nodeReceiver` when its transfer runs.
 */

export interface NodeSender {
  readonly req: IncomingMessage
  readonly res: ServerResponse
  /**
   * An HTTP/1.0 sender's lines, held and sent whole with a `Content-Length` when its response ends: a 1.0
   * response has no chunked framing, and 1.0 clients (as piping-server does for them) read it at the end.
   */
  readonly held: Array<string> | undefined
  /** How the lines are written: as they are (text/plain), or as markup of a page a browser form gets. */
  readonly report: SenderReportFormat | undefined
}

/** A sender's lines as a document: the head went out with the headers, each line as `line(…)`, then `tail`. */
export interface SenderReportFormat {
  readonly line: (line: string) => string
  readonly tail: string
}

export interface NodeReceiver {
  readonly res: ServerResponse
  readonly disposition: Disposition
  /** An HTTP/1.0 client: a body of unknown length reaches it close-delimited. */
  readonly http10: boolean
  /**
   * The request came through a proxy (it says so with `X-Forwarded-For`, `Forwarded` or `Via`): the peer that
   * reads our response is the proxy, which may close its side with a reset once it has read the end.
   */
  readonly proxied: boolean
}

const senders = new WeakMap<SenderParty, NodeSender>()
const receivers = new WeakMap<ReceiverParty, NodeReceiver>()

export const makeSenderParty = (sender: NodeSender, client?: string): SenderParty => {
  const party: SenderParty = {
    role: "sender",
    notify: (line) => tellSender(sender, line),
    gone: () => sender.res.destroyed,
    ...(client === undefined ? {} : { client })
  }
  senders.set(party, sender)
  return party
}

export const makeReceiverParty = (receiver: NodeReceiver): ReceiverParty => {
  const party: ReceiverParty = {
    role: "receiver",
    // A receiver reads the body, not status lines.
    notify: () => {},
    gone: () => receiver.res.destroyed
  }
  receivers.set(party, receiver)
  return party
}

export const nodeSender = (party: SenderParty): NodeSender => {
  const found = senders.get(party)
  if (found === undefined) throw new Error("a sender party that the data path did not make")
  return found
}

export const nodeReceiver = (party: ReceiverParty): NodeReceiver => {
  const found = receivers.get(party)
  if (found === undefined) throw new Error("a receiver party that the data path did not make")
  return found
}

const isOpen = (sender: NodeSender) => !sender.res.writableEnded && !sender.res.destroyed

/**
 * Writes a status line to a sender whose response is still open. `flushed` runs once the line (and every
 * line before it) has been handed to the kernel, or at once if it cannot be written.
 */
export const tellSender = (sender: NodeSender, line: string, flushed?: () => void): void => {
  if (!isOpen(sender)) return flushed?.()
  const text = sender.report === undefined ? line : sender.report.line(line)
  if (sender.held !== undefined) {
    sender.held.push(text)
    return flushed?.()
  }
  sender.res.write(text, flushed === undefined ? undefined : () => flushed())
}

/**
 * Ends the sender's response with a last line. On failure it also closes the connection: a sender whose
 * upload was not read to the end must not keep uploading. The close lingers: we send our FIN and drop what
 * still arrives for a moment, because destroying a socket with unread input sends a reset, and a reset
 * can overtake our last line in a client that reads while it uploads.
 */
export const endSender = (sender: NodeSender, line: string, close: boolean): void => {
  if (!isOpen(sender)) return
  const closeIfUnread = () => {
    if (!close || sender.req.complete) return
    const socket = sender.req.socket
    sender.req.resume()
    socket.end()
    setTimeout(() => socket.destroy(), lingerMs).unref()
  }
  const last = sender.report === undefined ? line : `${sender.report.line(line)}${sender.report.tail}`
  if (sender.held === undefined) return void sender.res.end(last, closeIfUnread)
  const whole = [...sender.held, last].join("")
  sender.res.setHeader("content-length", Buffer.byteLength(whole))
  sender.res.end(whole, closeIfUnread)
}

const lingerMs = 2_000
