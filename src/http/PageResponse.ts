import * as HttpServerResponse from "effect/http/HttpServerResponse"
import type { Page } from "../web/index.js"

/** A rendered page of src/web as the response that carries it. */
export const pageResponse = (page: Page): HttpServerResponse.HttpServerResponse =>
  HttpServerResponse.text(page.body, { contentType: page.contentType, headers: page.headers })
