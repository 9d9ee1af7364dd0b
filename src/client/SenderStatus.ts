import { Data } from "effect"
import type { WaitTimedOut } from "../domain/PipeError.js"
import { waitTimedOut } from "../domain/PipeError.js"
import { SendFailed } from "./ClientError.js"

/**
 * What a sender learns while it sends: the server's `[INFO]` lines as they come (protocol §3), and how many
 * bytes of the body have gone out so far.
 */
export type SendUpdate = Data.TaggedEnum<{
  /** One `[INFO] …` line of the sender's response, without the prefix. */
  Status: { readonly message: string }
  /** Bytes of the body handed to the connection so far (sampled: the latest count when read). */
  Uploaded: { readonly bytes: number }
}>
export const SendUpdate = Data.taggedEnum<SendUpdate>()

/** The last line of a sender's response when every receiver got everything (protocol §3). */
export const allReceivedMessage = "All receiver(s) received successfully."

export type SenderLine =
  | { readonly _tag: "Info"; readonly message: string }
  | { readonly _tag: "Error"; readonly error: SendFailed | WaitTimedOut }

/**
 * Reads one line of the sender's response. An `[ERROR]` line ends the transfer as a failure: the timeout is
 * the same refusal a receiver gets as a 408 (a waiting sender's 200 is already out when it expires), so it is
 * the same tagged error; the rest are `SendFailed`.
 */
export const parseSenderLine = (line: string): SenderLine => {
  const text = line.trim()
  if (text.startsWith("[ERROR]")) {
    const message = text.slice("[ERROR]".length).trim()
    const timedOut = waitTimedOut()
    return { _tag: "Error", error: message === timedOut.message ? timedOut : new SendFailed({ message }) }
  }
  return { _tag: "Info", message: text.startsWith("[INFO]") ? text.slice("[INFO]".length).trim() : text }
}
