import { describe, expect, it } from "@effect/vitest"
import { Clock, Deferred, Duration, Effect, Exit, Fiber, Scope } from "effect"
import { TestClock } from "effect/testing"
import type { Stamped } from "../../src/actors/SpectatorHub.js"
import { HubClosed, makeSpectatorHub } from "../../src/actors/SpectatorHub.js"
import type { Event } from "../../src/domain/PipeState.js"
import type { StateName } from "../../src/domain/TransferReport.js"
import { completed } from "../../src/domain/TransferStats.js"
import {
  actorOn,
  errorShapeOf,
  fakeReceiver,
  fakeSender,
  makeFakeRunner,
  registryOn,
  stillWaitingAfter,
  within
} from "./support/fakes.js"

// ---- events --------------------------------------------------------------------------------------------

const stateEv = (state: StateName, at = 0): Event => ({
  event: "state",
  state,
  transferId: null,
  sender: false,
  receivers: 0,
  expectedReceivers: 0,
  at
})

const progressEv = (bytes: number): Event => ({
  event: "progress",
  transferId: "t_01",
  bytes,
  total: null,
  percent: null,
  mbps: 0,
  etaSec: null,
  elapsedSec: 0,
  stalledSec: 0,
  at: bytes
})

const doneEv = (transferId: string): Event => ({
  event: "done",
  transferId,
  ok: true,
  bytes: 0,
  total: null,
  durationSec: 0,
  avgMbps: 0,
  error: null,
  at: 0
})

/** Stamps events with increasing ids, as the actor does. */
const stamper = () => {
  let id = 0
  return (event: Event): Stamped => ({ id: ++id, event })
}

const idsOf = (batch: ReadonlyArray<Stamped>) => batch.map((s) => s.id)
const kindsOf = (batch: ReadonlyArray<Stamped>) => batch.map((s) => s.event.event)

// ---- the hub on its own --------------------------------------------------------------------------------

