import * as HttpServerResponse from "effect/http/HttpServerResponse"
import type { PipeError } from "../domain/PipeError.js"
import { bodyOf, headersOf, statusOf } from "../domain/PipeError.js"

/** Every refusal looks the same on the wire: its status, its headers, its one `[ERROR]` line. */
export const rejectionResponse = (error: PipeError): HttpServerResponse.HttpServerResponse =>
  HttpServerResponse.text(bodyOf(error), {
    status: statusOf(error),
    contentType: "text/plain",
    headers: headersOf(error)
  })
