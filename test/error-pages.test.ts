import { describe, expect, it } from "vitest"
import { curl } from "./support/curl.js"
import { type Reply, request } from "./support/http.js"
import { finishReceivers, holdReceiver, holdSender } from "./support/parties.js"
import { pipePath, uniqueName } from "./support/pipe.js"
import { type ServerHandle, useServer } from "./support/server.js"
import { openSse } from "./support/sse.js"

/**
 * Browsers get HTML errors (issue 13): a refusal a browser navigated to (`Accept: text/html`) is a small
 * page with the same status, headers and message and a link home; everyone else (curl, scripts, the SDK)
 * keeps the exact plain `[ERROR] …` line.
 */

/** What Chromium sends on a navigation. */
const browserAccept = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"

const escapeHtml = (text: string) =>
  text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(
    /'/g,
    "&#39;"
  )

/** The page a refused navigation gets: status, message, link home, phone viewport, strict CSP with a nonce. */
const expectErrorPage = (reply: Reply, status: number, message: string) => {
  expect(reply.status).toBe(status)
  expect(reply.headers["content-type"]).toBe("text/html; charset=utf-8")
  expect(reply.headers["access-control-allow-origin"]).toBe("*")
  expect(reply.headers["cache-control"]).toBe("no-store")
  expect(reply.headers["x-content-type-options"]).toBe("nosniff")
  const html = reply.text
  expect(html).toMatch(/^<!doctype html>/)
  expect(html).toContain(`<p class="error" role="alert">${escapeHtml(message)}</p>`)
  expect(html).toContain(`<title>${status} · `)
  expect(html).toMatch(/<a class="btn" href="\/">[^<]+<\/a>/)
  expect(html).toContain(`<meta name="viewport" content="width=device-width, initial-scale=1">`)
  // The site's style under the response's own nonce; nothing runs.
  const csp = String(reply.headers["content-security-policy"])
  const nonce = /style-src 'nonce-([^']+)'/.exec(csp)?.[1]
  expect(nonce).toBeDefined()
  expect(html).toContain(`<style nonce="${nonce ?? "?"}">`)
  expect(csp).toContain("script-src 'none'")
  expect(html).not.toMatch(/<script/i)
}

/** The same refusal, asked without an Accept of text/html (as curl, scripts and the SDK ask) and by a browser. */
const both = async (server: ServerHandle, path: string, options: { method?: string; body?: string } = {}) => {
  const plain = await request(server.url, path, options)
  const html = await request(server.url, path, { ...options, headers: { accept: browserAccept } })
  return { plain, html }
}

const expectPlain = (reply: Reply, status: number, line: string) => {
  expect({ status: reply.status, body: reply.text }).toEqual({ status, body: `[ERROR] ${line}\n` })
  expect(reply.headers["content-type"]).toMatch(/^text\/plain/)
}

