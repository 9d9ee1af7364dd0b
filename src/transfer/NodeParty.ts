import type { ReceiverParty, SenderParty } from "../actors/Party.js"
import type { NodeWire, WireResponse } from "./NodeWire.js"
import { endResponse, isGone, isOpen } from "./NodeWire.js"
import type { Disposition } from "./ReceiverHeaders.js"

/**
 * The parties of the data path: what the actor sees (`SenderParty`, `ReceiverParty`) backed by a Node
 * request and response (HTTP/1 or h2, see `NodeWire`), which only this folder ever touches again. A party made here is found back by
 * `nodeSender`/`nodeReceiver` when its transfer runs.
 */

export interface NodeSender {
  readonly wire: NodeWire
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
  readonly wire: NodeWire
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
    gone: () => isGone(sender.wire),
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
    gone: () => isGone(receiver.wire)
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

/**
 * Writes a status line to a sender whose response is still open. `flushed` runs once the line (and every
 * line before it) has been handed to the kernel, or at once if it cannot be written.
 */
export const tellSender = (sender: NodeSender, line: string, flushed?: () => void): void => {
  if (!isOpen(sender.wire)) return flushed?.()
  const text = sender.report === undefined ? line : sender.report.line(line)
  if (sender.held !== undefined) {
    sender.held.push(text)
    return flushed?.()
  }
  const res: WireResponse = sender.wire.res
  res.write(text, flushed === undefined ? undefined : () => flushed())
}

/**
 * Ends the sender's response with a last line. On failure it also stops an upload not read to its end (see
 * `endResponse`): a sender whose body nobody takes must not keep uploading.
 */
export const endSender = (sender: NodeSender, line: string, close: boolean): void => {
  if (!isOpen(sender.wire)) return
  const last = sender.report === undefined ? line : `${sender.report.line(line)}${sender.report.tail}`
  if (sender.held === undefined) return endResponse(sender.wire, last, close)
  const whole = [...sender.held, last].join("")
  const res: WireResponse = sender.wire.res
  res.setHeader("content-length", Buffer.byteLength(whole))
  endResponse(sender.wire, whole, close)
}
