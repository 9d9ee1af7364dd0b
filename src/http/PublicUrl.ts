import type * as Headers from "effect/http/Headers"

/** The base URL a client used to reach us, as far as the request tells (proxies set `X-Forwarded-Proto`). */
export const publicBaseUrl = (headers: Headers.Headers): string => {
  const proto = (headers["x-forwarded-proto"] ?? "http").split(",")[0]?.trim() === "https" ? "https" : "http"
  const host = (headers["host"] ?? "localhost").replace(/[^A-Za-z0-9.:[\]-]/g, "")
  return `${proto}://${host}`
}
