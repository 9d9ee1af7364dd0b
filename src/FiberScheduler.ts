import type { Fiber } from "effect"
import type { Scheduler, SchedulerDispatcher } from "effect/Scheduler"

/**
 * How many batches in a row may run as microtasks before one waits for the event loop (`setImmediate`),
 * so that fibers that keep rescheduling each other can never starve sockets and timers.
 */
const microBatchesPerTurn = 8

/**
 * The server's fiber scheduler: one dispatcher for every fiber, and the next batch as a microtask.
 *
 * Effect's default gives each fiber a dispatcher of its own that runs its next step from `setImmediate`.
 * Pairing a sender with its receiver hops through several fibers (the handler, the path's actor, the
 * transfer), each hop then waits for a turn of the event loop, and every such fiber keeps a dispatcher
 * object: measured, that was most of the gap to piping-server's time to first byte. Here all fibers share
 * one queue, a hop runs as soon as the current JavaScript is done, and after `microBatchesPerTurn` batches
 * in a row the event loop gets its turn, as with the default.
 */
export class FiberScheduler implements Scheduler {
  readonly executionMode = "async" as const
  private readonly dispatcher = new SharedDispatcher()

  shouldYield(fiber: Fiber.Fiber<unknown, unknown>): boolean {
    return fiber.currentOpCount >= fiber.cache.maxOpsBeforeYield
  }

  makeDispatcher(): SchedulerDispatcher {
    return this.dispatcher
  }
}

class SharedDispatcher implements SchedulerDispatcher {
  /** Tasks by priority, lowest first; FIFO within one priority (the default's order). */
  private buckets: Array<[priority: number, tasks: Array<() => void>]> = []
  private scheduled = false
  /** Batches run as microtasks since the event loop last had a turn. */
  private microBatches = 0
  private turnPending = false

  scheduleTask(task: () => void, priority: number): void {
    const buckets = this.buckets
    let index = 0
    while (index < buckets.length && (buckets[index]?.[0] ?? 0) < priority) index++
    const bucket = buckets[index]
    if (bucket !== undefined && bucket[0] === priority) bucket[1].push(task)
    else buckets.splice(index, 0, [priority, [task]])
    if (this.scheduled) return
    this.scheduled = true
    if (this.microBatches < microBatchesPerTurn) {
      this.microBatches++
      queueMicrotask(this.runBatch)
      this.awaitTurn()
    } else setImmediate(this.runTurn)
  }

  flush(): void {
    while (this.buckets.length > 0) this.run()
  }

  private readonly runBatch = () => {
    this.scheduled = false
    this.run()
  }

  private readonly runTurn = () => {
    this.microBatches = 0
    this.runBatch()
  }

  /** Once the event loop has had its turn again, microtask batches are allowed anew. */
  private awaitTurn() {
    if (this.turnPending) return
    this.turnPending = true
    setImmediate(() => {
      this.turnPending = false
      this.microBatches = 0
    })
  }

  private run() {
    const buckets = this.buckets
    this.buckets = []
    for (const [, tasks] of buckets) for (const task of tasks) task()
  }
}
