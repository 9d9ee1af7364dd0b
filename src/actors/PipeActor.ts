import { Clock, Deferred, Duration, Effect, Fiber, Metric, Option, Queue, Schedule, Scope } from "effect"
import type { JoinRejection } from "../domain/PipeError.js"
import {
  AlreadyEstablished,
  ReceiverCountMismatch,
  ReceiversFull,
  SenderConflict,
  ShuttingDown,
  TooManySpectators,
  WaitTimedOut
} from "../domain/PipeError.js"
import type { PipeName } from "../domain/PipeName.js"
import type { PipeState } from "../domain/PipeState.js"
import { SenderLine } from "../domain/SenderLine.js"
import type { TransferId } from "../domain/TransferId.js"
import { makeTransferId } from "../domain/TransferId.js"
import type { TransferAbort, TransferOutcome } from "../domain/TransferStats.js"
import { TransferStats } from "../domain/TransferStats.js"
import { injectedFault } from "../FaultInjection.js"
import { runTransfer } from "../http/Transfer.js"
import type { DoneData, PipeEvent } from "../schema/PipeEvent.js"
import type { ServerSettings } from "../ServerConfig.js"
import type { Party, ReceiverParty, SenderParty } from "./Party.js"
import { PipeMetrics } from "./PipeMetrics.js"
import { tellSender } from "./Party.js"
import type { Stamped, Subscription } from "./SpectatorHub.js"
import { makeSpectatorHub } from "./SpectatorHub.js"

/** What a sender or receiver brings when it joins; the actor makes the party from it. */
export type SenderJoin = Omit<SenderParty, "id" | "settled" | "started" | "role">
export type ReceiverJoin = Omit<ReceiverParty, "id" | "settled" | "started" | "role">

/** The server is going away (`line` is what a sender reads, `error` what spectators' `done` says). */
const shutdownAbort: TransferAbort = { error: "The server is shutting down.", line: SenderLine.shuttingDown }

const stallAbort = (timeout: Duration.Duration): TransferAbort => {
  const error = `The transfer stalled: no byte moved for ${Duration.format(timeout)}.`
  return { error, line: SenderLine.stalled(error) }
}

/** A consistent picture of a path at one instant, for `HEAD`, the JSON snapshot and replays. */
export interface PipeView {
  readonly state: PipeState
  readonly sender: boolean
  readonly receivers: number
  readonly expectedReceivers: number
  /** The running transfer's stats, or the retained one's after it ended. */
  readonly stats: TransferStats | undefined
  readonly done: DoneData | undefined
  readonly spectators: number
}

/** A path nobody holds: what every path looks like before its first party and after its retention. */
export const idleView: PipeView = {
  state: "idle",
  sender: false,
  receivers: 0,
  expectedReceivers: 0,
  stats: undefined,
  done: undefined,
  spectators: 0
}

export interface Watch {
  /** The current snapshot as events: `state`, then `progress` if bytes flowed, then `done` if it ended. */
  readonly replay: ReadonlyArray<Stamped>
  readonly subscription: Subscription
}

/**
 * One pipe path: a fiber reading a mailbox, the only code that changes the path's state. Senders,
 * receivers and spectators send it messages and await replies; none of them touches another's internals.
 */
export interface PipeActor {
  readonly name: PipeName
  /** Joins as the sender; the scope's end withdraws the party if it is still waiting. */
  readonly joinSender: (join: SenderJoin) => Effect.Effect<SenderParty, JoinRejection, Scope.Scope>
  readonly joinReceiver: (join: ReceiverJoin) => Effect.Effect<ReceiverParty, JoinRejection, Scope.Scope>
  readonly view: Effect.Effect<PipeView>
  /** Subscribes a spectator for the scope's lifetime (`path` as the client sent it, for the 429 message). */
  readonly watch: (path: string) => Effect.Effect<Watch, TooManySpectators, Scope.Scope>
  /** Ends the path for a server shutdown; completes once everyone has been told. */
  readonly shutdown: Effect.Effect<void>
  /** The retention window of `transferId` is over: forget its result. */
  readonly endRetention: (transferId: TransferId) => Effect.Effect<void>
}

