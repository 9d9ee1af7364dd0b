import { expect } from "vitest"
import { curl, spawnCurl } from "./curl.js"
import { prngBytes } from "./data.js"
import { sha256 } from "./hash.js"
import { request } from "./http.js"
import type { ServerHandle } from "./server.js"
import { waitFor } from "./wait.js"

let sequence = 0

/** A pipe name no other test uses. */
export const uniqueName = (label: string): string => `${label}-${process.pid}-${Date.now().toString(36)}-${++sequence}`

/** The canonical path of a pipe name. */
export const pipePath = (name: string): string => `/api/v1/pipe/${name}`

export interface Health {
  readonly status: string
  readonly version: string
  readonly uptimeSec: number
  readonly pipes: number
  readonly transfers: number
  readonly spectators: number
}

export const healthz = async (server: ServerHandle): Promise<Health> => {
  const reply = await request(server.url, "/healthz")
  if (reply.status !== 200) throw new Error(`/healthz answered ${reply.status}`)
  return JSON.parse(reply.text) as Health
}

/** Awaits /healthz showing no pipe and no transfer alive (start the server with `--retention 0s`). */
export const waitForNoPipes = (server: ServerHandle, timeoutMs = 10_000): Promise<Health> => {
  let last: Health | undefined
  return waitFor(
    async () => {
      last = await healthz(server)
      return last.pipes === 0 && last.transfers === 0 ? last : undefined
    },
    { what: "/healthz to show pipes 0 and transfers 0", timeoutMs }
  ).catch((error: unknown) => {
    throw new Error(`${error instanceof Error ? error.message : String(error)}; last /healthz: ${JSON.stringify(last)}`)
  })
}

/** The JSON snapshot of a path (§4.2), fields used by the tests. */
export interface Snapshot {
  readonly path: string
  readonly state: string
  readonly sender: boolean
  readonly receivers: number
  readonly expectedReceivers: number
}

export const snapshot = async (server: ServerHandle, path: string): Promise<Snapshot> => {
  const reply = await request(server.url, `${path}?progress=json`, { headers: { accept: "application/json" } })
  if (reply.status !== 200) throw new Error(`snapshot of ${path} answered ${reply.status}`)
  return JSON.parse(reply.text) as Snapshot
}

export interface Probe {
  readonly status: number
  readonly state: string | undefined
  readonly receivers: string | undefined
}

/** The HEAD status probe of a pipe path (takes nothing). */
export const probe = async (server: ServerHandle, path: string): Promise<Probe> => {
  const reply = await request(server.url, path, { method: "HEAD" })
  const one = (name: string): string | undefined => {
    const value = reply.headers[name]
    return Array.isArray(value) ? value[0] : value
  }
  return { status: reply.status, state: one("x-pipe-state"), receivers: one("x-pipe-receivers") }
}

/** Awaits the HEAD probe satisfying `predicate`. */
export const waitForProbe = (
  server: ServerHandle,
  path: string,
  predicate: (p: Probe) => boolean,
  what: string,
  timeoutMs = 10_000
): Promise<Probe> => {
  let last: Probe | undefined
  return waitFor(
    async () => {
      last = await probe(server, path)
      return predicate(last) ? last : undefined
    },
    { what: `${path}: ${what}`, timeoutMs }
  ).catch((error: unknown) => {
    throw new Error(
      `${error instanceof Error ? error.message : String(error)}; last HEAD probe: ${JSON.stringify(last)}`
    )
  })
}

/** Awaits `k` receivers waiting on `path` (as the HEAD probe shows `k/n`). */
export const waitForReceivers = (server: ServerHandle, path: string, k: number): Promise<Probe> =>
  waitForProbe(server, path, (p) => p.receivers?.startsWith(`${k}/`) === true, `${k} receiver(s) connected`)

/**
 * Runs a complete small transfer on `path` with real curl (receiver first, then sender) and asserts it
 * succeeded: the "the path works again" check.
 */
export const expectTransferWorks = async (server: ServerHandle, path: string): Promise<void> => {
  const body = prngBytes(`${path}/${++sequence}`, 100_000)
  const receiver = spawnCurl([`${server.url}${path}`])
  await waitForReceivers(server, path, 1)
  const sender = await curl(["-T", "-", `${server.url}${path}`], { stdin: body })
  const received = await receiver.result
  expect({ sender: sender.code, receiver: received.code, hash: received.sha256 }).toEqual({
    sender: 0,
    receiver: 0,
    hash: sha256(body)
  })
  expect(sender.stdoutText).toContain("[INFO] Sent successfully!\n")
}
