import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import { randomBytes } from "node:crypto"
import { readFileSync } from "node:fs"
import type { Snapshot } from "../schema/Snapshot.js"
import { dashboardHeaders, renderDashboard } from "./dashboard/page.js"

export { escapeHtml } from "./dashboard/page.js"

const clientUrl = new URL("./dashboard/client.js", import.meta.url)

let clientScript: string | undefined

/**
 * The compiled browser script (`npm run build` emits it next to this module), read once. It must be one
 * self-contained module: no runtime import (the CSP would block it anyway), nothing that could end the
 * inline `<script>` element early.
 */
const loadClientScript = (): string => {
  if (clientScript !== undefined) return clientScript
  const text = readFileSync(clientUrl, "utf8").replace(/^\/\/# sourceMappingURL=.*$/m, "").trimEnd()
  if (/<\/script|<!--/i.test(text)) throw new Error(`${clientUrl.pathname} cannot be inlined in a <script> element`)
  if (/^\s*import\s*[\s{*"']/m.test(text)) throw new Error(`${clientUrl.pathname} has a runtime import`)
  clientScript = text
  return text
}

/**
 * The live dashboard of a path (protocol §4.3): rendered in the snapshot's state, then kept current by the
 * inlined client from the same URL's SSE stream. A fresh CSP nonce per response.
 */
export const dashboardPage = (path: string, snapshot: typeof Snapshot.Encoded): HttpServerResponse.HttpServerResponse => {
  const nonce = randomBytes(18).toString("base64")
  return HttpServerResponse.text(renderDashboard({ path, snapshot, nonce, script: loadClientScript() }), {
    contentType: "text/html; charset=utf-8",
    headers: dashboardHeaders(nonce)
  })
}