describe("SpectatorHub", () => {
  it.effect("delivers a published event to every subscriber", () =>
    Effect.gen(function*() {
      const hub = yield* makeSpectatorHub
      const a = yield* hub.subscribe
      const b = yield* hub.subscribe
      expect(yield* hub.size).toBe(2)
      const stamped: Stamped = { id: 7, event: stateEv("waiting") }
      yield* hub.publish(stamped)
      expect(yield* a.take).toEqual([stamped])
      expect(yield* b.take).toEqual([stamped])
    }))

  it.effect("a take waits for news and wakes on the next publish", () =>
    Effect.gen(function*() {
      const hub = yield* makeSpectatorHub
      const sub = yield* hub.subscribe
      expect(yield* stillWaitingAfter(sub.take, 1_000)).toBe(true)
      const fiber = yield* Effect.forkChild(sub.take)
      yield* Effect.yieldNow
      yield* hub.publish({ id: 1, event: progressEv(10) })
      expect(idsOf(yield* Fiber.join(fiber))).toEqual([1])
    }))

  it.effect("a reader that does not pull gets only the newest progress, not a backlog", () =>
    Effect.gen(function*() {
      const hub = yield* makeSpectatorHub
      const stamp = stamper()
      const sub = yield* hub.subscribe
      for (let i = 1; i <= 1_000; i++) yield* hub.publish(stamp(progressEv(i * 100)))
      const batch = yield* sub.take
      expect(idsOf(batch)).toEqual([1_000])
      expect(batch[0]?.event).toEqual(progressEv(100_000))
      // Nothing else is pending: the 999 skipped ones are gone for good.
      expect(yield* stillWaitingAfter(sub.take, 1_000)).toBe(true)
    }))

  it.effect("a slow reader keeps every state and done but only the newest progress, in publication order", () =>
    Effect.gen(function*() {
      const hub = yield* makeSpectatorHub
      const stamp = stamper()
      const sub = yield* hub.subscribe
      const events = [
        stateEv("waiting"), // 1
        progressEv(1), // 2
        stateEv("streaming"), // 3
        progressEv(2), // 4
        progressEv(3), // 5
        progressEv(4), // 6: the last progress
        stateEv("complete"), // 7
        doneEv("t_01") // 8
      ]
      for (const event of events) yield* hub.publish(stamp(event))
      const batch = yield* sub.take
      expect(idsOf(batch)).toEqual([1, 3, 6, 7, 8])
      expect(kindsOf(batch)).toEqual(["state", "state", "progress", "state", "done"])
      expect(batch.map((s) => s.event)).toEqual([
        stateEv("waiting"),
        stateEv("streaming"),
        progressEv(4),
        stateEv("complete"),
        doneEv("t_01")
      ])
      // Nothing else is pending: the skipped progress events are gone for good.
      expect(yield* stillWaitingAfter(sub.take, 1_000)).toBe(true)
    }))

  // Protocol §4: a slow spectator "loses intermediate `progress` events (sliding buffer), never `state` or
  // `done`".
  it.effect("protocol §4: a slow reader loses no state event", () =>
    Effect.gen(function*() {
      const hub = yield* makeSpectatorHub
      const stamp = stamper()
      const sub = yield* hub.subscribe
      for (const state of ["waiting", "streaming", "complete"] as const) yield* hub.publish(stamp(stateEv(state)))
      const batch = yield* sub.take
      expect(batch.map((s) => s.event.event === "state" ? s.event.state : "?")).toEqual([
        "waiting",
        "streaming",
        "complete"
      ])
    }))

  it.effect("done events are never coalesced: one per transfer reaches a slow reader", () =>
    Effect.gen(function*() {
      const hub = yield* makeSpectatorHub
      const stamp = stamper()
      const sub = yield* hub.subscribe
      for (const t of ["t_01", "t_02", "t_03"]) {
        yield* hub.publish(stamp(stateEv("streaming")))
        yield* hub.publish(stamp(progressEv(5)))
        yield* hub.publish(stamp(doneEv(t)))
        yield* hub.publish(stamp(stateEv("idle")))
      }
      const batch = yield* sub.take
      // Every state and done; of the progress events only the newest (10).
      expect(idsOf(batch)).toEqual([1, 3, 4, 5, 7, 8, 9, 10, 11, 12])
      expect(kindsOf(batch)).toEqual([
        "state",
        "done",
        "state",
        "state",
        "done",
        "state",
        "state",
        "progress",
        "done",
        "state"
      ])
      expect(batch.flatMap((s) => s.event.event === "done" ? [s.event.transferId] : [])).toEqual([
        "t_01",
        "t_02",
        "t_03"
      ])
    }))

  it.effect("a spectator that reads nothing holds a bounded backlog: the newest 32 state and done, one progress", () =>
    Effect.gen(function*() {
      const hub = yield* makeSpectatorHub
      const stamp = stamper()
      const sub = yield* hub.subscribe
      for (let i = 0; i < 2_500; i++) {
        yield* hub.publish(stamp(stateEv("streaming")))
        yield* hub.publish(stamp(progressEv(i)))
        yield* hub.publish(stamp(stateEv("complete")))
        yield* hub.publish(stamp(doneEv(`t_${i.toString(16)}`)))
      }
      const batch = yield* sub.take
      // Round i publishes ids 4i+1 (streaming), 4i+2 (progress), 4i+3 (complete), 4i+4 (done). The newest 32
      // state and done events: complete and done of round 2_489 (9_959, 9_960), then all three of rounds
      // 2_490..2_499; the newest progress (9_998) besides.
      expect(batch.length).toBe(33)
      const kept = [
        9_959,
        9_960,
        ...Array.from({ length: 10 }, (_, k) => 9_960 + 4 * k).flatMap((base) => [base + 1, base + 3, base + 4])
      ]
      expect(idsOf(batch.filter((s) => s.event.event !== "progress"))).toEqual(kept)
      const dones = batch.filter((s) => s.event.event === "done")
      expect(idsOf(dones)).toEqual(Array.from({ length: 11 }, (_, i) => 9_960 + i * 4))
      expect(dones.map((s) => s.event.event === "done" ? s.event.transferId : "?")).toEqual(
        Array.from({ length: 11 }, (_, i) => `t_${(2_489 + i).toString(16)}`)
      )
      expect(batch.filter((s) => s.event.event === "state").length).toBe(21)
      expect(batch[0]?.event).toEqual(stateEv("complete"))
      expect(batch.filter((s) => s.event.event === "progress").map((s) => s.id)).toEqual([9_998])
      expect(batch.find((s) => s.event.event === "progress")?.event).toEqual(progressEv(2_499))
      // Ids increase through the batch: the progress sits between 9_997 and 9_999.
      expect(idsOf(batch)).toEqual([...kept.slice(0, 30), 9_998, ...kept.slice(30)])
      // Nothing else is pending.
      expect(yield* stillWaitingAfter(sub.take, 1_000)).toBe(true)
    }))

  it.effect("a slow spectator never holds back a fast one", () =>
    Effect.gen(function*() {
      const hub = yield* makeSpectatorHub
      const stamp = stamper()
      const fast = yield* hub.subscribe
      const slow = yield* hub.subscribe
      const seen: Array<number> = []
      for (let i = 1; i <= 100; i++) {
        yield* hub.publish(stamp(progressEv(i)))
        seen.push(...idsOf(yield* fast.take))
      }
      expect(seen).toEqual(Array.from({ length: 100 }, (_, i) => i + 1))
      expect(idsOf(yield* slow.take)).toEqual([100])
    }))

  it.effect("a late subscriber gets nothing published before it subscribed (the actor replays instead)", () =>
    Effect.gen(function*() {
      const hub = yield* makeSpectatorHub
      yield* hub.publish({ id: 1, event: stateEv("waiting") })
      yield* hub.publish({ id: 2, event: doneEv("t_01") })
      const late = yield* hub.subscribe
      expect(yield* stillWaitingAfter(late.take, 1_000)).toBe(true)
      yield* hub.publish({ id: 3, event: progressEv(9) })
      expect(idsOf(yield* late.take)).toEqual([3])
    }))

  it.effect("a subscription ends with its scope", () =>
    Effect.gen(function*() {
      const hub = yield* makeSpectatorHub
      const scope = yield* Scope.make()
      yield* hub.subscribe.pipe(Scope.provide(scope))
      const stays = yield* hub.subscribe
      expect(yield* hub.size).toBe(2)
      yield* Scope.close(scope, Exit.void)
      expect(yield* hub.size).toBe(1)
      yield* hub.publish({ id: 1, event: stateEv("idle") })
      expect(idsOf(yield* stays.take)).toEqual([1])
    }))

  describe("close", () => {
    it.effect("hands out what was published before, then fails with HubClosed", () =>
      Effect.gen(function*() {
        const hub = yield* makeSpectatorHub
        const sub = yield* hub.subscribe
        yield* hub.publish({ id: 1, event: stateEv("streaming") })
        yield* hub.publish({ id: 2, event: doneEv("t_01") })
        yield* hub.close
        expect(idsOf(yield* sub.take)).toEqual([1, 2])
        const exit = yield* Effect.exit(sub.take)
        expect(exit).toEqual(Exit.fail(new HubClosed()))
      }))

    it.effect("fails every subscriber's take at once when nothing is pending", () =>
      Effect.gen(function*() {
        const hub = yield* makeSpectatorHub
        const subs = [yield* hub.subscribe, yield* hub.subscribe, yield* hub.subscribe]
        yield* hub.close
        for (const sub of subs) {
          const error = yield* Effect.flip(sub.take)
          expect(error).toBeInstanceOf(HubClosed)
          expect(error._tag).toBe("HubClosed")
        }
      }))

    it.effect("wakes a take that is already waiting", () =>
      Effect.gen(function*() {
        const hub = yield* makeSpectatorHub
        const sub = yield* hub.subscribe
        const fiber = yield* Effect.forkChild(Effect.exit(sub.take))
        yield* Effect.yieldNow
        yield* hub.close
        const exit = yield* Fiber.join(fiber)
        expect(Exit.isFailure(exit)).toBe(true)
        expect(exit).toEqual(Exit.fail(new HubClosed()))
      }))

    // Reachable in the server when a spectator's `Watch` is queued behind the path's `Shutdown` in the
    // actor's mailbox: the late subscription must end instead of waiting for the spectator's TTL.
    it.effect("a subscription made after close ends too", () =>
      Effect.gen(function*() {
        const hub = yield* makeSpectatorHub
        yield* hub.close
        const late = yield* hub.subscribe
        expect(yield* within(late.take, 1_000)).toEqual(Exit.fail(new HubClosed()))
      }))
  })
})

