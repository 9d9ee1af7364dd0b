import { Cause, Context, Deferred, Effect, Exit, Fiber, Layer, Option, Queue } from "effect"
import { TestClock } from "effect/testing"
import type { EventIds } from "../../../src/actors/EventIds.js"
import { makeEventIds } from "../../../src/actors/EventIds.js"
import type { ReceiverParty, SenderParty } from "../../../src/actors/Party.js"
import { TransferRunner } from "../../../src/actors/Party.js"
import type { Retention } from "../../../src/actors/PipeActor.js"
import { makePipeActor } from "../../../src/actors/PipeActor.js"
import { PipeRegistry } from "../../../src/actors/PipeRegistry.js"
import type { PipeError } from "../../../src/domain/PipeError.js"
import { PipeName } from "../../../src/domain/PipeName.js"
import type { DoneData } from "../../../src/domain/TransferReport.js"
import type { ByteMeter, TransferAbort, TransferOutcome } from "../../../src/domain/TransferStats.js"
import { failed } from "../../../src/domain/TransferStats.js"
import type { Recorded } from "../../../src/history/TransferHistory.js"
import { TransferHistory } from "../../../src/history/TransferHistory.js"
import type { ServerSettings } from "../../../src/ServerConfig.js"
import { defaultSettings, ServerConfig } from "../../../src/ServerConfig.js"

/**
 * Fakes for the actor tests: parties are plain values that record the lines they are told, and the runner
 * records each transfer it is asked to run and ends it when the test says so (or when its `abort` fires).
 */

export interface FakeSender {
  readonly party: SenderParty
  readonly lines: Array<string>
  /** Makes `gone()` answer `true`: the client left while its `Leave` may still be queued. */
  readonly leave: () => void
}

export interface FakeReceiver {
  readonly party: ReceiverParty
  readonly lines: Array<string>
  readonly leave: () => void
}

export const fakeSender = (): FakeSender => {
  const lines: Array<string> = []
  let gone = false
  return {
    party: { role: "sender", notify: (line) => void lines.push(line), gone: () => gone },
    lines,
    leave: () => {
      gone = true
    }
  }
}

export const fakeReceiver = (): FakeReceiver => {
  const lines: Array<string> = []
  let gone = false
  return {
    party: { role: "receiver", notify: (line) => void lines.push(line), gone: () => gone },
    lines,
    leave: () => {
      gone = true
    }
  }
}

/** One call of `TransferRunner.run`, as the fake saw it. */
export interface FakeRun {
  readonly name: PipeName
  readonly sender: SenderParty
  readonly receivers: ReadonlyArray<ReceiverParty>
  readonly meter: ByteMeter
  readonly abort: Deferred.Deferred<TransferAbort>
  /** Completing it ends the transfer with that outcome. */
  readonly finish: Deferred.Deferred<TransferOutcome>
}

export interface FakeRunner {
  readonly runner: TransferRunner["Service"]
  readonly layer: Layer.Layer<TransferRunner>
  /** Every run so far, in order. */
  readonly runs: ReadonlyArray<FakeRun>
  /** Waits for the next run to start. */
  readonly nextRun: Effect.Effect<FakeRun>
}

/**
 * `mode: "die"` breaks the runner's contract (it never dies) on purpose: the actor's robustness is tested
 * against it.
 */
export const makeFakeRunner = (mode: "normal" | "die" = "normal"): Effect.Effect<FakeRunner> =>
  Effect.gen(function*() {
    const runs: Array<FakeRun> = []
    const started = yield* Queue.unbounded<FakeRun>()
    const runner = TransferRunner.of({
      run: (name, sender, receivers, meter, abort) =>
        Effect.gen(function*() {
          const finish = yield* Deferred.make<TransferOutcome>()
          const run: FakeRun = { name, sender, receivers, meter, abort, finish }
          runs.push(run)
          yield* Queue.offer(started, run)
          if (mode === "die") return yield* Effect.die(new Error("runner defect"))
          return yield* Effect.raceFirst(
            Deferred.await(finish),
            Effect.map(Deferred.await(abort), (reason) => failed(reason.error))
          )
        })
    })
    return { runner, layer: Layer.succeed(TransferRunner, runner), runs, nextRun: Queue.take(started) }
  })

