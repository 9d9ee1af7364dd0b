/**
 * Server text made safe for the markup it lands in. Every string a page interpolates goes through one of
 * these: a path, a file name or an error message is whatever a client chose to send.
 */

const entities: Readonly<Record<string, string>> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  "\"": "&quot;",
  "'": "&#39;"
}

/** Text for HTML content and (quoted) attribute values. */
export const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (c) => entities[c] ?? c)

/**
 * JSON for a `<script type="application/json">` data block: `<`, `>` and `&` become `\u003c`…, so no
 * `</script>` or `<!--` can end or change the block whatever the strings hold; U+2028/2029 likewise.
 */
export const embedJson = (value: unknown): string =>
  JSON.stringify(value).replace(
    /[<>&\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`
  )
