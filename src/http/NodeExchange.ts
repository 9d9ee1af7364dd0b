import * as NodeHttpServerRequest from "@effect/platform-node/NodeHttpServerRequest"
import type { HttpServerRequest } from "effect/http/HttpServerRequest"
import type { NodeWire } from "../transfer/NodeWire.js"
import { wireOf } from "../transfer/NodeWire.js"

/**
 * The Node request and response under a platform request: the data path works on them directly. Over
 * HTTP/1.x (plain or TLS) they are `node:http`'s objects, over h2 `node:http2`'s compatibility ones, which
 * the platform serves as they are (see `NodeListener`).
 */
export const nodeExchange = (request: HttpServerRequest): NodeWire =>
  wireOf(NodeHttpServerRequest.toIncomingMessage(request), NodeHttpServerRequest.toServerResponse(request))
