// The browser scripts of the pages (src/web/browser), bundled on their own for the browser and handed to the
// server bundle as text: `import dashboardScript from "web-bundle:dashboard"` is the minified script, which
// the page inlines in a nonce'd <script type="module"> element.
import * as esbuild from "esbuild"
import { readFile } from "node:fs/promises"
import { join } from "node:path"
import { fileURLToPath } from "node:url"

const root = fileURLToPath(new URL("../", import.meta.url))
const srcDir = join(root, "src/")

const entries = {
  dashboard: join(srcDir, "web/browser/dashboard.ts"),
  home: join(srcDir, "web/browser/home.ts")
}

/**
 * `import { Schema } from "effect"` as `import * as Schema from "effect/Schema"`, in our own sources. esbuild
 * cannot tree-shake a namespace the barrel re-exports (`export * as Schema`): through the barrel the
 * dashboard's bundle holds all of Schema and what it imports, about four times the size.
 */
const effectModules = {
  name: "effect-modules",
  setup(build) {
    build.onLoad({ filter: /\.ts$/ }, async (args) => {
      if (!args.path.startsWith(srcDir)) return undefined
      const source = await readFile(args.path, "utf8")
      const contents = source.replace(
        /import\s*\{([^}]*)\}\s*from\s*"effect"/g,
        (_, names) =>
          names.split(",").map((name) => name.trim()).filter((name) => name !== "" && !name.startsWith("type "))
            .map((name) => {
              const [imported, local = imported] = name.split(/\s+as\s+/)
              // The barrel's only plain exports (`pipe`, `flow`, …) are those of effect/Function.
              return /^[A-Z]/.test(imported)
                ? `import * as ${local} from "effect/${imported}"`
                : `import { ${name} } from "effect/Function"`
            }).join("\n")
      )
      return { contents, loader: "ts" }
    })
  }
}

/** One browser script, minified; refused when it could end or change the <script> element it goes in. */
const bundle = async (name, entryPoint) => {
  const result = await esbuild.build({
    entryPoints: [entryPoint],
    absWorkingDir: root,
    bundle: true,
    write: false,
    minify: true,
    format: "esm",
    platform: "browser",
    target: "es2020",
    legalComments: "none",
    metafile: true,
    plugins: [effectModules],
    logLevel: "silent"
  })
  const [output] = result.outputFiles
  const script = output.text.trimEnd()
  if (/<\/script|<!--/i.test(script)) throw new Error(`web-bundle:${name} cannot be inlined in a <script> element`)
  if (/^\s*import[\s{*"']|\bimport\s*\(/m.test(script)) throw new Error(`web-bundle:${name} has a runtime import`)
  return { script, inputs: Object.keys(result.metafile.inputs).map((input) => join(root, input)) }
}

/** The esbuild plugin that resolves `web-bundle:NAME` to the bundled script of src/web/browser/NAME.ts. */
export const webScripts = () => ({
  name: "web-scripts",
  setup(build) {
    build.onResolve({ filter: /^web-bundle:/ }, (args) => {
      const name = args.path.slice("web-bundle:".length)
      if (!Object.hasOwn(entries, name)) return { errors: [{ text: `no browser script ${args.path}` }] }
      return { path: name, namespace: "web-bundle" }
    })
    build.onLoad({ filter: /.*/, namespace: "web-bundle" }, async (args) => {
      try {
        const { script, inputs } = await bundle(args.path, entries[args.path])
        return {
          contents: `export default ${JSON.stringify(script)}`,
          loader: "js",
          watchFiles: inputs
        }
      } catch (error) {
        return { errors: [{ text: error instanceof Error ? error.message : String(error) }] }
      }
    })
  }
})
