import type { Deferred } from "effect"
import type { IncomingMessage, ServerResponse } from "node:http"
import type { ShuttingDown, WaitTimedOut } from "../domain/PipeError.js"
import type { Disposition } from "../http/ReceiverHeaders.js"

/**
 * A sender or receiver that has joined a path. The actor keeps it while it waits and hands it to the
 * transfer; `settled` completes when the party's part is over (or fails when it waited too long).
 */
interface PartyBase {
  readonly id: number
  /** The receiver count this party asked for (`?n`). */
  readonly n: number
  /** The path as this client sent it, for the messages it reads. */
  readonly path: string
  readonly settled: Deferred.Deferred<void, WaitTimedOut | ShuttingDown>
  /** Completes when the party stops waiting: its transfer has started. */
  readonly started: Deferred.Deferred<void>
}

export interface SenderParty extends PartyBase {
  readonly role: "sender"
  readonly req: IncomingMessage
  readonly res: ServerResponse
  /** Expected byte count: `Content-Length` when the body is not multipart, else `?total`. */
  readonly total: number | null
  /**
   * An HTTP/1.0 sender's lines, held and sent whole with a `Content-Length` when its response ends: a 1.0
   * response has no chunked framing, and 1.0 clients (as piping-server does for them) read it at the end.
   */
  readonly held: Array<string> | undefined
}

export interface ReceiverParty extends PartyBase {
  readonly role: "receiver"
  readonly res: ServerResponse
  readonly disposition: Disposition
  /** An HTTP/1.0 client: a body of unknown length reaches it close-delimited. */
  readonly http10: boolean
}

export type Party = SenderParty | ReceiverParty

const isOpen = (sender: SenderParty) => !sender.res.writableEnded && !sender.res.destroyed

/**
 * Writes a status line to a sender whose response is still open. `flushed` runs once the line (and every
 * line before it) has been handed to the kernel, or at once if it cannot be written.
 */
export const tellSender = (sender: SenderParty, line: string, flushed?: () => void): void => {
  if (!isOpen(sender)) return flushed?.()
  if (sender.held !== undefined) {
    sender.held.push(line)
    return flushed?.()
  }
  sender.res.write(line, flushed === undefined ? undefined : () => flushed())
}

/**
 * Ends the sender's response with a last line. On failure it also closes the connection: a sender whose
 * upload was not read to the end must not keep uploading. The close lingers: we send our FIN and drop what
 * still arrives for a moment, because destroying a socket with unread input sends a reset, and a reset
 * can overtake our last line in a client that reads while it uploads.
 */
export const endSender = (sender: SenderParty, line: string, close: boolean): void => {
  if (!isOpen(sender)) return
  const closeIfUnread = () => {
    if (!close || sender.req.complete) return
    const socket = sender.req.socket
    sender.req.resume()
    socket.end()
    setTimeout(() => socket.destroy(), lingerMs).unref()
  }
  if (sender.held === undefined) return void sender.res.end(line, closeIfUnread)
  const whole = [...sender.held, line].join("")
  sender.res.setHeader("content-length", Buffer.byteLength(whole))
  sender.res.end(whole, closeIfUnread)
}

const lingerMs = 2_000
