import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import type { Snapshot } from "../schema/Snapshot.js"

const escapeHtml = (text: string) =>
  text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)

/** The live dashboard of a path (protocol §4.3). */
export const dashboardPage = (path: string, snapshot: typeof Snapshot.Encoded) =>
  HttpServerResponse.html(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>pipe: ${escapeHtml(path)}</title></head>
<body><h1>${escapeHtml(path)}</h1><p>State: ${escapeHtml(snapshot.state)}</p></body></html>
`)
