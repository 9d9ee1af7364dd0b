import type { PathView } from "../actors/PipeRegistry.js"
import type { PipeName } from "../domain/PipeName.js"
import type { Snapshot } from "../schema/Snapshot.js"

/** The JSON snapshot of a path's view (protocol §4.2): zeros and nulls when idle. */
export const snapshotOf = (name: PipeName, view: PathView, now: number): Snapshot => {
  const { live } = view
  return {
    path: `/api/v1/pipe/${name}`,
    state: view.state,
    transferId: view.stats?.transferId ?? null,
    sender: view.sender,
    receivers: view.receivers,
    expectedReceivers: view.expectedReceivers,
    bytes: live?.bytes ?? 0,
    total: live?.total ?? null,
    percent: live?.percent ?? null,
    mbps: live?.mbps ?? null,
    etaSec: live?.etaSec ?? null,
    elapsedSec: live?.elapsedSec ?? null,
    spectators: view.spectators,
    startedAt: view.stats?.startedAt ?? null,
    updatedAt: now,
    done: view.done ?? null,
    last: view.last ?? null
  }
}
