import * as NodeHttpServerRequest from "@effect/platform-node/NodeHttpServerRequest"
import type { HttpServerRequest } from "effect/http/HttpServerRequest"
import type { IncomingMessage, ServerResponse } from "node:http"

/** The Node request and response under a platform request: the data path works on them directly. */
export interface NodeExchange {
  readonly req: IncomingMessage
  readonly res: ServerResponse
}

/**
 * This server listens with `node:http` only (see `NodeListener`), so the platform's HTTP/2 variants never
 * occur; a request from elsewhere is a defect of ours, and becomes a 500 like any other.
 */
export const nodeExchange = (request: HttpServerRequest): NodeExchange => {
  const req = NodeHttpServerRequest.toIncomingMessage(request)
  const res = NodeHttpServerRequest.toServerResponse(request)
  if (!("socket" in res) || !("assignSocket" in res) || "stream" in req) {
    throw new Error("an HTTP/2 request reached the HTTP/1 data path")
  }
  return { req, res }
}
