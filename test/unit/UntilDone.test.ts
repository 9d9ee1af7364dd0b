import { describe, expect, it } from "@effect/vitest"
import { Deferred, Duration, Effect, Exit, Option, Scope } from "effect"
import { TestClock } from "effect/testing"
import { makeEventIds } from "../../src/actors/EventIds.js"
import type { PipeActor } from "../../src/actors/PipeActor.js"
import type { Stamped } from "../../src/actors/SpectatorHub.js"
import { PipeName } from "../../src/domain/PipeName.js"
import { completed, failed } from "../../src/domain/TransferStats.js"
import type { DoneBook } from "../../src/domain/UntilDone.js"
import { parseLastEventId, untilDoneStart, withRecordedDone } from "../../src/domain/UntilDone.js"
import type { Recorded } from "../../src/history/TransferHistory.js"
import { actorOn, fakeReceiver, fakeSender, makeFakeRunner, registryOn } from "./support/fakes.js"

/**
 * `?progress&until=done` (protocol §10): the pure rule that reads a reconnection's `Last-Event-ID`, then the
 * actor that keeps the book the rule reads, with a fake runner and the `TestClock`.
 */

const book = (overrides: Partial<DoneBook> = {}): DoneBook => ({
  doneIds: [],
  position: 0,
  retainedDoneId: undefined,
  recordedDoneId: undefined,
  active: false,
  ...overrides
})

describe("untilDoneStart", () => {
  it("a first connection (no Last-Event-ID) follows, whatever the path holds", () => {
    expect(untilDoneStart(undefined, book())).toBe("follow")
    expect(untilDoneStart(undefined, book({ doneIds: [10], position: 12, retainedDoneId: 10 }))).toBe("follow")
  })

  it("exactly a live done's id: that stream ended on it, 204, even with a newer transfer running", () => {
    expect(untilDoneStart(10, book({ doneIds: [10], position: 10, retainedDoneId: 10 }))).toBe("over")
    expect(untilDoneStart(10, book({ doneIds: [4, 10], position: 30, active: true }))).toBe("over")
    expect(untilDoneStart(4, book({ doneIds: [4, 10], position: 30, retainedDoneId: 10 }))).toBe("over")
  })

  it("an id this path handed out after its last done is a spectator still waiting: it follows", () => {
    // It connected during the retention, read the old done replayed (id 11), then lost its connection.
    expect(untilDoneStart(11, book({ doneIds: [10], position: 13, retainedDoneId: 10 }))).toBe("follow")
    expect(untilDoneStart(13, book({ doneIds: [10], position: 13 }))).toBe("follow")
  })

  it("an id past everything the path handed out, on a finished path: 204; while a transfer runs: follow", () => {
    expect(untilDoneStart(99, book({ doneIds: [10], position: 13 }))).toBe("over")
    expect(untilDoneStart(99, book({ doneIds: [10], position: 13, active: true }))).toBe("follow")
    // A path that never finished a transfer has no done to be past.
    expect(untilDoneStart(99, book({ position: 13 }))).toBe("follow")
  })

  it("an id older than the retained result's done: its transfer ended while it was away", () => {
    expect(untilDoneStart(7, book({ doneIds: [10], position: 10, retainedDoneId: 10 }))).toBe("missed")
    expect(untilDoneStart(7, book({ doneIds: [10], position: 12, retainedDoneId: 10, active: true }))).toBe(
      "missed"
    )
    // A book with no result to tell (the actor's own, after its retention, without the history's record:
    // see withRecordedDone below) keeps it waiting for the next transfer.
    expect(untilDoneStart(7, book({ doneIds: [10], position: 12 }))).toBe("follow")
  })

  it("parses Last-Event-ID as a plain decimal integer, anything else is no id", () => {
    expect(parseLastEventId("1764057600000001")).toBe(1764057600000001)
    expect(parseLastEventId(" 42 ")).toBe(42)
    for (const bad of [undefined, "", "-1", "1e3", "0x10", "12a", "99999999999999999"]) {
      expect(parseLastEventId(bad)).toBeUndefined()
    }
  })
})

