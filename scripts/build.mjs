// The build: the whole CLI and server bundled by esbuild into dist/, the browser scripts inlined into it.
// One bundle instead of thousands of modules is what keeps an idle server small: Node holds every loaded
// module's source and compiled code, and tree shaking leaves out what `pipe server` never runs. The client
// side (`send`, `receive`, `watch`) is loaded lazily, as its own chunks.
import * as esbuild from "esbuild"
import { spawn } from "node:child_process"
import { rmSync } from "node:fs"
import { webScripts } from "./build-web.mjs"
import { lazyBuiltins } from "./lazy-builtins.mjs"

rmSync("dist", { recursive: true, force: true })

await esbuild.build({
  entryPoints: { main: "src/main.ts" },
  outdir: "dist",
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node22",
  sourcemap: "linked",
  // Whitespace and local names too: Node keeps every loaded module's source text (~2 MB less RSS); the
  // linked source map still gives readable stacks with `node --enable-source-maps`.
  minify: true,
  legalComments: "none",
  chunkNames: "chunks/[name]-[hash]",
  // `ws` probes for these optional native helpers and does without them.
  external: ["bufferutil", "utf-8-validate"],
  // Bundled CommonJS (undici, ws, multipasta) calls `require`; an ES module has none of its own.
  banner: {
    js:
      "import { createRequire as __pipeRequire } from \"node:module\"; const require = __pipeRequire(import.meta.url);"
  },
  plugins: [webScripts(), lazyBuiltins()],
  logLevel: "warning"
})

// The compile cache (src/CompileCache.ts): the server started once on a loopback port and stopped, so that
// every later start reads V8's bytecode instead of parsing the bundle. Best effort: a build that cannot run
// it still works, only without the cache.
await fillCompileCache()

async function fillCompileCache() {
  const server = spawn(process.execPath, ["dist/main.js", "server", "--host", "127.0.0.1", "--port", "0"], {
    stdio: ["ignore", "pipe", "pipe"]
  })
  const exited = new Promise((resolve) => server.once("exit", resolve))
  const listening = new Promise((resolve) => {
    let seen = ""
    server.stdout.on("data", (chunk) => {
      seen += chunk
      if (seen.includes("listening")) resolve(true)
    })
    exited.then(() => resolve(false))
  })
  const timer = setTimeout(() => server.kill("SIGKILL"), 20_000)
  if (await listening) server.kill("SIGTERM")
  await exited
  clearTimeout(timer)
}
