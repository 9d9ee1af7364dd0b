import { describe, expect, it } from "@effect/vitest"
import { Deferred, Effect, Fiber, Scheduler } from "effect"
import { FiberScheduler } from "../../src/FiberScheduler.js"

/** Resolves on the event loop's next check phase: after every microtask queued before it. */
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve))

describe("FiberScheduler", () => {
  it("runs a batch by priority, first come first served within one, all fibers in one queue", async () => {
    const scheduler = new FiberScheduler()
    const [a, b] = [scheduler.makeDispatcher(), scheduler.makeDispatcher()]
    expect(a).toBe(b)
    const ran: Array<string> = []
    a.scheduleTask(() => ran.push("1a"), 1)
    b.scheduleTask(() => ran.push("0a"), 0)
    a.scheduleTask(() => ran.push("1b"), 1)
    b.scheduleTask(() => ran.push("0b"), 0)
    a.scheduleTask(() => ran.push("-1"), -1)
    await nextTurn()
    expect(ran).toEqual(["-1", "0a", "0b", "1a", "1b"])
  })

  it("runs the next step before the event loop's next turn", async () => {
    const dispatcher = new FiberScheduler().makeDispatcher()
    const ran: Array<string> = []
    setImmediate(() => ran.push("turn"))
    dispatcher.scheduleTask(() => ran.push("task"), 0)
    await nextTurn()
    expect(ran).toEqual(["task", "turn"])
  })

  it("gives the event loop its turn after a bounded run of batches that keep rescheduling", async () => {
    const dispatcher = new FiberScheduler().makeDispatcher()
    let batches = 0
    let stop = false
    const again = () => {
      batches++
      if (!stop) dispatcher.scheduleTask(again, 0)
    }
    const turned = new Promise<number>((resolve) => setImmediate(() => resolve(batches)))
    dispatcher.scheduleTask(again, 0)
    const before = await turned
    stop = true
    expect(before).toBeGreaterThan(1)
    expect(before).toBeLessThanOrEqual(8)
    await nextTurn()
  })

  it("flush runs what is queued at once, and what that queues", () => {
    const dispatcher = new FiberScheduler().makeDispatcher()
    const ran: Array<number> = []
    dispatcher.scheduleTask(() => {
      ran.push(1)
      dispatcher.scheduleTask(() => ran.push(2), 0)
    }, 0)
    dispatcher.flush()
    expect(ran).toEqual([1, 2])
  })

  it.effect("carries fibers that wait on each other, and a busy fiber does not starve a timer", () =>
    Effect.gen(function*() {
      // Ping-pong through Deferreds: every hop is a fiber resumed by another one.
      const hops = 500
      const pings = yield* Effect.forEach(Array.from({ length: hops }, () => 0), () => Deferred.make<number>())
      const chain = yield* Effect.forEach(
        pings.slice(1),
        (ping, i) =>
          Effect.forkChild(Effect.flatMap(Deferred.await(pings[i] ?? ping), (n) => Deferred.succeed(ping, n + 1)))
      )
      const busy = yield* Effect.forkChild(Effect.forever(Effect.yieldNow))
      yield* Deferred.succeed(pings[0] ?? (yield* Deferred.make<number>()), 0)
      const last = pings[hops - 1]
      expect(last === undefined ? -1 : yield* Deferred.await(last)).toBe(hops - 1)
      // Node's own timer, outside Effect: it fires although `busy` reschedules itself without end.
      yield* Effect.promise(() => new Promise<void>((resolve) => setTimeout(resolve, 5)))
      yield* Fiber.interrupt(busy)
      yield* Effect.forEach(chain, Fiber.join)
    }).pipe(Effect.provideService(Scheduler.Scheduler, new FiberScheduler())))
})
