import { createRequire } from "node:module"

/** The package's version; `package.json` sits one level above both `src/` and `dist/`. */
export const version: string = (createRequire(import.meta.url)("../package.json") as { version: string }).version
