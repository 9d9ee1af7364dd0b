import type { ServerResponse } from "node:http"
import { Socket } from "node:net"
import type { NodeWire } from "./NodeWire.js"
import { breakResponse } from "./NodeWire.js"
import type { Sink } from "./Relay.js"

/**
 * A receiver's response as a relay sink. Over HTTP/1 it is answered with `Connection: close` (see
 * `receiverHeaders`); an h2 stream has its own end (see `h2Sink`).
 *
 * Knowing that a receiver got everything: our last byte leaving Node only means it reached our kernel's send
 * buffer, megabytes before the receiver read it. A client reads the end of the body before it closes a
 * `Connection: close` response, so its FIN after our last byte says it did; a client that dies with data
 * unread resets instead. Node would destroy the socket right after our own FIN and never hear the peer's, so
 * this socket only half-closes and waits for the peer to finish (bounded by the transfer's stall timeout).
 *
 * Through a proxy the peer is the proxy, and HAProxy closes a server connection it is done with by a reset
 * (`SO_LINGER` 0, no TIME_WAIT on its side) as soon as it has read the whole body: measured, every receiver
 * through HAProxy 2.6 ended so, and its sender was told `All receiver(s) aborted halfway.` after a complete
 * transfer. So for a proxied request the proxy having taken the end is what the server can know: a close after
 * our last byte has left counts as read. (Whether the proxy's client read it, only the proxy can tell.)
 */
export const receiverSink = (wire: NodeWire, closeDelimited: boolean, proxied = false): Sink =>
  wire.protocol === "h2" ? h2Sink(wire) : h1Sink(wire.res, closeDelimited, proxied)

const h1Sink = (res: ServerResponse, closeDelimited: boolean, proxied: boolean): Sink => {
  const socket = res.socket
  const readEnd = new Promise<boolean>((resolve) => {
    if (socket === null || socket.destroyed) return resolve(false)
    let peerFinished = false
    socket.destroySoon = () => {
      if (socket.writable) socket.end()
    }
    socket.once("end", () => {
      peerFinished = true
    })
    socket.once("close", () => resolve((peerFinished || proxied) && res.writableFinished))
  })
  return {
    stream: res,
    readEnd,
    // A close-delimited body (an HTTP/1.0 receiver of a chunked sender) ends with a FIN whether it is whole
    // or not: only a reset tells that client its transfer broke.
    break: () => {
      const tcp = closeDelimited && socket !== null ? tcpOf(socket) : undefined
      if (tcp !== undefined && !tcp.destroyed) tcp.resetAndDestroy()
      res.destroy()
    }
  }
}

/**
 * The TCP socket a reset goes out on. Over TLS it is the one the TLS socket wraps (Node keeps it as `_parent`;
 * `resetAndDestroy` on the TLS socket itself throws): curl reads a TLS close without `close_notify` as a
 * clean end, so a close-delimited body over TLS needs the reset as much as one over plain TCP (measured: exit
 * 0 on a truncated body with a plain close, 56 with the reset).
 */
const tcpOf = (socket: Socket): Socket | undefined => {
  if (!("encrypted" in socket)) return socket
  const parent: unknown = Reflect.get(socket, "_parent")
  return parent instanceof Socket ? parent : undefined
}

/**
 * A receiver on an h2 stream. There is no `Connection: close` to wait on: the stream closes as soon as our
 * `END_STREAM` has been handed to the connection, and a client that reset it before (it died, or gave up)
 * leaves a code other than `NO_ERROR`. That is what the server can know of an h2 receiver: its stream ended
 * with no reset from the client, so nothing it sent said it lost data. (A client that dies after our last
 * frame left our kernel counts as served, as a proxied HTTP/1 receiver does.) Breaking it resets the stream
 * alone, never the connection, which may carry other pipes.
 */
const h2Sink = (wire: NodeWire & { readonly protocol: "h2" }): Sink => {
  const res = wire.res
  const stream = res.stream
  const noError = process.getBuiltinModule("node:http2").constants.NGHTTP2_NO_ERROR
  const readEnd = new Promise<boolean>((resolve) => {
    if (stream.destroyed) return resolve(false)
    stream.once("close", () => resolve(stream.rstCode === noError && res.writableFinished))
  })
  return { stream: res, readEnd, break: () => breakResponse(wire) }
}
