import { assert, describe, it } from "@effect/vitest"
import type { Event, PipeState } from "../../src/domain/PipeState.js"
import { initial, Message, replayOf, step } from "../../src/domain/PipeState.js"
import { TransferId } from "../../src/domain/TransferId.js"
import { completed, etaOf, percentOf, progressOf, sample, startStats } from "../../src/domain/TransferStats.js"

/**
 * "Numbers that agree" (issue 13): one percent rule, used by every place that shows a number. These tests
 * pin the rule itself, then follow it through the machine to what the SSE stream and the JSON snapshot
 * read (both are `progressOf` of the same stats; the snapshot of a finished transfer is its replay).
 */

const T1 = TransferId.make("t_01")
const MB = 1_000_000

describe("percentOf", () => {
  it("is null without a total, whatever the bytes", () => {
    assert.strictEqual(percentOf(0, null), null)
    assert.strictEqual(percentOf(2 * MB, null), null)
  })

  it("is the share of the total, rounded down to 0.1: 100 only once all of it is there", () => {
    assert.strictEqual(percentOf(2 * MB, 9 * MB), 22.2)
    assert.strictEqual(percentOf(500, 2_000), 25)
    // 99.96 % would round to 100.0 and say "done" while a byte is still missing.
    assert.strictEqual(percentOf(9_996, 10_000), 99.9)
    assert.strictEqual(percentOf(10_000, 10_000), 100)
  })

  it("is capped at 100 when the sender sends more than it announced", () => {
    assert.strictEqual(percentOf(9_100_000, 9 * MB), 100)
  })

  it("counts a zero total as reached", () => {
    assert.strictEqual(percentOf(0, 0), 100)
  })
})

describe("etaOf", () => {
  it("is null without a total or a speed, 0 at or past the total", () => {
    assert.strictEqual(etaOf(MB, null, 10), null)
    assert.strictEqual(etaOf(MB, 2 * MB, 0), null)
    assert.strictEqual(etaOf(MB, 2 * MB, 0.5), 2)
    assert.strictEqual(etaOf(3 * MB, 2 * MB, 5), 0)
  })
})

/** A transfer of `total` that has moved `bytes` by 3000 (started at 1000), ended at 4000 with `ended` bytes. */
const runTo = (total: number | null, bytes: number, ended: number) => {
  const joined = [
    Message.JoinSender({ seat: { id: 1, n: 1, path: "/p", total }, transferId: T1, now: 1_000 }),
    Message.JoinReceiver({ seat: { id: 2, n: 1, path: "/p" }, transferId: T1, now: 1_000 })
  ]
  const streamingState = joined.reduce<PipeState>((state, m) => step(state, m).state, initial)
  const ticked = step(streamingState, Message.Tick({ transferId: T1, now: 3_000, bytes, stallTimeoutMs: 60_000 }))
  const end = step(
    ticked.state,
    Message.TransferEnded({ transferId: T1, outcome: completed, now: 4_000, bytes: ended })
  )
  return { ticked, end }
}

const progressIn = (events: ReadonlyArray<Event>) => events.flatMap((e) => e.event === "progress" ? [e] : [])
const publishedBy = (commands: ReturnType<typeof step>["commands"]) =>
  commands.flatMap((c) => c._tag === "Publish" ? [c.event] : [])

describe("the rule as spectators read it", () => {
  it("more than ?total: 100 while streaming and at the end, the done keeps bytes and total apart", () => {
    const { end, ticked } = runTo(9 * MB, 9_500_000, 9_800_000)
    assert.strictEqual(progressIn(publishedBy(ticked.commands))[0]?.percent, 100)
    assert.strictEqual(progressIn(publishedBy(ticked.commands))[0]?.etaSec, 0)
    const live = publishedBy(end.commands)
    assert.strictEqual(progressIn(live)[0]?.percent, 100)
    const done = live.find((e) => e.event === "done")
    assert.deepInclude(done, { bytes: 9_800_000, total: 9 * MB, ok: true })
    // A latecomer's replay (and so the JSON snapshot, made from the same view) says the same.
    assert.strictEqual(progressIn(replayOf(end.state, 5_000, 0))[0]?.percent, 100)
  })

  it("less than ?total: the true share, the same live and replayed", () => {
    const { end } = runTo(9 * MB, MB, 2 * MB)
    assert.strictEqual(progressIn(publishedBy(end.commands))[0]?.percent, 22.2)
    assert.strictEqual(progressIn(replayOf(end.state, 5_000, 0))[0]?.percent, 22.2)
    assert.deepInclude(publishedBy(end.commands).find((e) => e.event === "done"), { bytes: 2 * MB, total: 9 * MB })
  })

  it("no total: no percent and no ETA, while streaming and once finished", () => {
    const { end, ticked } = runTo(null, MB, 2 * MB)
    for (const p of [...progressIn(publishedBy(ticked.commands)), ...progressIn(publishedBy(end.commands))]) {
      assert.strictEqual(p.percent, null)
      assert.strictEqual(p.etaSec, null)
    }
    assert.strictEqual(progressIn(replayOf(end.state, 5_000, 0))[0]?.percent, null)
  })

  it("progressOf reads the rule for any sample", () => {
    const stats = sample(startStats(T1, 1_000, 0), 1_000, 1_500)
    assert.strictEqual(progressOf(stats, 1_000, 1_500).percent, 100)
  })
})
