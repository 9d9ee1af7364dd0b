import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { Layer } from "effect"
import type { PipeClientOptions } from "./PipeClient.js"
import { PipeClient } from "./PipeClient.js"

/**
 * `PipeClient` on Node. Undici, not `node:http`: @effect/platform-node's `node:http` client hands back the
 * response only after the whole request body is written, so a sender could neither read the server's lines
 * while it uploads nor see a 409 before pushing its body into a socket nobody reads. Undici streams the body
 * with backpressure, returns the response as soon as its head arrives, and fails the response stream when
 * the connection breaks or ends short of `Content-Length`.
 */
export const layer = (options: PipeClientOptions): Layer.Layer<PipeClient> =>
  PipeClient.layer(options).pipe(Layer.provide(Layer.mergeAll(NodeHttpClient.layerUndici, NodeFileSystem.layer)))