type Message =
  | {
    readonly _tag: "JoinSender"
    readonly id: number
    readonly join: SenderJoin
    readonly reply: Deferred.Deferred<SenderParty, JoinRejection>
  }
  | {
    readonly _tag: "JoinReceiver"
    readonly id: number
    readonly join: ReceiverJoin
    readonly reply: Deferred.Deferred<ReceiverParty, JoinRejection>
  }
  | { readonly _tag: "Leave"; readonly id: number }
  | { readonly _tag: "WaitExpired"; readonly id: number }
  | { readonly _tag: "Tick"; readonly transferId: TransferId }
  | { readonly _tag: "TransferEnded"; readonly transferId: TransferId; readonly outcome: TransferOutcome }
  | { readonly _tag: "RetentionEnded"; readonly transferId: TransferId }
  | { readonly _tag: "View"; readonly reply: Deferred.Deferred<PipeView> }
  | { readonly _tag: "Shutdown"; readonly reply: Deferred.Deferred<void> }
  | {
    readonly _tag: "Watch"
    readonly path: string
    readonly scope: Scope.Scope
    readonly reply: Deferred.Deferred<Watch, TooManySpectators>
  }

interface Waiting {
  readonly n: number
  sender: SenderParty | undefined
  receivers: Array<ReceiverParty>
}

interface Streaming {
  readonly stats: TransferStats
  readonly sender: SenderParty
  readonly receivers: ReadonlyArray<ReceiverParty>
  readonly ticker: Fiber.RuntimeFiber<unknown>
  /** The transfer; its outcome is also sent to the mailbox as `TransferEnded`. */
  readonly relay: Fiber.RuntimeFiber<TransferOutcome>
  /** Cuts the transfer from outside with a reason (shutdown, stall). */
  readonly abort: Deferred.Deferred<TransferAbort>
}

interface Retained {
  readonly stats: TransferStats
  readonly done: DoneData
  readonly receivers: number
}

export interface PipeActorOptions {
  readonly settings: ServerSettings
  /** Keeps this actor alive for the retention window after a transfer, then calls `endRetention`. */
  readonly retain: (transferId: TransferId) => Effect.Effect<void>
}