describe("withRecordedDone: the history's record of the last done in the book", () => {
  // The highest id the process handed out so far: everything any actor of the path handed out is at most it.
  const highest = 50

  it("no record, or one written before records kept the id: the actor's own book, unchanged", () => {
    const own = book({ doneIds: [10], position: 12 })
    expect(withRecordedDone(own, undefined, highest)).toBe(own)
  })

  it("a record the actor has no memory of (gone, restarted): its done is a live done, and the result to tell", () => {
    const fresh = withRecordedDone(book({ position: 44 }), 10, highest)
    expect(fresh).toEqual({
      doneIds: [10],
      position: highest,
      retainedDoneId: undefined,
      recordedDoneId: 10,
      active: false
    })
    // That done's own id: the stream ended on it, 204 (EventSource stops), also with a transfer running.
    expect(untilDoneStart(10, fresh)).toBe("over")
    expect(untilDoneStart(10, withRecordedDone(book({ active: true }), 10, highest))).toBe("over")
    // An older id: it was away when that transfer ended. Past the retention §9 keeps that done out of SSE,
    // so it is 204 (its result is the JSON's `last`).
    expect(untilDoneStart(7, fresh)).toBe("over")
    expect(untilDoneStart(7, withRecordedDone(book({ active: true }), 10, highest))).toBe("over")
    // Past the done but handed out (a latecomer's replay, by any actor of the path): still waiting, follows.
    expect(untilDoneStart(11, fresh)).toBe("follow")
    expect(untilDoneStart(highest, fresh)).toBe("follow")
    // Past anything the process handed out: never this path's, and the path is finished: 204.
    expect(untilDoneStart(highest + 1, fresh)).toBe("over")
    // A record never ends a first connection: a replayed or recorded old done is not its transfer's.
    expect(untilDoneStart(undefined, fresh)).toBe("follow")
  })

  it("a record the actor published itself outlives its retention: the result it can still tell", () => {
    const afterRetention = book({ doneIds: [4, 10], position: 13 })
    const withRecord = withRecordedDone(afterRetention, 10, highest)
    expect(withRecord).toEqual({ ...afterRetention, recordedDoneId: 10 })
    expect(untilDoneStart(7, afterRetention)).toBe("follow")
    expect(untilDoneStart(7, withRecord)).toBe("over")
    expect(untilDoneStart(4, withRecord)).toBe("over")
    expect(untilDoneStart(12, withRecord)).toBe("follow")
    // The actor's own position stands: it knows every id the path handed out since that done.
    expect(untilDoneStart(14, withRecord)).toBe("over")
  })

  it("a record older than the actor's latest done (that one was never recorded) leaves the book as it is", () => {
    const own = book({ doneIds: [10, 20], position: 22 })
    expect(withRecordedDone(own, 10, highest)).toBe(own)
    expect(withRecordedDone(own, 5, highest)).toBe(own)
  })
})

const path = "/p"
const untilDone = (lastEventId: number | undefined) => ({ untilDone: true, lastEventId })

/** One transfer on `actor`, ended with `outcome`; resolves once its parties are settled. */
const transfer = (actor: PipeActor, fake: Effect.Success<ReturnType<typeof makeFakeRunner>>, ok = true) =>
  Effect.gen(function*() {
    const ticket = yield* actor.joinSender({ party: fakeSender().party, n: 1, path, total: null })
    yield* actor.joinReceiver({ party: fakeReceiver().party, n: 1, path })
    const run = yield* fake.nextRun
    run.meter.bytes = 5
    yield* Deferred.succeed(run.finish, ok ? completed : failed("cut"))
    yield* Deferred.await(ticket.settled)
  })

const doneOf = (events: ReadonlyArray<Stamped>) => events.find((s) => s.event.event === "done")

