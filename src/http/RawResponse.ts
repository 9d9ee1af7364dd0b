import * as HttpServerResponse from "effect/http/HttpServerResponse"
import type { NodeWire, WireResponse } from "../transfer/NodeWire.js"
import { breakResponse } from "../transfer/NodeWire.js"

/**
 * What a handler returns after it answered on the Node socket itself (a sender's or receiver's response,
 * an SSE stream). The platform writes a returned response unless the Node one has ended; a response we
 * broke on purpose (destroyed, or its h2 stream reset, so the client sees the failure) has not, and writing
 * to it would throw or, worse, end it cleanly. So make sure it counts as ended, then hand back an empty
 * response to be ignored.
 */
export const answeredDirectly = (wire: NodeWire): HttpServerResponse.HttpServerResponse => {
  const res: WireResponse = wire.res
  if (!res.writableEnded) {
    breakResponse(wire)
    res.end()
  }
  return HttpServerResponse.empty()
}
