import { describe, expect, it } from "@effect/vitest"
import { Deferred, Duration, Effect, Exit, Scope } from "effect"
import { TestClock } from "effect/testing"
import { makeEventIds } from "../../src/actors/EventIds.js"
import type { PipeActor } from "../../src/actors/PipeActor.js"
import type { Stamped } from "../../src/actors/SpectatorHub.js"
import { PipeName } from "../../src/domain/PipeName.js"
import { completed, failed } from "../../src/domain/TransferStats.js"
import type { DoneBook } from "../../src/domain/UntilDone.js"
import { parseLastEventId, untilDoneStart } from "../../src/domain/UntilDone.js"
import { actorOn, fakeReceiver, fakeSender, makeFakeRunner, registryOn } from "./support/fakes.js"

/**
 * `?progress&until=done` (protocol §10): the pure rule that reads a reconnection's `Last-Event-ID`, then the
 * actor that keeps the book the rule reads, with a fake runner and the `TestClock`.
 */

const book = (overrides: Partial<DoneBook> = {}): DoneBook => ({
  doneIds: [],
  position: 0,
  retainedDoneId: undefined,
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
    // Once the result is no longer retained there is nothing to tell it: it waits for the next transfer.
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