describe("the actor's book for until=done", () => {
  it.effect("ids start at the boot time times 1000 and only grow", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(1_764_057_600_000)
      const fake = yield* makeFakeRunner()
      const actor = yield* actorOn(fake)
      const { replay } = yield* actor.watch(path)
      expect(replay[0]?.id).toBe(1_764_057_600_000_001)
    }))

  it.effect("a reconnection with the live done's id is over; the replay's fresh ids are not a done's", () =>
    Effect.gen(function*() {
      const fake = yield* makeFakeRunner()
      const actor = yield* actorOn(fake)
      const first = yield* actor.watch(path, untilDone(undefined))
      expect(first.start).toBe("follow")
      yield* transfer(actor, fake)
      const live = doneOf(yield* first.subscription.take)
      expect(live?.event).toMatchObject({ event: "done", ok: true })
      const doneId = live?.id ?? -1

      expect((yield* actor.watch(path, untilDone(doneId))).start).toBe("over")
      // A latecomer during the retention reads the old done replayed, under a fresh id: it must go on
      // waiting, also when it reconnects with that id.
      const late = yield* actor.watch(path, untilDone(undefined))
      const replayed = doneOf(late.replay)
      expect(replayed?.event).toMatchObject({
        event: "done",
        transferId: live?.event.event === "done" ? live.event.transferId : ""
      })
      expect(replayed?.id).toBeGreaterThan(doneId)
      expect((yield* actor.watch(path, untilDone(replayed?.id))).start).toBe("follow")
    }))

  it.effect("a spectator away when its transfer ended gets that result under the done's id, then 204", () =>
    Effect.gen(function*() {
      const fake = yield* makeFakeRunner()
      const actor = yield* actorOn(fake)
      const before = yield* Effect.scoped(actor.watch(path, untilDone(undefined)))
      const lastSeen = before.replay[0]?.id ?? -1
      // It reads its snapshot, then its connection is gone (a ttl, say) while the transfer runs and ends.
      yield* transfer(actor, fake, false)
      const back = yield* actor.watch(path, untilDone(lastSeen))
      expect(back.start).toBe("missed")
      expect(back.replay.map((s) => s.event.event)).toEqual(["state", "progress", "done"])
      expect(back.replay[2]?.event).toMatchObject({ event: "done", ok: false, error: "cut" })
      const ids = new Set(back.replay.map((s) => s.id))
      expect(ids.size).toBe(1)
      const [doneId] = ids
      expect((yield* actor.watch(path, untilDone(doneId))).start).toBe("over")
    }))

  it.effect("without until=done a Last-Event-ID changes nothing: the snapshot, then live events", () =>
    Effect.gen(function*() {
      const fake = yield* makeFakeRunner()
      const actor = yield* actorOn(fake)
      const first = yield* actor.watch(path)
      yield* transfer(actor, fake)
      const doneId = doneOf(yield* first.subscription.take)?.id
      const again = yield* actor.watch(path, { untilDone: false, lastEventId: doneId })
      expect(again.start).toBe("follow")
      expect(again.replay.map((s) => s.event.event)).toEqual(["state", "progress", "done"])
    }))
})

