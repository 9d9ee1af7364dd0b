import type { Snapshot } from "../../src/schema/Snapshot.js"

/** A path's JSON snapshot with nothing going on (protocol §4.2) at `at`, with `over` on top. */
export const idleSnapshot = (path: string, at: number, over: Partial<Snapshot> = {}): Snapshot => ({
  path,
  state: "idle",
  transferId: null,
  sender: false,
  receivers: 0,
  expectedReceivers: 0,
  bytes: 0,
  total: null,
  percent: null,
  mbps: null,
  etaSec: null,
  elapsedSec: null,
  spectators: 0,
  startedAt: null,
  updatedAt: at,
  done: null,
  last: null,
  ...over
})
