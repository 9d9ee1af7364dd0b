import { describe, expect, it } from "vitest"
import { makeUntilDone, type Verdict } from "../../src/client/UntilDone.js"
import type { PipeEvent } from "../../src/schema/PipeEvent.js"

/**
 * The rule `watch --until-done` follows (protocol §10), event by event, the way connections deliver them: each
 * connection opens with the replayed `state` of the snapshot.
 */

const at = 0
const state = (
  name: "idle" | "waiting" | "streaming" | "complete" | "aborted",
  transferId: string | null
): PipeEvent => ({
  event: "state",
  state: name,
  transferId,
  sender: name === "streaming",
  receivers: 0,
  expectedReceivers: 1,
  at
})
const progress = (transferId: string): PipeEvent => ({
  event: "progress",
  transferId,
  bytes: 1,
  total: null,
  percent: null,
  mbps: 0,
  etaSec: null,
  elapsedSec: 0,
  stalledSec: 0,
  at
})
const done = (transferId: string, ok = true): PipeEvent => ({
  event: "done",
  transferId,
  ok,
  bytes: 1,
  total: null,
  durationSec: 0,
  avgMbps: 0,
  error: null,
  at
})

/** Feeds connections (arrays of events) and returns the verdicts, connection by connection. */
const play = (...connections: ReadonlyArray<ReadonlyArray<PipeEvent>>): Array<Array<Verdict>> => {
  const until = makeUntilDone()
  return connections.map((events) => {
    until.connected()
    return events.map(until.observe)
  })
}

describe("UntilDone", () => {
  it("a transfer retained at connect is history: its replayed done never finishes, on any reconnection", () => {
    const replay = [state("complete", "t_0"), progress("t_0"), done("t_0")]
    expect(
      play(replay, replay, [state("idle", null), state("waiting", null), state("streaming", "t_1"), done("t_1", false)])
    )
      .toEqual([
        ["drop", "drop", "drop"],
        ["drop", "drop", "drop"],
        ["keep", "keep", "keep", "finish"]
      ])
  })

  it("a transfer streaming at connect is the one: it finishes with its done, retained or live", () => {
    expect(play([state("streaming", "t_1"), progress("t_1"), done("t_1")])).toEqual([["keep", "keep", "finish"]])
    // The connection dropped while it streamed; the next one finds it retained: its replayed done is the answer.
    expect(play([state("streaming", "t_1")], [state("complete", "t_1"), progress("t_1"), done("t_1")])).toEqual([
      ["keep"],
      ["keep", "keep", "finish"]
    ])
  })

  it("a transfer that started and ended while the watch was away is the next one: its replayed done finishes", () => {
    expect(play([state("idle", null)], [state("aborted", "t_1"), progress("t_1"), done("t_1", false)])).toEqual([
      ["keep"],
      ["keep", "keep", "finish"]
    ])
  })

  it("a reconnection that no longer shows the awaited transfer reports it missed", () => {
    expect(play([state("streaming", "t_1")], [state("idle", null)])).toEqual([["keep"], ["missed"]])
    expect(play([state("streaming", "t_1")], [state("streaming", "t_2")])).toEqual([["keep"], ["missed"]])
  })
})