export const makePipeActor = (
  name: PipeName,
  options: PipeActorOptions
): Effect.Effect<PipeActor, never, Scope.Scope> =>
  Effect.gen(function*() {
    const { settings } = options
    const scope = yield* Effect.scope
    const mailbox = yield* Queue.unbounded<Message>()
    const hub = yield* makeSpectatorHub
    const timers = new Map<number, Fiber.RuntimeFiber<unknown>>()
    let nextPartyId = 0
    let nextEventId = 0
    let waiting: Waiting | undefined
    let streaming: Streaming | undefined
    let retained: Retained | undefined

    const tell = (message: Message) => Queue.offer(mailbox, message)
    const ask = <A, E>(message: (reply: Deferred.Deferred<A, E>) => Message) =>
      Effect.flatMap(Deferred.make<A, E>(), (reply) => Effect.zipRight(tell(message(reply)), Deferred.await(reply)))

    // ---- the state as spectators see it ---------------------------------------------------------------

    const stateNow = (): PipeState =>
      streaming !== undefined
        ? "streaming"
        : waiting !== undefined
        ? "waiting"
        : retained !== undefined
        ? retained.done.ok ? "complete" : "aborted"
        : "idle"

    const viewNow = Effect.map(hub.size, (spectators): PipeView => ({
      state: stateNow(),
      sender: streaming !== undefined || waiting?.sender !== undefined,
      receivers: streaming?.receivers.length ?? waiting?.receivers.length ?? 0,
      expectedReceivers: streaming?.receivers.length ?? waiting?.n ?? retained?.receivers ?? 0,
      // A new transfer forming during the last one's retention must not show the last one's numbers.
      stats: streaming?.stats ?? (waiting === undefined ? retained?.stats : undefined),
      done: streaming === undefined && waiting === undefined ? retained?.done : undefined,
      spectators
    }))

    const stateEvent = (view: PipeView, at: number): PipeEvent => ({
      event: "state",
      state: view.state,
      transferId: view.stats?.transferId ?? null,
      sender: view.sender,
      receivers: view.receivers,
      expectedReceivers: view.expectedReceivers,
      at
    })

    const countWaiting = (delta: number) => Metric.incrementBy(PipeMetrics.gauges.waitingParties, delta)

    const countEnded = (ok: boolean, bytes: number) =>
      Effect.all([
        Metric.incrementBy(PipeMetrics.gauges.transfersActive, -1),
        Metric.increment(ok ? PipeMetrics.counters.transfersCompleted : PipeMetrics.counters.transfersAborted),
        Metric.incrementBy(PipeMetrics.counters.bytesRelayed, bytes)
      ], { discard: true })

    const stamp = (event: PipeEvent): Stamped => ({ id: ++nextEventId, event })

    const publish = (event: PipeEvent) => hub.publish(stamp(event))

    const publishState = Effect.gen(function*() {
      const now = yield* Clock.currentTimeMillis
      yield* publish(stateEvent(yield* viewNow, now))
    })

    // ---- waiting parties ------------------------------------------------------------------------------

    const armTimer = (id: number) =>
      Option.match(settings.waitTimeout, {
        onNone: () => Effect.void,
        onSome: (timeout) =>
          tell({ _tag: "WaitExpired", id }).pipe(
            Effect.delay(timeout),
            Effect.forkIn(scope),
            Effect.map((fiber) => void timers.set(id, fiber))
          )
      })

    const disarmTimer = (id: number) => {
      const timer = timers.get(id)
      timers.delete(id)
      return timer === undefined ? Effect.void : Fiber.interruptFork(timer)
    }

    const partyBase = (id: number) =>
      Effect.all({
        id: Effect.succeed(id),
        settled: Deferred.make<void, WaitTimedOut | ShuttingDown>(),
        started: Deferred.make<void>()
      })

    /** Everyone waiting now, sender first. */
    const waitingParties = (): Array<Party> =>
      waiting === undefined ? [] : [...(waiting.sender === undefined ? [] : [waiting.sender]), ...waiting.receivers]

    /** Takes a waiting party out with its timer and its count; the party, if it was still waiting. */
    const leave = (id: number) =>
      Effect.gen(function*() {
        const party = withdraw(id)
        if (party === undefined) return undefined
        yield* disarmTimer(party.id)
        yield* countWaiting(-1)
        return party
      })

    const withdraw = (id: number): Party | undefined => {
      if (waiting === undefined) return undefined
      let party: Party | undefined
      if (waiting.sender?.id === id) {
        party = waiting.sender
        waiting.sender = undefined
      } else {
        const index = waiting.receivers.findIndex((r) => r.id === id)
        if (index >= 0) party = waiting.receivers.splice(index, 1)[0]
      }
      if (waiting.sender === undefined && waiting.receivers.length === 0) waiting = undefined
      return party
    }

    const joinSender = (id: number, join: SenderJoin, reply: Deferred.Deferred<SenderParty, JoinRejection>) =>
      Effect.gen(function*() {
        if (injectedFault("actor", name)) return yield* Effect.dieMessage(`injected actor defect on ${name}`)
        if (streaming !== undefined) return yield* Deferred.fail(reply, new AlreadyEstablished({ path: join.path }))
        if (waiting?.sender !== undefined) return yield* Deferred.fail(reply, new SenderConflict({ path: join.path }))
        if (waiting !== undefined && waiting.n !== join.n) {
          return yield* Deferred.fail(reply, new ReceiverCountMismatch({ expected: waiting.n, actual: join.n }))
        }
        const party: SenderParty = { ...join, role: "sender", ...(yield* partyBase(id)) }
        const receivers = waiting?.receivers ?? []
        waiting = { n: join.n, sender: party, receivers }
        yield* countWaiting(1)
        tellSender(party, SenderLine.waiting(join.n))
        if (receivers.length > 0) tellSender(party, SenderLine.receiversAlreadyConnected(receivers.length))
        yield* Deferred.succeed(reply, party)
        yield* armTimer(party.id)
        yield* startOrAnnounce
      })

    const joinReceiver = (id: number, join: ReceiverJoin, reply: Deferred.Deferred<ReceiverParty, JoinRejection>) =>
      Effect.gen(function*() {
        if (injectedFault("actor", name)) return yield* Effect.dieMessage(`injected actor defect on ${name}`)
        if (streaming !== undefined) return yield* Deferred.fail(reply, new AlreadyEstablished({ path: join.path }))
        if (waiting !== undefined && waiting.n !== join.n) {
          return yield* Deferred.fail(reply, new ReceiverCountMismatch({ expected: waiting.n, actual: join.n }))
        }
        if (waiting !== undefined && waiting.receivers.length >= waiting.n) {
          return yield* Deferred.fail(reply, new ReceiversFull())
        }
        const party: ReceiverParty = { ...join, role: "receiver", ...(yield* partyBase(id)) }
        yield* countWaiting(1)
        waiting ??= { n: join.n, sender: undefined, receivers: [] }
        waiting.receivers.push(party)
        if (waiting.sender !== undefined) tellSender(waiting.sender, SenderLine.receiverConnected)
        yield* Deferred.succeed(reply, party)
        yield* armTimer(party.id)
        yield* startOrAnnounce
      })

    // ---- the transfer ---------------------------------------------------------------------------------

    /** Starts the transfer when everyone is here; otherwise tells spectators who has arrived. */
    const startOrAnnounce = Effect.gen(function*() {
      // A party whose client just left may still have its `Leave` queued behind this message: never pair it.
      for (const party of waitingParties()) if (party.res.destroyed) yield* leave(party.id)
      const ready = waiting
      if (ready?.sender === undefined || ready.receivers.length !== ready.n) return yield* publishState
      const sender = ready.sender
      const receivers = [...ready.receivers]
      yield* Effect.forEach([sender, ...receivers], (p) => disarmTimer(p.id), { discard: true })
      yield* countWaiting(-(receivers.length + 1))
      yield* Effect.forEach([sender, ...receivers], (p) => Deferred.succeed(p.started, undefined), { discard: true })
      const stats = new TransferStats(makeTransferId(), sender.total, yield* Clock.currentTimeMillis)
      const transferId = stats.transferId
      const ticker = yield* tell({ _tag: "Tick", transferId }).pipe(
        // `fixed`, not `spaced`: ticks keep to the clock instead of drifting by each tick's own cost.
        Effect.repeat(Schedule.fixed(settings.progressInterval)),
        Effect.delay(settings.progressInterval),
        Effect.forkIn(scope)
      )
      const abort = yield* Deferred.make<TransferAbort>()
      const relay = yield* runTransfer(name, sender, receivers, stats, abort).pipe(
        Effect.tap((outcome) => tell({ _tag: "TransferEnded", transferId, outcome })),
        Effect.forkIn(scope)
      )
      waiting = undefined
      retained = undefined
      streaming = { stats, sender, receivers, ticker, relay, abort }
      yield* Metric.increment(PipeMetrics.counters.transfersStarted)
      yield* Metric.incrementBy(PipeMetrics.gauges.transfersActive, 1)
      yield* publishState
    })

    const endTransfer = (transferId: TransferId, outcome: TransferOutcome) => {
      const ended = streaming?.stats.transferId === transferId ? streaming : undefined
      return Effect.gen(function*() {
        if (ended === undefined) return
        yield* Fiber.interruptFork(ended.ticker)
        const now = yield* Clock.currentTimeMillis
        ended.stats.sample(now)
        const done = ended.stats.done(outcome, now)
        streaming = undefined
        retained = { stats: ended.stats, done, receivers: ended.receivers.length }
        yield* countEnded(done.ok, done.bytes)
        yield* Metric.update(PipeMetrics.transferDuration, done.durationSec)
        yield* publish({ event: "progress", ...ended.stats.progress(now) })
        yield* publishState
        yield* publish({ event: "done", ...done })
        yield* Effect.logInfo("transfer ended").pipe(
          Effect.annotateLogs({
            path: name,
            transferId,
            outcome: done.ok ? "complete" : "aborted",
            bytes: done.bytes,
            durationSec: done.durationSec,
            receivers: ended.receivers.length,
            ...(done.error === null ? {} : { error: done.error })
          })
        )
        yield* options.retain(transferId)
      }).pipe(
        // Last, and whatever happened above: once the parties are released they let go of this actor, and
        // with no spectator and no retention holding it, its scope closes and this fiber is interrupted.
        Effect.ensuring(Effect.suspend(() =>
          ended === undefined ? Effect.void : Effect.forEach(
            [ended.sender, ...ended.receivers],
            (p) => Deferred.succeed(p.settled, undefined),
            { discard: true }
          )
        ))
      )
    }

    const tick = (transferId: TransferId) =>
      Effect.gen(function*() {
        const running = streaming
        if (running === undefined || running.stats.transferId !== transferId) return
        const now = yield* Clock.currentTimeMillis
        running.stats.sample(now)
        yield* publish({ event: "progress", ...running.stats.progress(now) })
        // Nothing moved for the whole timeout (a receiver that never reads, a sender that sends nothing, a
        // receiver that never confirms the end): end it visibly instead of holding everyone forever.
        if (running.stats.stalledMs(now) >= Duration.toMillis(settings.stallTimeout)) {
          yield* Deferred.succeed(running.abort, stallAbort(settings.stallTimeout))
        }
      })

    // ---- spectators -----------------------------------------------------------------------------------

    const watch = (path: string, spectatorScope: Scope.Scope, reply: Deferred.Deferred<Watch, TooManySpectators>) =>
      Effect.gen(function*() {
        if ((yield* hub.size) >= settings.maxSpectators) {
          return yield* Deferred.fail(reply, new TooManySpectators({ path, limit: settings.maxSpectators }))
        }
        const subscription = yield* hub.subscribe.pipe(Scope.extend(spectatorScope))
        const view = yield* viewNow
        const now = yield* Clock.currentTimeMillis
        const replay: Array<PipeEvent> = [stateEvent(view, now)]
        if (view.stats !== undefined && (view.stats.meter.bytes > 0 || view.done !== undefined)) {
          replay.push({ event: "progress", ...view.stats.progress(view.done?.at ?? now) })
        }
        if (view.done !== undefined) replay.push({ event: "done", ...view.done })
        yield* Deferred.succeed(reply, { replay: replay.map(stamp), subscription })
      })

    // ---- shutdown -------------------------------------------------------------------------------------

    /**
     * The server is going away: a running transfer is torn down visibly (receivers' sockets destroyed,
     * spectators told `done` with `ok: false`), waiting parties are turned away, spectator streams end.
     */
    const shutdown = Effect.gen(function*() {
      if (streaming !== undefined) {
        const { abort, relay, stats } = streaming
        // A transfer that already ended keeps its own outcome: only one still running is cut.
        yield* Deferred.succeed(abort, shutdownAbort)
        yield* endTransfer(stats.transferId, yield* Fiber.join(relay))
      }
      const left = waitingParties()
      waiting = undefined
      yield* countWaiting(-left.length)
      yield* Effect.forEach(left, (party) => Deferred.fail(party.settled, new ShuttingDown()), { discard: true })
      if (left.length > 0) yield* publishState
      yield* hub.close
    })

    /**
     * A join whose party leaves again when the joining handler's scope closes. The `Leave` is registered
     * before the join is asked, so the wait for the reply may be interrupted (its client left) at any point:
     * the `Leave` then follows the join through the mailbox and takes the party out again.
     */
    const joined = <P extends Party>(join: (id: number) => Effect.Effect<P, JoinRejection>) =>
      Effect.suspend(() => {
        const id = ++nextPartyId
        return Effect.zipRight(Effect.addFinalizer(() => tell({ _tag: "Leave", id })), join(id))
      })

    // ---- the mailbox ----------------------------------------------------------------------------------

    const handle = (message: Message): Effect.Effect<void> => {
      switch (message._tag) {
        case "JoinSender":
          return joinSender(message.id, message.join, message.reply)
        case "JoinReceiver":
          return joinReceiver(message.id, message.join, message.reply)
        case "Leave":
        case "WaitExpired":
          return Effect.gen(function*() {
            const party = yield* leave(message.id)
            if (party === undefined) return
            if (message._tag === "WaitExpired") yield* Deferred.fail(party.settled, new WaitTimedOut())
            yield* publishState
          })
        case "Tick":
          return tick(message.transferId)
        case "TransferEnded":
          return endTransfer(message.transferId, message.outcome)
        case "RetentionEnded": {
          if (retained?.done.transferId !== message.transferId) return Effect.void
          retained = undefined
          return stateNow() === "idle" ? publishState : Effect.void
        }
        case "View":
          return Effect.flatMap(viewNow, (view) => Deferred.succeed(message.reply, view))
        case "Watch":
          return watch(message.path, message.scope, message.reply)
        case "Shutdown":
          return Effect.zipRight(shutdown, Deferred.succeed(message.reply, undefined))
      }
    }

    /** The reply a message owed, failed with the defect that stopped it from being given. */
    const failReply = (message: Message, defect: unknown): Effect.Effect<unknown> => {
      switch (message._tag) {
        case "JoinSender":
          return Deferred.die(message.reply, defect)
        case "JoinReceiver":
          return Deferred.die(message.reply, defect)
        case "View":
          return Deferred.die(message.reply, defect)
        case "Shutdown":
          return Deferred.die(message.reply, defect)
        case "Watch":
          return Deferred.die(message.reply, defect)
        default:
          return Effect.void
      }
    }

    // The last holder may let go with messages still queued: a waiting party's `Leave`, or the
    // `TransferEnded` of a transfer whose sender and receivers all vanished at once. Settle the books.
    yield* Effect.addFinalizer(() =>
      Effect.gen(function*() {
        yield* countWaiting(-waitingParties().length)
        if (streaming !== undefined) yield* countEnded(false, streaming.stats.meter.bytes)
      })
    )

    // A defect in one message must not take the path down with it, nor leave its asker waiting: the reply
    // it owed fails with the defect (the request gets a 500), it is logged, and the next message is read.
    // `interruptible`: the registry builds actors in an uninterruptible region, and a fiber forked there would
    // inherit that, so closing the actor's scope could never stop its mailbox loop (nor what the loop forks).
    yield* Queue.take(mailbox).pipe(
      Effect.flatMap((message) =>
        handle(message).pipe(Effect.catchAllDefect((defect) =>
          Effect.zipRight(
            Effect.logError("pipe actor defect").pipe(Effect.annotateLogs({ path: name, message: message._tag, defect: String(defect) })),
            failReply(message, defect)
          )
        ))
      ),
      Effect.forever,
      Effect.interruptible,
      Effect.forkIn(scope)
    )

    return {
      name,
      joinSender: (join) => joined((id) => ask((reply) => ({ _tag: "JoinSender", id, join, reply }))),
      joinReceiver: (join) => joined((id) => ask((reply) => ({ _tag: "JoinReceiver", id, join, reply }))),
      view: ask<PipeView, never>((reply) => ({ _tag: "View", reply })),
      watch: (path) =>
        Effect.flatMap(Effect.scope, (spectatorScope) =>
          ask<Watch, TooManySpectators>((reply) => ({ _tag: "Watch", path, scope: spectatorScope, reply }))),
      endRetention: (transferId) => tell({ _tag: "RetentionEnded", transferId }),
      shutdown: ask<void, never>((reply) => ({ _tag: "Shutdown", reply }))
    } satisfies PipeActor
  })
