import * as Module from "node:module"
import { fileURLToPath } from "node:url"

/**
 * Turns on Node's compile cache for the bundle, kept beside it in `dist/compile-cache` (the build fills it by
 * starting the server once). Parsing a module takes zone memory in proportion to its top level, and a bundle
 * is all top level: the Effect chunk alone took 12 MB of malloc to parse, which glibc keeps resident after it
 * is freed (valgrind massif: `Zone::Expand` under `ParseProgram`, 78% of the peak). With the cache V8 reads the
 * bytecode instead of parsing (measured on the built server: idle RSS 77.3 -> 69.7 MB).
 *
 * Portable, so a `dist/` copied elsewhere (an image layer) still finds it. A cache of another Node version or
 * other V8 flags is rejected by Node and the modules are compiled as usual; a read-only `dist/` is only
 * read. Nothing here can stop the program: a cache that cannot be used is a cache not used.
 */
export const enableCompileCache = (): void => {
  if (process.env["PIPE_COMPILE_CACHE"] === "0") return
  try {
    const directory = fileURLToPath(new URL("compile-cache/", import.meta.url))
    Module.enableCompileCache({ directory, portable: true })
  } catch {
    // A Node whose compile cache takes no options object, or a directory it cannot make: no cache.
  }
}
