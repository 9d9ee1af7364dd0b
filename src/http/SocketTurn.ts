import { Effect } from "effect"
import type { Socket } from "node:net"
import type { NodeWire } from "../transfer/NodeWire.js"

/**
 * The requests queued on each socket that wait for its close: one `'close'` listener per socket, however many
 * requests are pipelined on it (10,000 listeners on one socket would be 10,000 closures and a Node warning).
 */
const queuedOn = new WeakMap<Socket, Set<() => void>>()

const onSocketClose = (socket: Socket, listener: () => void): () => void => {
  let queued = queuedOn.get(socket)
  if (queued === undefined) {
    const waiting = new Set<() => void>()
    queuedOn.set(socket, waiting)
    socket.once("close", () => {
      queuedOn.delete(socket)
      for (const closed of waiting) closed()
    })
    queued = waiting
  }
  queued.add(listener)
  const own = queued
  return () => void own.delete(listener)
}

/**
 * Waits until this request's response owns its connection. Requests pipelined on one keep-alive socket are
 * parsed at once, but each response waits for the one before it to end; a pipe party that joined while
 * queued could be answered by nobody and, with no response of its own on the socket, would never be seen
 * leaving (10,000 pipelined GETs made 10,000 ghost receivers). So a queued request joins nothing until its
 * turn, and a socket that closes first ends it (the handler is interrupted like any departed client's).
 * h2 streams never queue: each has its own response from the start.
 */
export const awaitSocketTurn = (wire: NodeWire): Effect.Effect<void> => {
  if (wire.protocol === "h2") return Effect.void
  const { req, res } = wire
  return res.socket !== null ? Effect.void : Effect.callback<void>((resume) => {
    const socket = req.socket
    if (socket.destroyed) return resume(Effect.interrupt)
    const onTurn = () => {
      forget()
      resume(Effect.void)
    }
    const forget = onSocketClose(socket, () => {
      res.off("socket", onTurn)
      resume(Effect.interrupt)
    })
    res.once("socket", onTurn)
    return Effect.sync(() => {
      res.off("socket", onTurn)
      forget()
    })
  })
}
