import { describe, expect, it } from "vitest"
import { formatAgo, formatDateTime } from "../../src/domain/Format.js"
import type { DoneData, ProgressData } from "../../src/schema/PipeEvent.js"
import type { Snapshot } from "../../src/schema/Snapshot.js"
import type { Context } from "../../src/web/DashboardModel.js"
import {
  applyDone,
  applyProgress,
  applyState,
  fromSnapshot,
  initialLog,
  lastLine,
  notificationOf,
  percentOf,
  present
} from "../../src/web/DashboardModel.js"
import { idleSnapshot } from "../support/snapshots.js"

/** The dashboard's view logic, shared by the server's first paint and the browser: one rule for both. */

const at = Date.UTC(2026, 11, 2, 5, 14, 30)
const utc: Context = { now: at + 3 * 3600_000 + 5 * 60_000, localTime: false, offline: false }
const path = "/api/v1/pipe/migration"

const done = (over: Partial<DoneData> = {}): DoneData => ({
  transferId: "t_1",
  ok: true,
  bytes: 7_600_000_000,
  total: 7_600_000_000,
  durationSec: 8 * 3600 + 2 * 60 + 7,
  avgMbps: 262.4,
  error: null,
  at,
  ...over
})

const snapshot = (over: Partial<Snapshot> = {}): Snapshot => idleSnapshot(path, at, over)

const progress = (bytes: number, total: number | null): ProgressData => ({
  transferId: "t_1",
  bytes,
  total,
  percent: null,
  mbps: 10,
  etaSec: null,
  elapsedSec: 4,
  stalledSec: 0,
  at
})

const streaming = applyState(fromSnapshot(snapshot()), {
  state: "streaming",
  transferId: "t_1",
  sender: true,
  receivers: 1,
  expectedReceivers: 1,
  at
})

describe("dashboard model", () => {
  it("one percent rule: none without a total, capped at 100", () => {
    expect(percentOf(5, null)).toBeNull()
    expect(percentOf(5, 0)).toBeNull()
    expect(percentOf(2_000_000, 9_000_000)).toBeCloseTo(22.22, 2)
    expect(percentOf(12, 10)).toBe(100)
    // whatever the event's own percent says, the page computes it from bytes and total
    expect(present(applyProgress(streaming, progress(12, 10)), path, utc).percent).toBe("100%")
    expect(present(applyProgress(streaming, progress(12, null)), path, utc).percent).toBe("")
  })

  it("the idle view of a path with history says how its last transfer went (protocol §9)", () => {
    const view = present(fromSnapshot(snapshot({ last: done() })), path, utc)
    expect(view.summary).toBe(
      "Last transfer: complete · 7.60 GB in 8h 02m · finished 3 h ago (2026-12-02 05:14 UTC)"
    )
    expect(view.done).toMatchObject({ ok: true, previous: true, title: "Last transfer: complete" })
    expect(view.done?.meta).toBe("no errors · finished 3 h ago (2026-12-02 05:14 UTC)")
    expect(lastLine(done({ ok: false, error: "The sender disconnected." }), { ...utc, localTime: true })).toMatch(
      /^Last transfer: aborted · 7\.60 GB in 8h 02m · finished 3 h ago \(\d{4}-\d\d-\d\d \d\d:\d\d\) · The sender disconnected\.$/
    )
    expect(initialLog(snapshot({ last: done() })).map((e) => e.title)).toEqual(["Idle", "Transfer complete"])
    // without history: the plain first-visit text, and no card
    const fresh = present(fromSnapshot(snapshot()), path, utc)
    expect(fresh.summary).toMatch(/^Nothing on this path yet/)
    expect(fresh.done).toBeNull()
  })

  it("the done card: the expected size when it differs, no percent without a total, no errors", () => {
    const short = present(
      applyDone({ ...streaming, state: "complete" }, done({ bytes: 2_000_000, total: 9_000_000, durationSec: 2 })),
      path,
      utc
    )
    expect(short.done?.text).toBe("2.00 MB (9.00 MB expected) in 2.0 s · avg 262 MB/s")
    expect(short.done?.meta).toMatch(/^no errors · finished /)
    expect(short.percent).toBe("22.2%")
    const ended = { ...applyDone(streaming, done({ total: null })), state: "complete" as const }
    const noTotal = present(ended, path, utc)
    expect(noTotal.percent).toBe("")
    expect(noTotal.done?.text).toBe("7.60 GB (7,600,000,000 bytes) in 8h 02m · avg 262 MB/s")
    expect(noTotal.barMode).toBe("determinate")
  })

  it("the tab title: the number while streaming, the outcome at the end", () => {
    expect(present(fromSnapshot(snapshot()), path, utc).title).toBe("Idle · migration · pipe")
    expect(present(applyProgress(streaming, progress(42_400_000, 100_000_000)), path, utc).title).toBe(
      "42% · migration · pipe"
    )
    expect(present(applyProgress(streaming, progress(1_234_567_890, null)), path, utc).title).toBe(
      "1.23 GB · migration · pipe"
    )
    const complete = applyDone({ ...streaming, state: "complete" }, done())
    expect(present(complete, path, utc).title).toBe("✓ complete · migration")
    const aborted = applyDone({ ...streaming, state: "aborted" }, done({ ok: false, error: "x" }))
    expect(present(aborted, path, utc).title).toBe("✗ aborted · migration")
    expect(notificationOf(done({ ok: false, error: "The sender disconnected." }), path)).toEqual({
      title: "✗ aborted · migration",
      body: "7.60 GB sent · The sender disconnected."
    })
  })

  it("offline: a live state is no longer vouched for; an end stays true", () => {
    const live = applyProgress(streaming, progress(42_400_000, 100_000_000))
    const view = present(live, path, { ...utc, offline: true })
    expect(view.state).toBe("offline")
    expect(view.stateLabel).toBe("No connection")
    expect(view.summary).toBe("Connection to the server lost — retrying…")
    expect(view.title).toBe("No connection · migration · pipe")
    expect(view.speed).toBe("—")
    const complete = applyDone({ ...streaming, state: "complete" }, done())
    expect(present(complete, path, { ...utc, offline: true }).stateLabel).toBe("Complete")
  })

  it("says times as people do: local or UTC, and how long ago", () => {
    expect(formatDateTime(at, true)).toBe("2026-12-02 05:14 UTC")
    expect([0, 4, 42, 300, 3 * 3600 + 1, 50 * 3600].map(formatAgo)).toEqual([
      "just now",
      "just now",
      "42 s ago",
      "5 min ago",
      "3 h ago",
      "2 days ago"
    ])
  })
})
