import { Option, Result } from "effect"
import type { InvalidRequest } from "../domain/PipeError.js"
import { invalidPath } from "../domain/PipeError.js"
import { parsePipeName } from "../domain/PipeName.js"

/** The canonical prefix of a pipe's path (protocol §1). */
export const canonicalPrefix = "/api/v1/pipe/"

/**
 * A pipe's name from what a caller names it by: `name`, `a/b`, `/name` (the bare alias) or
 * `/api/v1/pipe/name`. The SDK always talks to the canonical path, so both spellings reach the same pipe.
 */
export const pipeName = (path: string): string => {
  const relative = path.replace(/^\/+/, "")
  const prefix = canonicalPrefix.slice(1)
  return relative.startsWith(prefix) ? relative.slice(prefix.length) : relative
}

/**
 * A name as it goes on the wire: each segment percent-encoded, so that nothing in a name can turn into a
 * query, a fragment or another segment. Valid names (`[A-Za-z0-9._~-]` segments) are unchanged; anything
 * else reaches the server encoded, and the server refuses it with its own 400.
 */
export const encodeName = (name: string): string => name.split("/").map(encodeURIComponent).join("/")

/**
 * The canonical, encoded path of a pipe named as in `pipeName`, checked with the server's own rule first. The
 * check is not only for an early answer: URL parsing (in every HTTP client) resolves `.`/`..` segments, even
 * encoded ones, so `a/../b` would silently become pipe `b` before the server could refuse it.
 */
export const pipePath = (path: string): Result.Result<string, InvalidRequest> => {
  const encoded = encodeName(pipeName(path))
  return Option.isSome(parsePipeName(encoded))
    ? Result.succeed(`${canonicalPrefix}${encoded}`)
    : Result.fail(invalidPath())
}

/** A base URL without its trailing slashes, so that a path can be appended to it. */
export const trimBaseUrl = (baseUrl: string): string => baseUrl.replace(/\/+$/, "")

/** Where a pipe lives: the server's base URL and the pipe's path relative to it. */
export interface PipeLocation {
  readonly baseUrl: string
  readonly path: string
}

const absoluteUrl = /^(https?:\/\/[^/?#]+)([^?#]*)/i

/**
 * Resolves what a user typed: a full pipe URL (`http://host:port/api/v1/pipe/name`, or a bare
 * `http://host/name`), or a path with the server's base URL beside it. The path is taken from the text as
 * typed, never through `new URL`, which would resolve `a/../b` into another pipe before the server could
 * refuse it. A base URL may carry a prefix (a reverse proxy's `/pipe`): it is everything before
 * `/api/v1/pipe/`.
 */
export const resolvePipeUrl = (target: string, server: string | undefined): Result.Result<PipeLocation, string> => {
  const match = absoluteUrl.exec(target.trim())
  if (match !== null) {
    const origin = match[1] ?? ""
    const fullPath = match[2] ?? ""
    if (!URL.canParse(origin)) return Result.fail(`"${target}" is not a valid URL`)
    const at = fullPath.indexOf(canonicalPrefix)
    const location = at === -1
      ? { baseUrl: origin, path: fullPath }
      : { baseUrl: origin + fullPath.slice(0, at), path: fullPath.slice(at) }
    return pipeName(location.path) === ""
      ? Result.fail(`"${target}" names no pipe: add its name, as in ${origin}${canonicalPrefix}<name>`)
      : Result.succeed(location)
  }
  // `ftp://…`, `http:/host`: meant as a URL (no pipe name has a colon), so "give --server" would mislead.
  if (/^[a-z][a-z0-9+.-]*:/i.test(target.trim())) return Result.fail(`"${target}" is not a valid http(s) URL`)
  if (server === undefined || server.trim() === "") {
    return Result.fail(`"${target}" is a path: give the server with --server URL or PIPE_URL, or a full pipe URL`)
  }
  if (!absoluteUrl.test(server.trim())) return Result.fail(`--server "${server}" is not an http(s) URL`)
  return pipeName(target) === ""
    ? Result.fail("the pipe path is empty")
    : Result.succeed({ baseUrl: trimBaseUrl(server.trim()), path: target })
}
