import { Option } from "effect"
import type { PipeName } from "../domain/PipeName.js"
import { parsePipeName } from "../domain/PipeName.js"

/** The server's own pages and endpoints (protocol §1): GET/HEAD only, never a pipe. */
export const reservedPaths = [
  "/",
  "/noscript",
  "/help",
  "/version",
  "/healthz",
  "/api/v1/pipe/health",
  "/metrics",
  "/favicon.ico",
  "/robots.txt"
] as const
export type ReservedPath = (typeof reservedPaths)[number]

const isReserved = (path: string): path is ReservedPath => (reservedPaths as ReadonlyArray<string>).includes(path)

/** What a request's path denotes. `path` is always the path exactly as the client sent it. */
export type Route =
  | { readonly _tag: "Reserved"; readonly path: ReservedPath; readonly sent: string }
  | { readonly _tag: "Pipe"; readonly path: string; readonly name: PipeName }
  | { readonly _tag: "InvalidPath"; readonly path: string }
  | { readonly _tag: "NotFound"; readonly path: string }
  /** A pipe name whose canonical path is one of ours (`/health` ↔ `/api/v1/pipe/health`): no pipe. */
  | { readonly _tag: "ReservedName"; readonly path: string }

const canonicalPrefix = "/api/v1/pipe/"

/**
 * Classifies the raw request target. It works on the undecoded text the client sent (never on a parsed,
 * dot-segment-resolved URL), so `/a/../b` is refused rather than silently becoming `/b`.
 */
export const route = (rawPath: string): Route => {
  if (rawPath === "/api/v1/pipe") return { _tag: "Reserved", path: "/", sent: rawPath }
  const path = rawPath
  if (isReserved(path)) return { _tag: "Reserved", path, sent: rawPath }
  const raw = path.startsWith(canonicalPrefix)
    ? path.slice(canonicalPrefix.length)
    : path === "/api" || path.startsWith("/api/")
    ? undefined
    : path.slice(1)
  if (raw === undefined) return { _tag: "NotFound", path: rawPath }
  return Option.match(parsePipeName(raw), {
    onNone: () => ({ _tag: "InvalidPath", path: rawPath }),
    onSome: (name) =>
      isReserved(`${canonicalPrefix}${name}`)
        ? { _tag: "ReservedName", path: rawPath }
        : { _tag: "Pipe", path: rawPath, name }
  })
}

/** Splits a request target into its raw path and its query parameters. */
export const splitTarget = (target: string): { readonly path: string; readonly query: URLSearchParams } => {
  const question = target.indexOf("?")
  return question === -1
    ? { path: target, query: new URLSearchParams() }
    : { path: target.slice(0, question), query: new URLSearchParams(target.slice(question + 1)) }
}
