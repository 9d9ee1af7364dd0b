import { Schema } from "effect"
import { join } from "node:path"
import { PipeEvent } from "../../src/schema/PipeEvent.js"
import { repoRoot } from "./artifacts.js"
import { type ChildOptions, spawnTracked, type Tracked } from "./child.js"

export const mainJs = join(repoRoot, "dist", "main.js")

/** `node dist/main.js <args>`: the built CLI as a real process, stdout hashed (and kept unless `keep: false`). */
export const pipeCli = (args: ReadonlyArray<string>, options: ChildOptions = {}): Tracked =>
  spawnTracked(process.execPath, [mainJs, ...args], options)

/** Single-quotes a word for bash. */
export const q = (word: string): string => `'${word.replace(/'/g, `'\\''`)}'`

/** `node dist/main.js` as a bash word, for pipelines. */
export const pipeCliWords = `${q(process.execPath)} ${q(mainJs)}`

const decodeLine = Schema.decodeUnknownSync(PipeEvent)

/** Every stdout line of `watch --json`, decoded with the protocol's Schema (throws on any other line). */
export const jsonEvents = (stdout: string): Array<PipeEvent> =>
  stdout.split("\n").filter((line) => line !== "").map((line) => decodeLine(JSON.parse(line)))
