import { Brand, Option } from "effect"

/**
 * A pipe's name: what follows `/api/v1/pipe/` (or `/` for the bare alias), percent-decoded and validated.
 * Two URLs denote the same pipe exactly when their names are equal.
 */
export type PipeName = string & Brand.Brand<"PipeName">
export const PipeName = Brand.nominal<PipeName>()

const maxBytes = 512
const segmentPattern = /^[A-Za-z0-9._~-]+$/

const decodeSegment = (raw: string): Option.Option<string> => {
  try {
    return Option.some(decodeURIComponent(raw))
  } catch {
    return Option.none()
  }
}

/**
 * Validates the raw, still percent-encoded name exactly as the client sent it: segment by segment, so that
 * neither `..` nor `%2e%2e` nor an encoded `/` can ever be normalised into another pipe's name.
 */
export const parsePipeName = (raw: string): Option.Option<PipeName> => {
  const segments: Array<string> = []
  for (const rawSegment of raw.split("/")) {
    const segment = decodeSegment(rawSegment)
    if (Option.isNone(segment)) return Option.none()
    const value = segment.value
    if (!segmentPattern.test(value) || value === "." || value === "..") return Option.none()
    segments.push(value)
  }
  const name = segments.join("/")
  return Buffer.byteLength(name) >= 1 && Buffer.byteLength(name) <= maxBytes
    ? Option.some(PipeName(name))
    : Option.none()
}
