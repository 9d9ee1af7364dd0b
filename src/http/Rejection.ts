import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import type { PipeError } from "../domain/PipeError.js"

/** Every refusal looks the same on the wire: its status, its headers, its one `[ERROR]` line. */
export const rejectionResponse = (error: PipeError): HttpServerResponse.HttpServerResponse =>
  HttpServerResponse.text(`${error.body}\n`, {
    status: error.status,
    contentType: "text/plain",
    headers: "headers" in error ? error.headers : {}
  })