export const settingsWith = (overrides: Partial<ServerSettings> = {}): ServerSettings => ({
  ...defaultSettings,
  ...overrides
})

export interface ActorOptions {
  readonly settings?: Partial<ServerSettings>
  /** Called when a transfer's retention window starts; the registry's version keeps the result meanwhile. */
  readonly retain?: (retention: Retention) => Effect.Effect<void>
  /** A result whose window is still open when the actor is made. */
  readonly retained?: Retention
  /** Called with each ended transfer's result, for the history. */
  readonly record?: (done: DoneData, doneId: number) => Effect.Effect<void>
  /** The path's history record, for `until=done` reconnections; none by default. */
  readonly recall?: Effect.Effect<Option.Option<Recorded>>
  readonly name?: string
  /** The id counter; by default a fresh one seeded from the (test) clock, as the registry's is at boot. */
  readonly eventIds?: EventIds
}

/** A path's actor over the fake runner, living in the caller's scope (the test's). */
export const actorOn = (fake: FakeRunner, options: ActorOptions = {}) =>
  Effect.flatMap(
    options.eventIds === undefined ? makeEventIds : Effect.succeed(options.eventIds),
    (eventIds) =>
      makePipeActor(PipeName(options.name ?? "p"), {
        settings: settingsWith(options.settings),
        retain: options.retain ?? (() => Effect.void),
        retained: options.retained,
        hold: Effect.succeed(Effect.void),
        record: options.record ?? (() => Effect.void),
        recall: options.recall ?? Effect.succeed(Option.none()),
        eventIds
      })
  ).pipe(Effect.provideService(TransferRunner, fake.runner))

/** The registry over the fake runner, built in the caller's scope (the test's). */
export const registryOn = (fake: FakeRunner, settings: Partial<ServerSettings> = {}) =>
  Layer.build(
    PipeRegistry.layer.pipe(
      Layer.provide(TransferHistory.layerMemory),
      Layer.provide(Layer.mergeAll(Layer.succeed(ServerConfig, settingsWith(settings)), fake.layer))
    )
  ).pipe(Effect.map((context) => Context.get(context, PipeRegistry)))

// ---- looking at results --------------------------------------------------------------------------------

export interface ErrorShape {
  readonly _tag: string
  readonly reason: string
  readonly message: string
}

export const shapeOf = (error: PipeError): ErrorShape => ({
  _tag: error._tag,
  reason: error.reason,
  message: error.message
})

/** The typed error of a failed exit, as the wire would carry it; `undefined` for a success or a defect. */
export const errorShapeOf = <A>(exit: Exit.Exit<A, PipeError>): ErrorShape | undefined => {
  if (Exit.isSuccess(exit)) return undefined
  const error = Cause.findErrorOption(exit.cause)
  return Option.isSome(error) ? shapeOf(error.value) : undefined
}

/**
 * Whether `effect` is still waiting after `wait` of test time. The effect runs in a fiber of its own, so a
 * wait that never ends fails the assertion instead of hanging the test.
 */
export const stillWaitingAfter = <A, E>(effect: Effect.Effect<A, E>, wait: number) =>
  Effect.gen(function*() {
    const fiber = yield* Effect.forkChild(Effect.timeoutOption(effect, wait))
    yield* TestClock.adjust(wait)
    const result = yield* Fiber.join(fiber)
    return Option.isNone(result)
  })

/** What `effect` ends with within `wait` of test time: `undefined` if it is still waiting then. */
export const within = <A, E>(effect: Effect.Effect<A, E>, wait: number) =>
  Effect.gen(function*() {
    const fiber = yield* Effect.forkChild(Effect.exit(Effect.timeoutOption(effect, wait)))
    yield* TestClock.adjust(wait)
    const exit = yield* Fiber.join(fiber)
    if (Exit.isSuccess(exit)) return Option.isSome(exit.value) ? Exit.succeed(exit.value.value) : undefined
    return Exit.failCause(exit.cause)
  })
