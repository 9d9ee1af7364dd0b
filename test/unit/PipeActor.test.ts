import { describe, expect, it } from "@effect/vitest"
import { Deferred, Duration, Effect, Exit, Option, Scope } from "effect"
import { TestClock } from "effect/testing"
import type { PipeActor, Retention } from "../../src/actors/PipeActor.js"
import { idleView } from "../../src/actors/PipeActor.js"
import type { PipeRegistry } from "../../src/actors/PipeRegistry.js"
import { HubClosed } from "../../src/actors/SpectatorHub.js"
import type { Stamped, Subscription } from "../../src/actors/SpectatorHub.js"
import { PipeName } from "../../src/domain/PipeName.js"
import { SenderLine } from "../../src/domain/SenderLine.js"
import { completed, failed, failedInternally } from "../../src/domain/TransferStats.js"
import type { ErrorShape, FakeReceiver, FakeRunner, FakeSender } from "./support/fakes.js"
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

/**
 * The actor with a fake `TransferRunner`: parties are plain values, the runner only records what it is
 * asked to run and ends when the test says so, and time is the `TestClock`.
 */

const path = "/p"
const name = PipeName("p")

const joinSender = (actor: PipeActor, sender: FakeSender, n = 1, total: number | null = null) =>
  actor.joinSender({ party: sender.party, n, path, total })
const joinReceiver = (actor: PipeActor, receiver: FakeReceiver, n = 1) =>
  actor.joinReceiver({ party: receiver.party, n, path })

const shuttingDown: ErrorShape = { _tag: "ServerFull", reason: "ShuttingDown", message: "The server is shutting down." }
const waitTimedOut: ErrorShape = {
  _tag: "WaitTimedOut",
  reason: "WaitTimedOut",
  message: "Timed out waiting for the other side."
}

const kindsOf = (batch: ReadonlyArray<Stamped>) => batch.map((s) => s.event.event)
const statesOf = (batch: ReadonlyArray<Stamped>) =>
  batch.flatMap((s) => s.event.event === "state" ? [s.event.state] : [])

/** Everything a spectator reads until its stream ends (the take fails with `HubClosed`), batches joined. */
const readToEnd = (subscription: Subscription) =>
  Effect.gen(function*() {
    const events: Array<Stamped> = []
    while (true) {
      const exit = yield* Effect.exit(subscription.take)
      if (Exit.isFailure(exit)) return { events, end: exit }
      events.push(...exit.value)
    }
  })

const internalError = "The transfer failed on an internal error."

/**
 * One transfer of `bytes` through the registry's actor for `name`, completed; its parties' handlers still hold
 * the actor in the returned scope, as a real handler does until its party is settled.
 */
const completedTransfer = (registry: PipeRegistry["Service"], fake: FakeRunner, bytes: number) =>
  Effect.gen(function*() {
    const handlers = yield* Scope.make()
    const actor = yield* registry.acquire(name, "party").pipe(Scope.provide(handlers))
    const ticket = yield* joinSender(actor, fakeSender()).pipe(Scope.provide(handlers))
    yield* joinReceiver(actor, fakeReceiver()).pipe(Scope.provide(handlers))
    const run = yield* fake.nextRun
    run.meter.bytes = bytes
    yield* Deferred.succeed(run.finish, completed)
    yield* Deferred.await(ticket.settled)
    return { actor, handlers }
  })

/** The last holder's letting go runs in a fiber of its own: wait until the registry has no actor left. */
const waitForNoActor = (registry: PipeRegistry["Service"]) =>
  Effect.gen(function*() {
    while ((yield* registry.size) > 0) yield* Effect.yieldNow
  })

