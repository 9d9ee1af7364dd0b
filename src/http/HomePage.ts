import * as HttpServerResponse from "@effect/platform/HttpServerResponse"

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)

/** `/`: what this server is and how to use it from this very host. */
export const homePage = (base: string) =>
  HttpServerResponse.html(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>pipe</title></head>
<body><h1>pipe</h1><p>Stream bytes from a sender to receivers through a URL. Nothing is stored.</p>
<pre>curl -T myfile ${escapeHtml(base)}/api/v1/pipe/mypath
curl ${escapeHtml(base)}/api/v1/pipe/mypath &gt; myfile</pre>
<p>More: <a href="/help">/help</a>, <a href="/noscript">send without JavaScript</a>.</p></body></html>
`)
