import type { ClientRequest, IncomingMessage } from "node:http"
import { expect } from "vitest"
import { BodyReader, openRequest, request } from "./http.js"
import { waitForProbe, waitForReceivers } from "./pipe.js"
import type { ServerHandle } from "./server.js"
import { within } from "./wait.js"

/** A sender holding a path: its request is open (chunked), its 200 head is in, and its body lines are read. */
export interface HeldSender {
  readonly req: ClientRequest
  readonly res: IncomingMessage
  readonly lines: BodyReader
}

/** Opens a sender (PUT, chunked, no body yet) and awaits its 200 head and the server seeing it wait. */
export const holdSender = async (
  server: ServerHandle,
  path: string,
  headers: Readonly<Record<string, string>> = {}
): Promise<HeldSender> => {
  const { req, response } = openRequest(server.url, path, { method: "PUT", headers })
  req.flushHeaders()
  const res = await within(response, 5_000, `sender head on ${path}`)
  expect(res.statusCode, `waiting sender on ${path}`).toBe(200)
  const lines = new BodyReader(res)
  await lines.waitForText("[INFO] Waiting for ")
  return { req, res, lines }
}

/** A receiver waiting on a path (no response yet). */
export interface HeldReceiver {
  readonly req: ClientRequest
  readonly response: Promise<IncomingMessage>
}

/** Opens a receiver and awaits the HEAD probe counting it (`k` receivers waiting afterwards). */
export const holdReceiver = async (server: ServerHandle, path: string, k = 1): Promise<HeldReceiver> => {
  const { req, response } = openRequest(server.url, path)
  req.end()
  await waitForReceivers(server, path.split("?")[0] ?? path, k)
  return { req, response }
}

/** Starts a transfer on `path` that stays streaming (one chunk sent, the sender still open) until `finish()`. */
export const holdStreaming = async (server: ServerHandle, path: string) => {
  const sender = await holdSender(server, path)
  const { req, response } = openRequest(server.url, path)
  req.end()
  sender.req.write("first chunk\n")
  const receiver = new BodyReader(await within(response, 5_000, "receiver head"))
  await receiver.waitForText("first chunk\n")
  await waitForProbe(server, path, (p) => p.state === "streaming", "streaming")
  return {
    sender,
    receiver,
    finish: async (): Promise<void> => {
      sender.req.end()
      await receiver.complete
      await sender.lines.complete
    }
  }
}

/** Completes the transfer of a held sender with `n` receivers, so the path ends cleanly (not by a disconnect). */
export const finishSender = async (server: ServerHandle, held: HeldSender, path: string, n = 1): Promise<void> => {
  const query = n === 1 ? "" : `?n=${n}`
  const receivers = Array.from({ length: n }, () => request(server.url, `${path}${query}`))
  held.req.end("done")
  for (const reply of await Promise.all(receivers)) expect([reply.status, reply.text]).toEqual([200, "done"])
  await held.lines.complete
}

/** Completes the transfer of held receivers with a sender, so the path ends cleanly (not by a disconnect). */
export const finishReceivers = async (
  server: ServerHandle,
  held: ReadonlyArray<HeldReceiver>,
  path: string,
  n = 1
): Promise<void> => {
  const query = n === 1 ? "" : `?n=${n}`
  const sender = await request(server.url, `${path}${query}`, { method: "PUT", body: "done" })
  expect(sender.status).toBe(200)
  for (const r of held) {
    const res = await r.response
    expect(res.statusCode).toBe(200)
    expect((await new BodyReader(res).complete).toString()).toBe("done")
  }
}
