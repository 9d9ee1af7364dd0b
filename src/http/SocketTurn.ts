import { Effect } from "effect"
import type { IncomingMessage, ServerResponse } from "node:http"

/**
 * Waits until this request's response owns its connection. Requests pipelined on one keep-alive socket are
 * parsed at once, but each response waits for the one before it to end; a pipe party that joined while
 * queued could be answered by nobody and, with no response of its own on the socket, would never be seen
 * leaving (10,000 pipelined GETs made 10,000 ghost receivers). So a queued request joins nothing until its
 * turn, and a socket that closes first ends it (the handler is interrupted like any departed client's).
 */
export const awaitSocketTurn = (req: IncomingMessage, res: ServerResponse): Effect.Effect<void> =>
  res.socket !== null ? Effect.void : Effect.async<void>((resume) => {
    const socket = req.socket
    const onTurn = () => {
      socket.off("close", onClose)
      resume(Effect.void)
    }
    const onClose = () => {
      res.off("socket", onTurn)
      resume(Effect.interrupt)
    }
    if (socket.destroyed) return resume(Effect.interrupt)
    res.once("socket", onTurn)
    socket.once("close", onClose)
    return Effect.sync(() => {
      res.off("socket", onTurn)
      socket.off("close", onClose)
    })
  })
