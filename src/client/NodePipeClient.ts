import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import Undici from "@effect/platform-node/Undici"
import { Effect, Layer } from "effect"
import type { PipeClientOptions } from "./PipeClient.js"
import { PipeClient } from "./PipeClient.js"

/**
 * Undici's connection pool, made here rather than by `NodeHttpClient.layerDispatcher`: that one reaches undici
 * through a dynamic import of `export * from "undici"`, which esbuild's ESM bundle reduces to the default export
 * alone, so `Agent` is missing at run time in dist/. The default export is undici itself, bundled or not.
 */
const dispatcher = Layer.effect(
  NodeHttpClient.Dispatcher,
  Effect.acquireRelease(Effect.sync(() => new Undici.Agent()), (agent) => Effect.promise(() => agent.destroy()))
)

/**
 * `PipeClient` on Node. Undici, not `node:http`: with undici a sender reads the server's lines while it
 * uploads, and sees a 409 before pushing its body into a socket nobody reads. Undici streams the body with
 * backpressure, returns the response as soon as its head arrives, and fails the response stream when the
 * connection breaks or ends short of `Content-Length`.
 */
export const layer = (options: PipeClientOptions): Layer.Layer<PipeClient> =>
  PipeClient.layer(options).pipe(
    Layer.provide(Layer.mergeAll(NodeHttpClient.layerUndiciNoDispatcher, NodeFileSystem.layer)),
    Layer.provide(dispatcher)
  )