describe("until=done reconnections once the actor is gone: the history's record decides", () => {
  it.effect("an actor with no memory of the recorded done: its id and an older one are 204, no done is replayed", () =>
    Effect.gen(function*() {
      const fake = yield* makeFakeRunner()
      const ids = yield* makeEventIds
      // What an earlier actor of the path (or the server before a restart) handed out and recorded.
      const seen = ids.next()
      const doneId = ids.next()
      const latecomer = ids.next()
      const done = {
        transferId: "t_000000000001",
        ok: false,
        bytes: 9,
        total: 10,
        durationSec: 2,
        avgMbps: 0,
        error: "The sender disconnected.",
        at: 1
      }
      const recall = Effect.succeed(Option.some<Recorded>({ done, doneId }))
      const actor = yield* actorOn(fake, { eventIds: ids, recall })

      expect((yield* actor.watch(path, untilDone(doneId))).start).toBe("over")
      const missed = yield* actor.watch(path, untilDone(seen))
      expect(missed.start).toBe("over")
      expect(missed.replay).toEqual([])
      expect((yield* actor.watch(path, untilDone(latecomer))).start).toBe("follow")
      expect((yield* actor.watch(path, untilDone(ids.highest() + 1))).start).toBe("over")
      // A first connection follows: the snapshot of the idle path, without the recorded done.
      const first = yield* actor.watch(path, untilDone(undefined))
      expect(first.start).toBe("follow")
      expect(first.replay.map((s) => s.event.event)).toEqual(["state"])
      // Without until=done the record changes nothing.
      expect((yield* actor.watch(path, { untilDone: false, lastEventId: doneId })).start).toBe("follow")
    }))

  it.effect("a record without a done id (an older file) cannot end a stream: it follows", () =>
    Effect.gen(function*() {
      const fake = yield* makeFakeRunner()
      const done = {
        transferId: "t_000000000002",
        ok: true,
        bytes: 1,
        total: null,
        durationSec: 1,
        avgMbps: 0,
        error: null,
        at: 1
      }
      const actor = yield* actorOn(fake, { recall: Effect.succeed(Option.some<Recorded>({ done, doneId: undefined })) })
      expect((yield* actor.watch(path, untilDone(1))).start).toBe("follow")
    }))

  it.effect("through the registry with no retention: the path's next actor answers from the history", () =>
    Effect.gen(function*() {
      const fake = yield* makeFakeRunner()
      const registry = yield* registryOn(fake, { retention: Duration.zero })
      const name = PipeName("gone")
      const spectator = yield* Scope.make()
      const actor = yield* registry.acquire(name, "spectator").pipe(Scope.provide(spectator))
      const watching = yield* actor.watch(path, untilDone(undefined)).pipe(Scope.provide(spectator))
      const lastSeen = watching.replay[0]?.id ?? -1
      // Its connection drops before the transfer ends.
      yield* Scope.close(spectator, Exit.void)
      const held = yield* Scope.make()
      const partyActor = yield* registry.acquire(name, "spectator").pipe(Scope.provide(held))
      const watcher = yield* partyActor.watch(path).pipe(Scope.provide(held))
      yield* transfer(partyActor, fake)
      const liveDone = doneOf(yield* watcher.subscription.take)
      yield* Scope.close(held, Exit.void)
      yield* TestClock.adjust(0)
      expect(yield* registry.size).toBe(0)

      const back = yield* Effect.scoped(
        Effect.flatMap(registry.acquire(name, "spectator"), (again) => again.watch(path, untilDone(lastSeen)))
      )
      // Away when it ended, past the retention: 204 without the done (§9), the JSON's `last` has it.
      expect(back.start).toBe("over")
      expect(back.replay).toEqual([])
      const over = yield* Effect.scoped(
        Effect.flatMap(registry.acquire(name, "spectator"), (again) => again.watch(path, untilDone(liveDone?.id)))
      )
      expect(over.start).toBe("over")
    }))
})

describe("event ids across actor lifetimes", () => {
  it.effect("an actor made again for the same path continues above the last one's ids", () =>
    Effect.gen(function*() {
      const fake = yield* makeFakeRunner()
      const registry = yield* registryOn(fake, { retention: Duration.zero })
      const name = PipeName("p")
      const ids: Array<number> = []
      for (let life = 0; life < 3; life++) {
        const spectator = yield* Scope.make()
        const actor = yield* registry.acquire(name, "spectator").pipe(Scope.provide(spectator))
        const { replay, subscription } = yield* actor.watch(path).pipe(Scope.provide(spectator))
        ids.push(...replay.map((s) => s.id))
        yield* transfer(actor, fake)
        ids.push(...(yield* subscription.take).map((s) => s.id))
        yield* Scope.close(spectator, Exit.void)
        // Nobody holds the path any more (no retention): its actor is gone.
        yield* TestClock.adjust(0)
        expect(yield* registry.size).toBe(0)
      }
      expect(ids.length).toBeGreaterThan(6)
      expect(ids).toEqual([...new Set(ids)].sort((a, b) => a - b))
    }))

  it.effect("two counters seeded later start higher: a restarted server's ids grow too", () =>
    Effect.gen(function*() {
      const first = yield* makeEventIds
      const a = [first.next(), first.next(), first.next()]
      yield* TestClock.adjust(1)
      const second = yield* makeEventIds
      expect(second.next()).toBeGreaterThan(Math.max(...a))
    }))
})