describe("refusals: plain for curl, a page for a browser", () => {
  const server = useServer(["--retention", "0s", "--max-spectators", "1"])

  it.each(
    [
      ["400 invalid path", "/api/v1/pipe/a//b", 400, "Invalid pipe path."],
      ["400 invalid query", `${pipePath("q")}?n=abc`, 400, "Invalid query parameter \"n\"."],
      ["404 under /api/", "/api/v2/nothing", 404, "Not found."]
    ] as const
  )("%s", async (_label, path, status, message) => {
    const { html, plain } = await both(server(), path)
    expectPlain(plain, status, message)
    expectErrorPage(html, status, message)
  })

  it("the hint fits the cause: how a path is made for an invalid path, not for an invalid query", async () => {
    const hint = "A pipe path is made of letters"
    const path = await request(server().url, "/a//b", { headers: { accept: browserAccept } })
    const query = await request(server().url, `${pipePath("q")}?n=0x1`, { headers: { accept: browserAccept } })
    expect([path.status, query.status]).toEqual([400, 400])
    expect(path.text).toContain(hint)
    expect(query.text).not.toContain(hint)
  })

  it("405 keeps its Allow header on the page", async () => {
    const path = pipePath(uniqueName("method"))
    const { html, plain } = await both(server(), path, { method: "DELETE" })
    expectPlain(plain, 405, "Unsupported method: DELETE.")
    expectErrorPage(html, 405, "Unsupported method: DELETE.")
    expect(html.headers["allow"]).toBe("GET, HEAD, POST, PUT, OPTIONS")
    expect(html.text).toContain("<code>DELETE /api/v1/pipe/method-")
  })

  it("400 a send to a reserved path: the message names it, escaped", async () => {
    const { html, plain } = await both(server(), "/help", { method: "POST", body: "x" })
    expectPlain(plain, 400, "Cannot send to the reserved path '/help'.")
    expectErrorPage(html, 400, "Cannot send to the reserved path '/help'.")
    expect(html.text).toContain("Cannot send to the reserved path &#39;/help&#39;.")
  })

  it("409 a second sender (a browser form posting to a busy path)", async () => {
    const path = pipePath(uniqueName("busy"))
    const sender = await holdSender(server(), path)
    const message = `Another sender has been connected on '${path}'.`
    const { html, plain } = await both(server(), path, { method: "POST", body: "second" })
    expectPlain(plain, 409, message)
    expectErrorPage(html, 409, message)
    sender.req.destroy()
  })

  it("429 too many spectators (a browser opening the stream itself): the page keeps Retry-After", async () => {
    const path = pipePath(uniqueName("crowd"))
    const spectator = openSse(server(), `${path}?progress`)
    await spectator.next((e) => e.event === "state", "first state")
    const message = `Too many spectators on '${path}' (limit 1).`
    const { html, plain } = await both(server(), `${path}?progress=sse`)
    expectPlain(plain, 429, message)
    expectErrorPage(html, 429, message)
    expect(html.headers["retry-after"]).toBe("5")
    // The dashboard is a page of its own, never refused for the crowd: only its stream counts.
    const dashboard = await request(server().url, `${path}?progress`, { headers: { accept: browserAccept } })
    expect(dashboard.status).toBe(200)
    spectator.close()
  })

  it("curl as a user runs it keeps the exact line", async () => {
    const result = await curl(["--path-as-is", `${server().url}/api/v1/pipe/a/../b`])
    expect({ status: result.head?.status, body: result.stdoutText }).toEqual({
      status: 400,
      body: "[ERROR] Invalid pipe path.\n"
    })
    const browser = await curl(["--path-as-is", "-H", `Accept: ${browserAccept}`, `${server().url}/api/v1/pipe/a/../b`])
    expect(browser.head?.status).toBe(400)
    expect(browser.stdoutText).toContain("Invalid pipe path.")
    expect(browser.stdoutText).toContain(`href="/"`)
  })

  it("hostile text in the path is escaped, never markup", async () => {
    const hostile = `/x/"'><script>alert(1)</script><img/src=x/onerror=alert(2)>&amp;`
    const reply = await request(server().url, hostile, { headers: { accept: "text/html" } })
    expectErrorPage(reply, 400, "Invalid pipe path.")
    expect(reply.text).not.toContain("<script>alert(1)")
    expect(reply.text).not.toContain("<img/src=x")
    expect(reply.text).toContain(`<code>GET ${escapeHtml(hostile)}</code>`)
    // The query is never shown: it may carry a token.
    const withQuery = await request(server().url, "/a//b?token=s3cret", { headers: { accept: "text/html" } })
    expect(withQuery.status).toBe(400)
    expect(withQuery.text).not.toContain("s3cret")
  })
})

describe("503 for a browser", () => {
  const server = useServer(["--retention", "0s", "--max-pipes", "1"])

  it("the server holds its limit of pipes: a page with Retry-After, curl the line", async () => {
    const held = pipePath(uniqueName("held"))
    const receiver = await holdReceiver(server(), held)
    const message = "The server holds its limit of 1 pipes; try again later."
    const { html, plain } = await both(server(), pipePath(uniqueName("more")))
    expectPlain(plain, 503, message)
    expectErrorPage(html, 503, message)
    expect(html.headers["retry-after"]).toBe("5")
    await finishReceivers(server(), [receiver], held)
  })
})
