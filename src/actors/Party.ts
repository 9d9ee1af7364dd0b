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
}

export interface ReceiverParty extends PartyBase {
  readonly role: "receiver"
  readonly res: ServerResponse
  readonly disposition: Disposition
}

export type Party = SenderParty | ReceiverParty

/** Writes a status line to a sender whose response is still open. */
export const tellSender = (sender: SenderParty, line: string): void => {
  if (!sender.res.writableEnded && !sender.res.destroyed) sender.res.write(line)
}

/**
 * Ends the sender's response with a last line. On failure it also closes the connection: a sender whose
 * upload was not read to the end must not keep uploading. The close lingers: we send our FIN and drop what
 * still arrives for a moment, because destroying a socket with unread input sends a reset, and a reset
 * can overtake our last line in a client that reads while it uploads.
 */
export const endSender = (sender: SenderParty, line: string, close: boolean): void => {
  if (sender.res.writableEnded || sender.res.destroyed) return
  sender.res.end(line, () => {
    if (!close || sender.req.complete) return
    const socket = sender.req.socket
    sender.req.resume()
    socket.end()
    setTimeout(() => socket.destroy(), lingerMs).unref()
  })
}

const lingerMs = 2_000
