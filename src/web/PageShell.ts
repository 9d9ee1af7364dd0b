import { escapeHtml } from "./Html.js"

/** A rendered page: what a response carries, without saying how it is sent. */
export interface Page {
  readonly contentType: string
  readonly headers: Record<string, string>
  readonly body: string
}

/** What a page does beyond showing its own markup and nonce'd style; the CSP allows that and no more. */
export interface Capabilities {
  /** Runs its nonce'd script, which talks to this origin only (fetch, XHR, EventSource). */
  readonly script: boolean
  /** Shows `blob:` URLs as images too, not only `data:`. */
  readonly blobImages: boolean
  /** Posts forms to this origin. */
  readonly forms: boolean
}

/** The Content-Security-Policy of a page: nothing loads from elsewhere, nothing runs without the nonce. */
export const contentSecurityPolicy = (nonce: string, can: Capabilities): string =>
  [
    "default-src 'none'",
    can.script ? `script-src 'nonce-${nonce}'` : "script-src 'none'",
    `style-src 'nonce-${nonce}'`,
    can.script ? "connect-src 'self'" : undefined,
    can.blobImages ? "img-src data: blob:" : "img-src data:",
    "base-uri 'none'",
    can.forms ? "form-action 'self'" : "form-action 'none'",
    "frame-ancestors 'none'"
  ].filter((directive) => directive !== undefined).join("; ")

/** The headers of every page; the nonce is per response, so no cache may keep one. */
export const pageHeaders = (nonce: string, can: Capabilities): Record<string, string> => ({
  "content-security-policy": contentSecurityPolicy(nonce, can),
  "cache-control": "no-store",
  "referrer-policy": "no-referrer",
  "x-content-type-options": "nosniff",
  // For browsers older than `frame-ancestors`.
  "x-frame-options": "DENY"
})

/** The parts of an HTML document that differ from page to page. */
export interface Document {
  readonly title: string
  readonly nonce: string
  readonly css: string
  /** More of `<head>`, as markup: the caller escapes what it interpolates. */
  readonly head?: string
  /** Attributes of `<body>`, escaped here. */
  readonly bodyAttributes?: Readonly<Record<string, string>>
  /** The content of `<body>`, as markup. */
  readonly body: string
  /** The page's one module script, inlined: a bundle the build has checked cannot end its element. */
  readonly script?: string
}

/** The document every page is: the same head, its own nonce'd style, its one script last. */
export const htmlDocument = (doc: Document): string => {
  const nonce = escapeHtml(doc.nonce)
  const attributes = Object.entries(doc.bodyAttributes ?? {}).map(([name, value]) => ` ${name}="${escapeHtml(value)}"`)
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<meta name="referrer" content="no-referrer">
<title>${escapeHtml(doc.title)}</title>${doc.head === undefined ? "" : `\n${doc.head}`}
<style nonce="${nonce}">${doc.css}</style>
</head>
<body${attributes.join("")}>
${doc.body}${doc.script === undefined ? "" : `\n<script type="module" nonce="${nonce}">${doc.script}</script>`}
</body>
</html>
`
}

/** A document as the page that carries it, with the headers its capabilities call for. */
export const htmlPage = (doc: Document, can: Capabilities): Page => ({
  contentType: "text/html; charset=utf-8",
  headers: pageHeaders(doc.nonce, can),
  body: htmlDocument(doc)
})