describe("PipeActor", () => {
  describe("pairing", () => {
    it.effect("a sender and a receiver start exactly one transfer, with exactly those parties", () =>
      Effect.gen(function*() {
        const fake = yield* makeFakeRunner()
        const retained: Array<Retention> = []
        const actor = yield* actorOn(fake, { retain: (retention) => Effect.sync(() => void retained.push(retention)) })
        const sender = fakeSender()
        const receiver = fakeReceiver()
        const senderTicket = yield* joinSender(actor, sender)
        expect(yield* Deferred.isDone(senderTicket.started)).toBe(false)
        expect((yield* actor.view).state).toBe("waiting")
        const receiverTicket = yield* joinReceiver(actor, receiver)
        const run = yield* fake.nextRun
        expect(run.name).toBe("p")
        expect(run.sender).toBe(sender.party)
        expect(run.receivers).toEqual([receiver.party])
        expect(run.receivers[0]).toBe(receiver.party)
        yield* Deferred.await(senderTicket.started)
        yield* Deferred.await(receiverTicket.started)
        const streaming = yield* actor.view
        expect(streaming).toMatchObject({ state: "streaming", sender: true, receivers: 1, expectedReceivers: 1 })
        expect(sender.lines).toEqual([SenderLine.waiting(1), SenderLine.receiverConnected])
        expect(receiver.lines).toEqual([])

        run.meter.bytes = 42
        yield* Deferred.succeed(run.finish, completed)
        yield* Deferred.await(senderTicket.settled)
        yield* Deferred.await(receiverTicket.settled)
        const done = yield* actor.view
        expect(done.state).toBe("complete")
        expect(done.done).toMatchObject({ ok: true, bytes: 42, error: null })
        expect(done.live?.bytes).toBe(42)
        expect(fake.runs.length).toBe(1)
        // The registry keeps the very result the actor shows, with its `done`'s id.
        expect(retained.map((r) => r.last.stats.transferId)).toEqual([streaming.stats?.transferId])
        expect(retained[0]?.last.done).toBe(done.done)
      }))

    it.effect("n receivers first, then the sender: one transfer, receivers in the order they came", () =>
      Effect.gen(function*() {
        const fake = yield* makeFakeRunner()
        const actor = yield* actorOn(fake)
        const receivers = [fakeReceiver(), fakeReceiver(), fakeReceiver()]
        for (const receiver of receivers) yield* joinReceiver(actor, receiver, 3)
        expect(yield* actor.view).toMatchObject({ state: "waiting", sender: false, receivers: 3 })
        expect(fake.runs.length).toBe(0)
        const sender = fakeSender()
        yield* joinSender(actor, sender, 3)
        const run = yield* fake.nextRun
        expect(run.receivers).toEqual(receivers.map((r) => r.party))
        expect(sender.lines).toEqual([SenderLine.waiting(3), SenderLine.receiversAlreadyConnected(3)])
        yield* Deferred.succeed(run.finish, completed)
      }))

    it.effect("a party joining a running transfer is refused with 409, and nothing starts again", () =>
      Effect.gen(function*() {
        const fake = yield* makeFakeRunner()
        const actor = yield* actorOn(fake)
        yield* joinSender(actor, fakeSender())
        yield* joinReceiver(actor, fakeReceiver())
        const run = yield* fake.nextRun
        const busy: ErrorShape = {
          _tag: "PipeBusy",
          reason: "AlreadyEstablished",
          message: "Connection on '/p' has been established already."
        }
        expect(errorShapeOf(yield* Effect.exit(joinSender(actor, fakeSender())))).toEqual(busy)
        expect(errorShapeOf(yield* Effect.exit(joinReceiver(actor, fakeReceiver())))).toEqual(busy)
        expect(fake.runs.length).toBe(1)
        yield* Deferred.succeed(run.finish, completed)
      }))

    it.effect("after a transfer the path is free at once: the next pair starts a new transfer, new id", () =>
      Effect.gen(function*() {
        const fake = yield* makeFakeRunner()
        const actor = yield* actorOn(fake)
        const first = yield* joinSender(actor, fakeSender())
        yield* joinReceiver(actor, fakeReceiver())
        const run1 = yield* fake.nextRun
        const id1 = (yield* actor.view).stats?.transferId
        yield* Deferred.succeed(run1.finish, failed("broken"))
        yield* Deferred.await(first.settled)
        expect((yield* actor.view).state).toBe("aborted")
        yield* joinSender(actor, fakeSender())
        yield* joinReceiver(actor, fakeReceiver())
        const run2 = yield* fake.nextRun
        const id2 = (yield* actor.view).stats?.transferId
        expect(fake.runs.length).toBe(2)
        expect(run2).not.toBe(run1)
        expect(id1).toMatch(/^t_[0-9a-f]+$/)
        expect(id2).toMatch(/^t_[0-9a-f]+$/)
        expect(id2).not.toBe(id1)
        yield* Deferred.succeed(run2.finish, completed)
      }))
  })

  describe("a party that is gone before pairing", () => {
    it.effect("a gone sender is dropped: the receiver waits, and pairs with the next sender", () =>
      Effect.gen(function*() {
        const fake = yield* makeFakeRunner()
        const actor = yield* actorOn(fake)
        const gone = fakeSender()
        const goneTicket = yield* joinSender(actor, gone)
        // The client left; its handler's `Leave` has not reached the mailbox yet.
        gone.leave()
        yield* joinReceiver(actor, fakeReceiver())
        expect(yield* actor.view).toMatchObject({ state: "waiting", sender: false, receivers: 1 })
        expect(fake.runs.length).toBe(0)
        const next = fakeSender()
        yield* joinSender(actor, next)
        const run = yield* fake.nextRun
        expect(run.sender).toBe(next.party)
        expect(yield* Deferred.isDone(goneTicket.started)).toBe(false)
        yield* Deferred.succeed(run.finish, completed)
      }))

    it.effect("a gone receiver is dropped: the sender waits for a live one", () =>
      Effect.gen(function*() {
        const fake = yield* makeFakeRunner()
        const actor = yield* actorOn(fake)
        const gone = fakeReceiver()
        yield* joinReceiver(actor, gone)
        gone.leave()
        const sender = fakeSender()
        yield* joinSender(actor, sender)
        expect(yield* actor.view).toMatchObject({ state: "waiting", sender: true, receivers: 0 })
        expect(fake.runs.length).toBe(0)
        expect(sender.lines).toEqual([SenderLine.waiting(1)])
        const live = fakeReceiver()
        yield* joinReceiver(actor, live)
        const run = yield* fake.nextRun
        expect(run.receivers).toEqual([live.party])
        yield* Deferred.succeed(run.finish, completed)
      }))

    it.effect("a waiting party whose handler's scope closes leaves: its slot is free again", () =>
      Effect.gen(function*() {
        const fake = yield* makeFakeRunner()
        const actor = yield* actorOn(fake)
        const handler = yield* Scope.make()
        yield* joinSender(actor, fakeSender()).pipe(Scope.provide(handler))
        yield* Scope.close(handler, Exit.void)
        expect((yield* actor.view).state).toBe("idle")
        expect(Exit.isSuccess(yield* Effect.exit(joinSender(actor, fakeSender())))).toBe(true)
      }))
  })

  describe("the wait timeout", () => {
    it.effect("a party that waits --wait-timeout is refused with 408, not a moment before", () =>
      Effect.gen(function*() {
        const fake = yield* makeFakeRunner()
        const actor = yield* actorOn(fake, { settings: { waitTimeout: Option.some(Duration.seconds(5)) } })
        const { subscription } = yield* actor.watch(path)
        const ticket = yield* joinSender(actor, fakeSender())
        expect(yield* stillWaitingAfter(Deferred.await(ticket.settled), 4_999)).toBe(true)
        const exit = yield* within(Deferred.await(ticket.settled), 1)
        expect(exit === undefined ? "still waiting" : errorShapeOf(exit)).toEqual(waitTimedOut)
        expect((yield* actor.view).state).toBe("idle")
        // Every state reaches the spectator (protocol §4): the wait, then the path going back to idle.
        const events = yield* subscription.take
        expect(events).toEqual([
          {
            id: 2,
            event: {
              event: "state",
              state: "waiting",
              transferId: null,
              sender: true,
              receivers: 0,
              expectedReceivers: 1,
              at: 0
            }
          },
          {
            id: 3,
            event: {
              event: "state",
              state: "idle",
              transferId: null,
              sender: false,
              receivers: 0,
              expectedReceivers: 0,
              at: 5_000
            }
          }
        ])
        expect(fake.runs.length).toBe(0)
      }))

    it.effect("every waiting party has its own timer", () =>
      Effect.gen(function*() {
        const fake = yield* makeFakeRunner()
        const actor = yield* actorOn(fake, { settings: { waitTimeout: Option.some(Duration.seconds(5)) } })
        const early = yield* joinReceiver(actor, fakeReceiver(), 2)
        yield* TestClock.adjust(3_000)
        const late = yield* joinReceiver(actor, fakeReceiver(), 2)
        const first = yield* within(Deferred.await(early.settled), 2_000)
        expect(first === undefined ? "still waiting" : errorShapeOf(first)).toEqual(waitTimedOut)
        expect(yield* actor.view).toMatchObject({ state: "waiting", receivers: 1 })
        const second = yield* within(Deferred.await(late.settled), 3_000)
        expect(second === undefined ? "still waiting" : errorShapeOf(second)).toEqual(waitTimedOut)
        expect((yield* actor.view).state).toBe("idle")
      }))

    it.effect("pairing disarms the timers: the transfer outlives the timeout", () =>
      Effect.gen(function*() {
        const fake = yield* makeFakeRunner()
        const actor = yield* actorOn(fake, { settings: { waitTimeout: Option.some(Duration.seconds(5)) } })
        const ticket = yield* joinSender(actor, fakeSender())
        yield* TestClock.adjust(4_000)
        yield* joinReceiver(actor, fakeReceiver())
        const run = yield* fake.nextRun
        run.meter.bytes = 1
        expect(yield* stillWaitingAfter(Deferred.await(ticket.settled), 60_000)).toBe(true)
        expect((yield* actor.view).state).toBe("streaming")
        expect(yield* Deferred.isDone(run.abort)).toBe(false)
        yield* Deferred.succeed(run.finish, completed)
        yield* Deferred.await(ticket.settled)
      }))

    it.effect("without --wait-timeout (the default) a party waits indefinitely", () =>
      Effect.gen(function*() {
        const fake = yield* makeFakeRunner()
        const actor = yield* actorOn(fake)
        const ticket = yield* joinSender(actor, fakeSender())
        expect(yield* stillWaitingAfter(Deferred.await(ticket.settled), Duration.toMillis(Duration.hours(24))))
          .toBe(true)
        expect((yield* actor.view).state).toBe("waiting")
      }))
  })

  describe("the stall timeout", () => {
    it.effect("a transfer that moves no byte for --stall-timeout is cut with a TransferAbort", () =>
      Effect.gen(function*() {
        const fake = yield* makeFakeRunner()
        const actor = yield* actorOn(fake, { settings: { stallTimeout: Duration.seconds(2) } })
        const ticket = yield* joinSender(actor, fakeSender())
        yield* joinReceiver(actor, fakeReceiver())
        const run = yield* fake.nextRun
        run.meter.bytes = 100
        expect(yield* stillWaitingAfter(Deferred.await(run.abort), 2_000)).toBe(true)
        const reason = yield* within(Deferred.await(run.abort), 500)
        const error = "The transfer stalled: no byte moved for 2s."
        expect(reason).toEqual(Exit.succeed({ error, line: SenderLine.stalled(error) }))
        yield* Deferred.await(ticket.settled)
        const view = yield* actor.view
        expect(view.state).toBe("aborted")
        expect(view.done).toMatchObject({ ok: false, error, bytes: 100 })
      }))
  })

  describe("retention (the registry keeps the result for --retention, not the actor)", () => {
    it.effect("the result is kept for the window without an actor, then the path is idle", () =>
      Effect.gen(function*() {
        const fake = yield* makeFakeRunner()
        const registry = yield* registryOn(fake, { retention: Duration.seconds(30) })
        const { actor, handlers } = yield* completedTransfer(registry, fake, 7)
        const held = yield* actor.view
        yield* Scope.close(handlers, Exit.void)

        // Nobody holds the path: its actor is gone, and the registry's record shows what the actor showed.
        yield* waitForNoActor(registry)
        const kept = yield* registry.view(name)
        expect(kept.state).toBe("complete")
        expect(kept.done).toMatchObject({ ok: true, bytes: 7 })
        expect({ ...kept, last: undefined }).toEqual({ ...held, last: undefined })
        yield* TestClock.adjust(29_999)
        expect((yield* registry.view(name)).state).toBe("complete")
        yield* TestClock.adjust(1)
        expect(yield* registry.size).toBe(0)
        // Idle, no actor, and the result outlives it as the path's `last` (protocol §9), the same object.
        const after = yield* registry.view(name)
        expect({ ...after, last: undefined }).toEqual(idleView)
        expect(after.last).toEqual(kept.done)
        expect(after.last).toBe(kept.last)
      }))

    it.effect("parties that all vanish mid-transfer do not take its end with them: done, retained, recorded", () =>
      Effect.gen(function*() {
        const fake = yield* makeFakeRunner()
        const registry = yield* registryOn(fake, { retention: Duration.seconds(30) })
        const handlers = yield* Scope.make()
        const actor = yield* registry.acquire(name, "party").pipe(Scope.provide(handlers))
        yield* joinSender(actor, fakeSender()).pipe(Scope.provide(handlers))
        yield* joinReceiver(actor, fakeReceiver()).pipe(Scope.provide(handlers))
        const run = yield* fake.nextRun
        // Both clients are gone (their handlers interrupted) while the relay is still ending.
        yield* Scope.close(handlers, Exit.void)
        expect(yield* registry.size).toBe(1)
        run.meter.bytes = 3
        yield* Deferred.succeed(run.finish, failed("The sender disconnected."))
        const view = yield* registry.view(name)
        expect(view.state).toBe("aborted")
        expect(view.done).toMatchObject({ ok: false, bytes: 3, error: "The sender disconnected." })
        yield* TestClock.adjust(30_000)
        expect(yield* registry.size).toBe(0)
        expect((yield* registry.view(name)).last).toEqual(view.done)
      }))

    it.effect("a spectator watching through the window sees the path go back to idle", () =>
      Effect.gen(function*() {
        const fake = yield* makeFakeRunner()
        const registry = yield* registryOn(fake, { retention: Duration.seconds(30) })
        const watcher = yield* registry.acquire(name, "spectator")
        const { subscription } = yield* watcher.watch(path)
        const handlers = yield* Scope.make()
        const actor = yield* registry.acquire(name, "party").pipe(Scope.provide(handlers))
        expect(actor).toBe(watcher)
        const ticket = yield* joinSender(actor, fakeSender()).pipe(Scope.provide(handlers))
        yield* joinReceiver(actor, fakeReceiver()).pipe(Scope.provide(handlers))
        const run = yield* fake.nextRun
        yield* Deferred.succeed(run.finish, completed)
        yield* Deferred.await(ticket.settled)
        yield* Scope.close(handlers, Exit.void)
        // Every state on the way (protocol §4), the final progress, and the done.
        const transfer = yield* subscription.take
        expect(kindsOf(transfer)).toEqual(["state", "state", "progress", "state", "done"])
        expect(statesOf(transfer)).toEqual(["waiting", "streaming", "complete"])
        expect(transfer[4]?.event).toMatchObject({ event: "done", ok: true, error: null })
        expect(yield* stillWaitingAfter(subscription.take, 29_999)).toBe(true)
        const end = yield* within(subscription.take, 1)
        expect(end === undefined ? "still waiting" : Exit.map(end, (b) => b.map((s) => s.event))).toEqual(
          Exit.succeed([
            {
              event: "state",
              state: "idle",
              transferId: null,
              sender: false,
              receivers: 0,
              expectedReceivers: 0,
              at: 30_000
            }
          ])
        )
        // The spectator still holds the actor.
        expect(yield* registry.size).toBe(1)
      }))

    it.effect("a spectator who comes during the window, with no actor left, is told the result under its own id", () =>
      Effect.gen(function*() {
        const fake = yield* makeFakeRunner()
        const registry = yield* registryOn(fake, { retention: Duration.seconds(30) })
        const first = yield* Scope.make()
        const watcher = yield* registry.acquire(name, "spectator").pipe(Scope.provide(first))
        const live = yield* watcher.watch(path).pipe(Scope.provide(first))
        const { handlers } = yield* completedTransfer(registry, fake, 9)
        const liveDone = (yield* live.subscription.take).find((s) => s.event.event === "done")
        yield* Scope.close(handlers, Exit.void)
        yield* Scope.close(first, Exit.void)
        yield* waitForNoActor(registry)

        yield* TestClock.adjust(10_000)
        const late = yield* registry.acquire(name, "spectator")
        const { replay } = yield* late.watch(path)
        expect(kindsOf(replay)).toEqual(["state", "progress", "done"])
        expect(statesOf(replay)).toEqual(["complete"])
        const replayedDone = replay.find((s) => s.event.event === "done")
        expect(replayedDone?.event).toEqual(liveDone?.event)
        // A reconnect naming that `done` must be recognised: the new actor knows it under the same id.
        const again = yield* late.watch(path, { lastEventId: liveDone?.id, untilDone: true })
        expect(again.start).toBe("over")
        // The window still ends on time for the actor the spectator brought back.
        yield* TestClock.adjust(20_000)
        expect((yield* late.view).state).toBe("idle")
      }))

    it.effect("a spectator who read a replay, back on the next actor of the window, still waits for the next transfer", () =>
      Effect.gen(function*() {
        const fake = yield* makeFakeRunner()
        const registry = yield* registryOn(fake, { retention: Duration.seconds(30) })
        const { handlers } = yield* completedTransfer(registry, fake, 1)
        yield* Scope.close(handlers, Exit.void)
        yield* waitForNoActor(registry)
        // A latecomer reads the replay (fresh ids, after the live `done`) and goes, and the actor with it.
        const visit = yield* Scope.make()
        const first = yield* registry.acquire(name, "spectator").pipe(Scope.provide(visit))
        const { replay } = yield* first.watch(path, { lastEventId: undefined, untilDone: true }).pipe(
          Scope.provide(visit)
        )
        yield* Scope.close(visit, Exit.void)
        yield* waitForNoActor(registry)
        const back = yield* registry.acquire(name, "spectator")
        const again = yield* back.watch(path, { lastEventId: replay.at(-1)?.id, untilDone: true })
        expect(again.start).toBe("follow")
      }))

    it.effect("a new transfer gathering during the window is not disturbed when the window ends", () =>
      Effect.gen(function*() {
        const fake = yield* makeFakeRunner()
        const registry = yield* registryOn(fake, { retention: Duration.seconds(30) })
        const actor = yield* registry.acquire(name, "party")
        const first = yield* joinSender(actor, fakeSender())
        yield* joinReceiver(actor, fakeReceiver())
        const run = yield* fake.nextRun
        yield* Deferred.succeed(run.finish, completed)
        yield* Deferred.await(first.settled)
        yield* TestClock.adjust(10_000)
        yield* joinSender(actor, fakeSender())
        expect(yield* registry.view(name)).toMatchObject({ state: "waiting", sender: true, done: undefined })
        yield* TestClock.adjust(20_000)
        expect(yield* registry.view(name)).toMatchObject({ state: "waiting", sender: true })
      }))
  })

  describe("history (protocol §9)", () => {
    it.effect("each ended transfer is recorded once, with the result spectators are told, before it is visible", () =>
      Effect.gen(function*() {
        const fake = yield* makeFakeRunner()
        const recorded: Array<unknown> = []
        const doneIds: Array<number> = []
        const actor = yield* actorOn(fake, {
          record: (done, doneId) => Effect.sync(() => void (recorded.push(done), doneIds.push(doneId)))
        })
        const spectator = yield* actor.watch("/p")
        for (const [outcome, bytes] of [[completed, 5], [failed("The sender disconnected."), 3]] as const) {
          const ticket = yield* joinSender(actor, fakeSender())
          yield* joinReceiver(actor, fakeReceiver())
          const run = yield* fake.nextRun
          expect(recorded.length).toBe(fake.runs.length - 1)
          run.meter.bytes = bytes
          yield* Deferred.succeed(run.finish, outcome)
          yield* Deferred.await(ticket.settled).pipe(Effect.ignore)
          const view = yield* actor.view
          expect(recorded.at(-1)).toBe(view.done)
          // With the id its live done went out with (until=done reconnections are judged by it later).
          let live: Stamped | undefined
          while (live === undefined) live = (yield* spectator.subscription.take).find((s) => s.event.event === "done")
          expect(doneIds.at(-1)).toBe(live.id)
        }
        expect(recorded).toMatchObject([{ ok: true, bytes: 5 }, { ok: false, bytes: 3 }])
      }))
  })

  describe("shutdown", () => {
    it.effect("ends waiting parties with 503 ShuttingDown, then closes the spectators' streams", () =>
      Effect.gen(function*() {
        const fake = yield* makeFakeRunner()
        const actor = yield* actorOn(fake)
        const { subscription } = yield* actor.watch(path)
        const sender = yield* joinSender(actor, fakeSender(), 2)
        const receiver = yield* joinReceiver(actor, fakeReceiver(), 2)
        yield* actor.shutdown
        const senderExit = yield* Effect.exit(Deferred.await(sender.settled))
        const receiverExit = yield* Effect.exit(Deferred.await(receiver.settled))
        expect(errorShapeOf(senderExit)).toEqual(shuttingDown)
        expect(errorShapeOf(receiverExit)).toEqual(shuttingDown)
        expect((yield* actor.view).state).toBe("idle")
        // The spectator read nothing until now: it gets every state (the two waits, then idle), then the end.
        const { end, events } = yield* readToEnd(subscription)
        expect(events.map((s) => s.id)).toEqual([2, 3, 4])
        const stateAt0 = { event: "state", transferId: null, at: 0 }
        expect(events.map((s) => s.event)).toEqual([
          { ...stateAt0, state: "waiting", sender: true, receivers: 0, expectedReceivers: 2 },
          { ...stateAt0, state: "waiting", sender: true, receivers: 1, expectedReceivers: 2 },
          { ...stateAt0, state: "idle", sender: false, receivers: 0, expectedReceivers: 0 }
        ])
        expect(end).toEqual(Exit.fail(new HubClosed()))
        expect(fake.runs.length).toBe(0)
      }))

    it.effect("cuts a running transfer with the shutdown's TransferAbort: aborted, visible in done", () =>
      Effect.gen(function*() {
        const fake = yield* makeFakeRunner()
        const actor = yield* actorOn(fake)
        const { subscription } = yield* actor.watch(path)
        const sender = yield* joinSender(actor, fakeSender())
        yield* joinReceiver(actor, fakeReceiver())
        const run = yield* fake.nextRun
        run.meter.bytes = 300
        yield* actor.shutdown
        expect(yield* Deferred.await(run.abort)).toEqual({
          error: "The server is shutting down.",
          line: SenderLine.shuttingDown
        })
        // The transfer's parties end with their transfer, not with a refusal.
        expect(yield* Effect.exit(Deferred.await(sender.settled))).toEqual(Exit.void)
        const view = yield* actor.view
        expect(view.state).toBe("aborted")
        expect(view.done).toMatchObject({ ok: false, bytes: 300, error: "The server is shutting down." })
        const batch = yield* subscription.take
        const done = batch.find((s) => s.event.event === "done")
        expect(done?.event).toMatchObject({ ok: false, error: "The server is shutting down." })
        expect((yield* Effect.flip(subscription.take))._tag).toBe("HubClosed")
      }))

    it.effect("drain refuses newcomers and turns waiting parties away with 503; the shutdown ends every path", () =>
      Effect.gen(function*() {
        const fake = yield* makeFakeRunner()
        const registry = yield* registryOn(fake)
        const a = yield* registry.acquire(PipeName("a"), "party")
        const b = yield* registry.acquire(PipeName("b"), "party")
        const waiting = yield* joinSender(a, fakeSender())
        const streaming = yield* joinSender(b, fakeSender())
        yield* joinReceiver(b, fakeReceiver())
        const run = yield* fake.nextRun
        yield* registry.drain
        expect(errorShapeOf(yield* Effect.exit(registry.acquire(PipeName("c"), "party")))).toEqual(shuttingDown)
        expect(errorShapeOf(yield* Effect.exit(registry.acquire(PipeName("a"), "spectator")))).toEqual(shuttingDown)
        // A waiting party is answered at once (it retries where the balancer sends the path next); a running
        // transfer goes on.
        expect(errorShapeOf(yield* Effect.exit(Deferred.await(waiting.settled)))).toEqual(shuttingDown)
        expect(yield* Deferred.isDone(run.abort)).toBe(false)
        yield* registry.shutdown
        expect(yield* Effect.exit(Deferred.await(streaming.settled))).toEqual(Exit.void)
        expect((yield* registry.view(PipeName("b"))).done).toMatchObject({ ok: false })
      }))
  })

  describe("--max-pipes", () => {
    it.effect("counts paths with a sender or receiver; spectators never lock a newcomer out", () =>
      Effect.gen(function*() {
        const fake = yield* makeFakeRunner()
        const registry = yield* registryOn(fake, { maxPipes: 1 })
        const holder = yield* Scope.make()
        yield* registry.acquire(PipeName("a"), "party").pipe(Scope.provide(holder))
        // The same path again is no new pipe.
        expect(Exit.isSuccess(yield* Effect.exit(registry.acquire(PipeName("a"), "party")))).toBe(true)
        expect(errorShapeOf(yield* Effect.exit(registry.acquire(PipeName("b"), "party")))).toEqual({
          _tag: "ServerFull",
          reason: "TooManyPipes",
          message: "The server holds its limit of 1 pipes; try again later."
        })
        expect(Exit.isSuccess(yield* Effect.exit(registry.acquire(PipeName("c"), "spectator")))).toBe(true)
        yield* Scope.close(holder, Exit.void)
        // The test's scope still holds "a" once.
        expect(errorShapeOf(yield* Effect.exit(registry.acquire(PipeName("b"), "party")))?.reason).toBe("TooManyPipes")
      }))
  })

  describe("concurrent joins", () => {
    it.effect("many senders at once: exactly one is accepted, every other gets 409 SenderConflict", () =>
      Effect.gen(function*() {
        const fake = yield* makeFakeRunner()
        const actor = yield* actorOn(fake)
        const exits = yield* Effect.forEach(
          Array.from({ length: 50 }, () => fakeSender()),
          (sender) => Effect.exit(joinSender(actor, sender)),
          { concurrency: "unbounded" }
        )
        expect(exits.filter(Exit.isSuccess).length).toBe(1)
        const refusals = exits.flatMap((exit) => {
          const shape = errorShapeOf(exit)
          return shape === undefined ? [] : [shape]
        })
        expect(refusals.length).toBe(49)
        for (const refusal of refusals) {
          expect(refusal).toEqual({
            _tag: "PipeBusy",
            reason: "SenderConflict",
            message: "Another sender has been connected on '/p'."
          })
        }
        expect(yield* actor.view).toMatchObject({ state: "waiting", sender: true, receivers: 0 })
      }))

    it.effect("senders and receivers racing: one pair, one transfer, everyone else 409", () =>
      Effect.gen(function*() {
        const fake = yield* makeFakeRunner()
        const actor = yield* actorOn(fake)
        const senders = Array.from({ length: 40 }, () => fakeSender())
        const receivers = Array.from({ length: 40 }, () => fakeReceiver())
        const joins = senders.flatMap((sender, i) => {
          const receiver = receivers[i]
          return receiver === undefined ? [] : [
            Effect.map(Effect.exit(joinSender(actor, sender)), (exit) => ({ role: "sender", exit }) as const),
            Effect.map(Effect.exit(joinReceiver(actor, receiver)), (exit) => ({ role: "receiver", exit }) as const)
          ]
        })
        const results = yield* Effect.all(joins, { concurrency: "unbounded" })
        const accepted = results.filter((r) => Exit.isSuccess(r.exit))
        expect(accepted.map((r) => r.role).sort()).toEqual(["receiver", "sender"])
        const refusals = results.flatMap((r) => {
          const shape = errorShapeOf(r.exit)
          return shape === undefined ? [] : [shape]
        })
        expect(refusals.length).toBe(78)
        expect(refusals.every((r) => r._tag === "PipeBusy")).toBe(true)
        expect(new Set(refusals.map((r) => r.reason)).size).toBeGreaterThanOrEqual(1)
        for (const reason of refusals.map((r) => r.reason)) {
          expect(["SenderConflict", "ReceiversFull", "AlreadyEstablished"]).toContain(reason)
        }
        const run = yield* fake.nextRun
        expect(fake.runs.length).toBe(1)
        expect(senders.map((s) => s.party)).toContain(run.sender)
        expect(receivers.map((r) => r.party)).toContain(run.receivers[0])
        yield* Deferred.succeed(run.finish, completed)
      }))

    it.effect("through the registry: one actor per path however many handlers race for it", () =>
      Effect.gen(function*() {
        const fake = yield* makeFakeRunner()
        const registry = yield* registryOn(fake)
        const exits = yield* Effect.forEach(
          Array.from({ length: 30 }, () => fakeSender()),
          (sender) =>
            Effect.exit(Effect.flatMap(registry.acquire(name, "party"), (actor) => joinSender(actor, sender))),
          { concurrency: "unbounded" }
        )
        expect(yield* registry.size).toBe(1)
        expect(exits.filter(Exit.isSuccess).length).toBe(1)
        expect(exits.map((e) => errorShapeOf(e)?.reason).filter((r) => r === "SenderConflict").length).toBe(29)
      }))
  })

  describe("a defect inside the runner", () => {
    it.effect("ends the transfer visibly, and the path keeps working", () =>
      Effect.gen(function*() {
        const fake = yield* makeFakeRunner("die")
        const actor = yield* actorOn(fake)
        const { subscription } = yield* actor.watch(path)
        const sender = yield* joinSender(actor, fakeSender())
        const receiver = yield* joinReceiver(actor, fakeReceiver())
        const run1 = yield* fake.nextRun
        expect(yield* within(Deferred.await(sender.settled), 1_000)).toEqual(Exit.void)
        expect(yield* within(Deferred.await(receiver.settled), 1_000)).toEqual(Exit.void)
        const view = yield* actor.view
        expect(view.state).toBe("aborted")
        expect(view.done).toMatchObject({ ok: false, bytes: 0, error: internalError })
        // Spectators see it end: aborted, then a done with ok false.
        const batch = yield* subscription.take
        expect(kindsOf(batch)).toEqual(["state", "state", "progress", "state", "done"])
        expect(statesOf(batch)).toEqual(["waiting", "streaming", "aborted"])
        expect(batch[4]?.event).toMatchObject({ event: "done", ok: false, error: internalError })
        // It keeps answering, and the next pair starts a new transfer.
        const { replay } = yield* actor.watch(path)
        expect(kindsOf(replay)).toEqual(["state", "progress", "done"])
        expect(statesOf(replay)).toEqual(["aborted"])
        yield* joinSender(actor, fakeSender())
        yield* joinReceiver(actor, fakeReceiver())
        const run2 = yield* fake.nextRun
        expect(run2).not.toBe(run1)
        expect(fake.runs.length).toBe(2)
      }))

    it.effect("becomes a failed outcome: parties settled, done with ok false", () =>
      Effect.gen(function*() {
        const fake = yield* makeFakeRunner("die")
        const actor = yield* actorOn(fake)
        const sender = yield* joinSender(actor, fakeSender())
        yield* joinReceiver(actor, fakeReceiver())
        yield* fake.nextRun
        const settled = yield* within(Deferred.await(sender.settled), 1_000)
        expect(settled).toEqual(Exit.void)
        const view = yield* actor.view
        expect(view.state).toBe("aborted")
        expect(view.done?.ok).toBe(false)
        expect(view.done?.error).toBe(internalError)
        expect(failedInternally).toEqual({ ok: false, error: internalError })
      }))

    // The same defect, seen at shutdown: `shutdown` must still complete and close the path.
    it.effect("does not break a later shutdown", () =>
      Effect.gen(function*() {
        const fake = yield* makeFakeRunner("die")
        const actor = yield* actorOn(fake)
        yield* joinSender(actor, fakeSender())
        yield* joinReceiver(actor, fakeReceiver())
        yield* fake.nextRun
        expect(Exit.isSuccess(yield* Effect.exit(actor.shutdown))).toBe(true)
      }))
  })
})
