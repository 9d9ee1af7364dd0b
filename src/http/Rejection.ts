import * as HttpServerResponse from "effect/http/HttpServerResponse"
import type { PipeError } from "../domain/PipeError.js"
import { bodyOf, headersOf, statusOf } from "../domain/PipeError.js"
import { errorPage } from "../web/index.js"
import { pageResponse } from "./PageResponse.js"
import { wantsHtml } from "./Query.js"

/** The request a refusal answers, as far as its form depends on it. */
export interface Refused {
  readonly accept: string | undefined
  readonly method: string
  /** The path as sent, without the query. */
  readonly path: string
}

/**
 * Every refusal has the same status, headers and message whoever asks. Its one `[ERROR]` line is the body for
 * every client (curl, scripts, the SDK, which reads the line back), except a browser that navigated to it
 * (`Accept: text/html`): it gets that message as a small page with a way home, instead of a bare line.
 */
export const rejectionResponse = (error: PipeError, refused?: Refused): HttpServerResponse.HttpServerResponse => {
  const status = statusOf(error)
  if (refused !== undefined && wantsHtml(refused.accept)) {
    const page = errorPage({
      status,
      message: error.message,
      reason: error.reason,
      method: refused.method,
      path: refused.path
    })
    return pageResponse(page).pipe(
      HttpServerResponse.setStatus(status),
      HttpServerResponse.setHeaders(headersOf(error))
    )
  }
  return HttpServerResponse.text(bodyOf(error), { status, contentType: "text/plain", headers: headersOf(error) })
}
