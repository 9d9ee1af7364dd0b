import type * as Headers from "effect/http/Headers"
import type { Origin } from "./ClientAddress.js"

/**
 * The base URL a client used to reach us, as far as the request tells: its `Host`, and behind a trusted proxy
 * (`--trust-proxy`, protocol §11) that proxy's `X-Forwarded-Proto` and `X-Forwarded-Host`. From anyone else
 * those two are ignored.
 */
export const publicBaseUrl = (headers: Headers.Headers, origin: Origin): string => {
  const proto = origin.proto ?? "http"
  const host = (origin.host ?? headers["host"] ?? "localhost").replace(/[^A-Za-z0-9.:[\]-]/g, "")
  return `${proto}://${host}`
}
