// `node:tls` and `node:https`, loaded on first use instead of at start. Nothing in `pipe server` speaks TLS
// (yet), but the platform and `ws` import both at module load, and initialising TLS costs RSS (measured on
// Node 24: `require("http")` 47 MB, then `require("tls")` +5.6 MB alone; in the bundled server, idle RSS
// 81.3 -> 79.4 MB). Each import or require of them in the bundle gets a stand-in whose properties load the
// real module when first read; its property names are taken from the real module at build time, so
// `import * as Tls` sees the same shape.
import { createRequire } from "node:module"

const require = createRequire(import.meta.url)
const lazy = ["tls", "https"]

const standIn = (name) => {
  const keys = JSON.stringify(Object.getOwnPropertyNames(require(`node:${name}`)))
  return `"use strict"
let real
const load = () => real ??= process.getBuiltinModule("node:${name}")
const keys = ${keys}
module.exports = new Proxy({}, {
  get: (_, key) => load()[key],
  set: (_, key, value) => { load()[key] = value; return true },
  has: (_, key) => keys.includes(key),
  ownKeys: () => keys,
  getOwnPropertyDescriptor: (_, key) =>
    keys.includes(key) ? { configurable: true, enumerable: true, get: () => load()[key] } : undefined
})
`
}

export const lazyBuiltins = () => ({
  name: "lazy-builtins",
  setup(build) {
    const filter = new RegExp(`^(node:)?(${lazy.join("|")})$`)
    build.onResolve({ filter }, (args) => ({ path: args.path.replace(/^node:/, ""), namespace: "lazy-builtin" }))
    build.onLoad(
      { filter: /.*/, namespace: "lazy-builtin" },
      (args) => ({ contents: standIn(args.path), loader: "js" })
    )
  }
})
