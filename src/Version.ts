import pkg from "../package.json" with { type: "json" }

/** The package's version, inlined by the bundler (a chunk's own location says nothing of where this sits). */
export const version: string = pkg.version
