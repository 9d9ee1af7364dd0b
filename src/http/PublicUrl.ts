import type * as Headers from "effect/http/Headers"
import type { Origin } from "./ClientAddress.js"

/**
 * The base URL a client used to reach us, as far as the request tells: its `Host`, and behind a trusted proxy
 * (`--trust-proxy`, protocol §11) that proxy's `X-Forwarded-Proto` and `X-Forwarded-Host`. From anyone else
 * those two are ignored. Without a proxy's word the scheme is the listener's own: `https` with `--tls-cert`.
 */
export const publicBaseUrl = (
  headers: Headers.Headers,
  origin: Origin,
  ownScheme: "http" | "https" = "http"
): string => {
  const proto = origin.proto ?? ownScheme
  const host = (origin.host ?? headers["host"] ?? "localhost").replace(/[^A-Za-z0-9.:[\]-]/g, "")
  return `${proto}://${host}`
}
