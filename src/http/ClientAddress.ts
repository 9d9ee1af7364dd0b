import { Context, Effect, Layer, Option } from "effect"
import type { HttpServerRequest } from "effect/http/HttpServerRequest"
import { clientAddressOf, firstForwarded, trustsPeer } from "../domain/ForwardedChain.js"
import { ServerConfig } from "../ServerConfig.js"

/** Where a request really comes from, as far as our trusted proxies tell (protocol §11). */
export interface Origin {
  /** The client's address (the per-IP limit's key, the log lines' `client`). */
  readonly ip: string
  /** `X-Forwarded-Proto` of a trusted proxy (`http` or `https`), for the URLs we print. */
  readonly proto: "http" | "https" | undefined
  /** `X-Forwarded-Host` of a trusted proxy, for the URLs we print. */
  readonly host: string | undefined
  /** The request came through one of our trusted proxies (`--trust-proxy`): its peer is the proxy. */
  readonly viaProxy: boolean
}

const untrusted = (peer: string | undefined): Origin => ({
  ip: peer ?? "unknown",
  proto: undefined,
  host: undefined,
  viaProxy: false
})

/**
 * Reads a request's origin. Without `--trust-proxy` every `X-Forwarded-*` header is ignored and the origin is
 * the socket's peer: a client cannot pick its own address, and so cannot escape a per-IP limit or forge a log.
 */
export class ClientAddress extends Context.Service<ClientAddress, {
  readonly of: (request: HttpServerRequest) => Origin
}>()("pipe/http/ClientAddress") {
  static readonly layer = Layer.effect(
    ClientAddress,
    Effect.gen(function*() {
      const { trustProxy } = yield* ServerConfig
      return ClientAddress.of({
        of: (request) => {
          const peer = Option.getOrUndefined(request.remoteAddress)
          if (!trustsPeer(peer, trustProxy)) return untrusted(clientAddressOf(peer, [], []))
          const forwardedFor = request.headers["x-forwarded-for"]
          const proto = firstForwarded(request.headers["x-forwarded-proto"])?.toLowerCase()
          return {
            ip: clientAddressOf(peer, forwardedFor === undefined ? [] : [forwardedFor], trustProxy),
            proto: proto === "https" || proto === "http" ? proto : undefined,
            host: firstForwarded(request.headers["x-forwarded-host"]),
            viaProxy: true
          }
        }
      })
    })
  )
}
