import { readFileSync, rmSync } from "node:fs"
import { artifactPath } from "./artifacts.js"
import { type ChildOptions, type ChildResult, spawnTracked, Tracked } from "./child.js"

/** The final (non-1xx) response head curl wrote with -D. */
export interface Head {
  readonly status: number
  readonly headers: ReadonlyArray<readonly [name: string, value: string]>
}

/** Every value of a header (case-insensitive), in order. */
export const headerValues = (head: Head | undefined, name: string): Array<string> =>
  (head?.headers ?? []).filter(([n]) => n.toLowerCase() === name.toLowerCase()).map(([, v]) => v)

/** The first value of a header (case-insensitive). */
export const header = (head: Head | undefined, name: string): string | undefined => headerValues(head, name)[0]

export interface CurlResult extends ChildResult {
  readonly head: Head | undefined
}

/** Parses a `-D` dump: the last response block that is not 1xx. */
export const parseHeadDump = (dump: string): Head | undefined => {
  const blocks = dump.split(/\r?\n\r?\n/).filter((b) => b.startsWith("HTTP/"))
  const heads = blocks.map((block): Head => {
    const [statusLine = "", ...lines] = block.split(/\r?\n/)
    const headers = lines.flatMap((line): Array<readonly [string, string]> => {
      const colon = line.indexOf(":")
      return colon > 0 ? [[line.slice(0, colon).trim(), line.slice(colon + 1).trim()]] : []
    })
    return { status: Number(statusLine.split(" ")[1]), headers }
  })
  return heads.filter((h) => h.status >= 200).at(-1)
}

/**
 * A real curl process: `curl -sS -N -D <file> <args>`. stdout is hashed and counted as it arrives
 * (-N: no output buffering, so streamed lines can be awaited); the response head is parsed at exit.
 */
export type CurlProcess = Tracked<CurlResult>

export const spawnCurl = (args: ReadonlyArray<string>, options: ChildOptions = {}): CurlProcess => {
  const dumpFile = artifactPath("curl-head")
  return new Tracked("curl", ["-sS", "-N", "-D", dumpFile, ...args], options, (result) => {
    let dump = ""
    try {
      dump = readFileSync(dumpFile, "utf8")
      rmSync(dumpFile)
    } catch {
      // no response at all
    }
    return { ...result, head: parseHeadDump(dump) }
  })
}

export const curl = (args: ReadonlyArray<string>, options: ChildOptions = {}): Promise<CurlResult> =>
  spawnCurl(args, options).result

/** Exit codes with which curl reports a truncated or reset download. */
export const TRUNCATED = [18, 56] as const

/** `bash -o pipefail -c <script>` in its own process group (kill() stops the whole pipeline). */
export const shell = (script: string, options: Omit<ChildOptions, "group"> = {}): Tracked =>
  spawnTracked("bash", ["-o", "pipefail", "-c", script], { ...options, group: true })