// ---- the path's spectators: replay and the limits ------------------------------------------------------

const path = "/p"

const stateOf = (stamped: Stamped | undefined) => stamped?.event.event === "state" ? stamped.event : undefined

describe("a path's spectators (PipeActor.watch)", () => {
  it.effect("at most maxSpectators per path; a spectator that leaves frees its slot", () =>
    Effect.gen(function*() {
      const fake = yield* makeFakeRunner()
      const actor = yield* actorOn(fake, { settings: { maxSpectators: 2 } })
      const first = yield* Scope.make()
      yield* actor.watch(path).pipe(Scope.provide(first))
      yield* actor.watch(path)
      const third = yield* Effect.exit(actor.watch(path))
      expect(errorShapeOf(third)).toEqual({
        _tag: "TooManySpectators",
        reason: "TooManySpectators",
        message: "Too many spectators on '/p' (limit 2)."
      })
      expect((yield* actor.view).spectators).toBe(2)
      yield* Scope.close(first, Exit.void)
      expect((yield* actor.view).spectators).toBe(1)
      expect(Exit.isSuccess(yield* Effect.exit(actor.watch(path)))).toBe(true)
      expect((yield* actor.view).spectators).toBe(2)
    }))

  it.effect("the server-wide limit (maxSpectatorsTotal) is a scoped slot of the registry", () =>
    Effect.gen(function*() {
      const fake = yield* makeFakeRunner()
      const registry = yield* registryOn(fake, { maxSpectatorsTotal: 1 })
      const first = yield* Scope.make()
      yield* registry.admitSpectator.pipe(Scope.provide(first))
      const second = yield* Effect.exit(registry.admitSpectator)
      expect(errorShapeOf(second)).toEqual({
        _tag: "TooManySpectators",
        reason: "TooManySpectatorsOnServer",
        message: "Too many spectators on this server (limit 1)."
      })
      yield* Scope.close(first, Exit.void)
      expect(Exit.isSuccess(yield* Effect.exit(registry.admitSpectator))).toBe(true)
    }))

  it.effect("an idle path replays one idle state", () =>
    Effect.gen(function*() {
      const fake = yield* makeFakeRunner()
      const actor = yield* actorOn(fake)
      yield* TestClock.setTime(5_000)
      const { replay } = yield* actor.watch(path)
      expect(replay).toEqual([{ id: 1, event: stateEv("idle", 5_000) }])
    }))

  it.effect("a waiting path replays its state; live events follow with higher ids", () =>
    Effect.gen(function*() {
      const fake = yield* makeFakeRunner()
      const actor = yield* actorOn(fake)
      yield* actor.joinSender({ party: fakeSender().party, n: 1, path, total: null })
      const { replay, subscription } = yield* actor.watch(path)
      expect(replay.map((s) => s.event)).toEqual([
        { ...stateEv("waiting"), sender: true, expectedReceivers: 1 }
      ])
      // The sender's arrival was event 1; the replay is stamped after it.
      expect(idsOf(replay)).toEqual([2])
      yield* actor.joinReceiver({ party: fakeReceiver().party, n: 1, path })
      const run = yield* fake.nextRun
      const live = yield* subscription.take
      expect(idsOf(live)).toEqual([3])
      expect(stateOf(live[0])).toMatchObject({ state: "streaming", sender: true, receivers: 1 })
      expect(stateOf(live[0])?.transferId).toMatch(/^t_[0-9a-f]+$/)
      yield* Deferred.succeed(run.finish, completed)
    }))

  it.effect("a streaming path replays state, and progress once bytes have flowed", () =>
    Effect.gen(function*() {
      const fake = yield* makeFakeRunner()
      const actor = yield* actorOn(fake)
      yield* actor.joinSender({ party: fakeSender().party, n: 1, path, total: 10_000 })
      yield* actor.joinReceiver({ party: fakeReceiver().party, n: 1, path })
      const run = yield* fake.nextRun
      const before = yield* actor.watch(path)
      expect(kindsOf(before.replay)).toEqual(["state"])
      expect(stateOf(before.replay[0])?.state).toBe("streaming")
      run.meter.bytes = 2_500
      const after = yield* actor.watch(path)
      expect(kindsOf(after.replay)).toEqual(["state", "progress"])
      expect(after.replay[1]?.event).toMatchObject({ event: "progress", bytes: 2_500, total: 10_000, percent: 25 })
      yield* Deferred.succeed(run.finish, completed)
    }))

  it.effect("a path in retention replays state, the final progress and done", () =>
    Effect.gen(function*() {
      const fake = yield* makeFakeRunner()
      const actor = yield* actorOn(fake)
      const sender = yield* actor.joinSender({ party: fakeSender().party, n: 1, path, total: null })
      yield* actor.joinReceiver({ party: fakeReceiver().party, n: 1, path })
      const run = yield* fake.nextRun
      run.meter.bytes = 5_000
      yield* TestClock.adjust(2_000)
      yield* Deferred.succeed(run.finish, completed)
      yield* Deferred.await(sender.settled)
      const { replay } = yield* actor.watch(path)
      expect(kindsOf(replay)).toEqual(["state", "progress", "done"])
      expect(stateOf(replay[0])?.state).toBe("complete")
      expect(replay[1]?.event).toMatchObject({ event: "progress", bytes: 5_000, elapsedSec: 2 })
      expect(replay[2]?.event).toMatchObject({
        event: "done",
        ok: true,
        bytes: 5_000,
        durationSec: 2,
        avgMbps: 0,
        error: null
      })
      // Stamped after everything the path published, in order.
      const ids = idsOf(replay)
      expect(ids).toEqual([ids[0], (ids[0] ?? 0) + 1, (ids[0] ?? 0) + 2])
    }))

  it.effect("ticks a spectator does not read are coalesced into the newest progress", () =>
    Effect.gen(function*() {
      const fake = yield* makeFakeRunner()
      const actor = yield* actorOn(fake, { settings: { progressInterval: Duration.millis(250) } })
      yield* actor.joinSender({ party: fakeSender().party, n: 1, path, total: null })
      yield* actor.joinReceiver({ party: fakeReceiver().party, n: 1, path })
      const run = yield* fake.nextRun
      const { subscription } = yield* actor.watch(path)
      const start = yield* Clock.currentTimeMillis
      run.meter.bytes = 1_000
      // 40 ticks, 40 progress events published; the spectator reads none of them until now.
      yield* TestClock.adjust(10_000)
      const batch = yield* subscription.take
      expect(kindsOf(batch)).toEqual(["progress"])
      expect(batch[0]?.event).toMatchObject({ event: "progress", bytes: 1_000, at: start + 10_000 })
      yield* Deferred.succeed(run.finish, completed)
    }))
})
