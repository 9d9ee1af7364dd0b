/**
 * The pages this server renders, as plain data for src/http to send. Each call is one response: a fresh
 * nonce, and the script the build bundled for the page.
 */
import type { Snapshot } from "../schema/Snapshot.js"
import { browserScripts } from "./BrowserScripts.js"
import { renderDashboard } from "./DashboardPage.js"
import type { ErrorPageInput } from "./ErrorPage.js"
import { renderErrorPage } from "./ErrorPage.js"
import { renderHome } from "./HomePage.js"
import { newNonce } from "./Nonce.js"
import { renderNoscript } from "./NoscriptPage.js"
import type { Page } from "./PageShell.js"
import type { SenderReport } from "./SenderReportPage.js"
import { senderReport } from "./SenderReportPage.js"

export { helpText } from "./HelpText.js"
export type { Page } from "./PageShell.js"
export type { SenderReport } from "./SenderReportPage.js"

/**
 * The live dashboard of a path (protocol §4.3): rendered in the snapshot's state, then kept current by its
 * script from the same URL's SSE stream.
 */
export const dashboardPage = (path: string, snapshot: typeof Snapshot.Encoded): Page =>
  renderDashboard({ path, snapshot, nonce: newNonce(), script: browserScripts.dashboard })

/** `/` for a client that reached this server at `baseUrl`. */
export const homePage = (baseUrl: string): Page => renderHome(baseUrl, newNonce(), browserScripts.home)

/** `/noscript`, in the step `query` asks for. */
export const noscriptPage = (query: URLSearchParams): Page => renderNoscript(query, newNonce())

/** A refusal as a page, for a browser that navigated to it (`Accept: text/html`). */
export const errorPage = (input: Omit<ErrorPageInput, "nonce">): Page =>
  renderErrorPage({ ...input, nonce: newNonce() })

/**
 * The streamed HTML a browser's form POST to `path` gets instead of text (`/noscript`'s result, readable on a
 * phone): for a sender whose request is `multipart/form-data` with `Accept` containing `text/html`.
 */
export const senderReportPage = (path: string): SenderReport => senderReport(path, newNonce())
