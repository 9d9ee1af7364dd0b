import * as HttpServerResponse from "@effect/platform/HttpServerResponse"

/** `/noscript`: a send form that works without JavaScript. */
export const noscriptPage = (_query: URLSearchParams) =>
  HttpServerResponse.html(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>pipe: send</title></head>
<body><h1>Send a file</h1><p>Placeholder.</p></body></html>
`)
