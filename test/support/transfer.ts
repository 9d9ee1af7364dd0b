import { expect } from "vitest"
import { type CurlProcess, spawnCurl } from "./curl.js"
import type { PrngSource } from "./data.js"
import { waitForNoPipes } from "./pipe.js"
import { socketCount } from "./proc.js"
import type { ServerHandle } from "./server.js"
import { waitFor } from "./wait.js"

/** A curl sender streaming `source` as a chunked upload (`curl -T -`); its stdout holds the server's lines. */
export const curlSender = (
  server: ServerHandle,
  path: string,
  source: PrngSource | Buffer,
  extraArgs: ReadonlyArray<string> = []
): CurlProcess => spawnCurl(["-T", "-", ...extraArgs, `${server.url}${path}`], { stdin: source })

/** A curl receiver whose body is hashed and counted, not kept. */
export const curlReceiver = (server: ServerHandle, path: string, extraArgs: ReadonlyArray<string> = []): CurlProcess =>
  spawnCurl([...extraArgs, `${server.url}${path}`], { keep: false })

/**
 * Nothing left behind: /healthz shows no pipe and no transfer (needs `--retention 0s`), and the server holds
 * no more sockets than right after it started.
 */
export const expectNothingLeft = async (server: ServerHandle): Promise<void> => {
  expect(server.baselineSockets, "the listening socket is counted, so the count means something")
    .toBeGreaterThanOrEqual(1)
  await waitForNoPipes(server)
  let sockets = 0
  await waitFor(() => (sockets = socketCount(server.pid)) <= server.baselineSockets, {
    what: `server sockets back to the baseline of ${server.baselineSockets}`
  }).catch((error: unknown) => {
    throw new Error(`${error instanceof Error ? error.message : String(error)}; still ${sockets} open`)
  })
  expect(sockets).toBeLessThanOrEqual(server.baselineSockets)
}
