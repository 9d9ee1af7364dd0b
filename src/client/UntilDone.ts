import type { PipeEvent } from "../schema/PipeEvent.js"

/** What `watch` does with one event when it waits for one transfer's end. */
export type Verdict =
  /** Pass it on. */
  | "keep"
  /** An event of a transfer that had already ended when the watch began: history, not the awaited transfer. */
  | "drop"
  /** The awaited transfer's `done`: pass it on, then end. */
  | "finish"
  /**
   * A reconnection's replay shows something else than the awaited transfer, whose `done` never came: it ended
   * while the watch was away. Its result has to be looked up (the snapshot's `done` or `last`).
   */
  | "missed"

/**
 * Which transfer `watch(path, { untilDone: true })` waits for (protocol §10): the one streaming when the watch
 * connects, else the next one to start. A transfer that had already ended by then is only replayed (a `state`
 * `complete`/`aborted`, its `progress` and its `done`, for the retention window): its `done` is an old answer
 * and must never end the watch, even when every reconnection replays it again. The server applies the same
 * rule for `?until=done`; this makes the client right on its own, with a server that ignores the parameter.
 *
 * The first event of each connection is the replayed `state` of the snapshot (protocol §4.1), which is how the
 * first connection learns what had ended, and a later one learns what it missed.
 */
export const makeUntilDone = () => {
  let connections = 0
  let replayed = false
  let awaited: string | undefined
  const endedBefore = new Set<string>()

  const judge = (event: PipeEvent): Verdict => {
    const id = event.transferId
    if (id !== null && endedBefore.has(id)) return "drop"
    if (awaited === undefined && id !== null) awaited = id
    return event.event === "done" && id === awaited ? "finish" : "keep"
  }

  return {
    /** A connection begins: its first `state` is the replay. */
    connected: (): void => {
      connections++
      replayed = false
    },
    /** The transfer waited for, once one has started. */
    awaited: (): string | undefined => awaited,
    /** The transfers that had ended when the watch began. */
    endedBefore: (): ReadonlySet<string> => endedBefore,
    observe: (event: PipeEvent): Verdict => {
      if (event.event !== "state" || replayed) return judge(event)
      replayed = true
      if (connections === 1) {
        if ((event.state === "complete" || event.state === "aborted") && event.transferId !== null) {
          endedBefore.add(event.transferId)
        }
        return judge(event)
      }
      // Still the awaited transfer (streaming, or ended and retained with its `done` to follow), or none yet.
      return awaited === undefined || event.transferId === awaited ? judge(event) : "missed"
    }
  }
}

export type UntilDone = ReturnType<typeof makeUntilDone>
