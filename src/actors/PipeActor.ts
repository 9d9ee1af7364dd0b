import { Cause, Clock, Deferred, Duration, Effect, Exit, Fiber, Metric, Option, Queue, Schedule, Scope } from "effect"
import type { PipeError } from "../domain/PipeError.js"
import { shuttingDown, tooManySpectators } from "../domain/PipeError.js"
import type { PipeName } from "../domain/PipeName.js"
import type { Command, Event, Message, PipeState, ReceiverSeat, Result, SenderSeat, View } from "../domain/PipeState.js"
import {
  initial,
  Message as Msg,
  PipeState as State,
  replayOf,
  retainedOf,
  step,
  viewOf,
  waitingIds
} from "../domain/PipeState.js"
import { SenderLine } from "../domain/SenderLine.js"
import type { TransferId } from "../domain/TransferId.js"
import { makeTransferId } from "../domain/TransferId.js"
import type { DoneData, ProgressData } from "../domain/TransferReport.js"
import type { ByteMeter, TransferAbort, TransferOutcome } from "../domain/TransferStats.js"
import { failedInternally, progressOf } from "../domain/TransferStats.js"
import type { UntilDoneStart } from "../domain/UntilDone.js"
import { rememberedDones, untilDoneStart, withRecordedDone } from "../domain/UntilDone.js"
import { injectedFault } from "../FaultInjection.js"
import type { Recorded } from "../history/TransferHistory.js"
import type { ServerSettings } from "../ServerConfig.js"
import type { EventIds } from "./EventIds.js"
import type { Party, ReceiverParty, SenderParty, Ticket } from "./Party.js"
import { TransferRunner } from "./Party.js"
import { PipeMetrics, shift } from "./PipeMetrics.js"
import type { Stamped, Subscription } from "./SpectatorHub.js"
import { makeSpectatorHub } from "./SpectatorHub.js"

/**
 * One pipe path: a fiber reading a mailbox and feeding each message to the pure state machine
 * (`src/domain/PipeState.ts`), then carrying out the commands it returns. Senders, receivers and spectators
 * send it messages and await replies; none of them touches another's internals, and nothing here touches a
 * socket: parties are `Party` values, the data path is the `TransferRunner` service.
 */

/** The server is going away (`line` is what a sender reads, `error` what spectators' `done` says). */
const shutdownAbort: TransferAbort = { error: "The server is shutting down.", line: SenderLine.shuttingDown }

/** A consistent picture of a path at one instant, for `HEAD`, the JSON snapshot and the dashboard. */
export interface PipeView extends View {
  /** The running transfer's numbers now, or the retained one's at its end. */
  readonly live: ProgressData | undefined
  readonly spectators: number
}

/** A path nobody holds: what every path looks like before its first party and after its retention. */
export const idleView: PipeView = { ...viewOf(initial), live: undefined, spectators: 0 }

/** The path in `state` at `at` with `bytes` moved so far, as `HEAD` and the snapshot show it. */
export const pathView = (state: PipeState, at: number, bytes: number): Omit<PipeView, "spectators"> => {
  const view = viewOf(state)
  const live = view.stats === undefined
    ? undefined
    : view.done === undefined
    ? progressOf(view.stats, at, bytes)
    : progressOf(view.stats, view.done.at, view.done.bytes)
  return { ...view, live }
}

/**
 * A finished transfer's result during its retention window, with the id its live `done` went out with: all
 * a path needs to look retained, kept by the registry so that no actor has to live through the window.
 */
export interface Retention {
  readonly last: Result
  readonly doneId: number
}

export interface Watch {
  /** The current snapshot as events: `state`, then `progress` if bytes flowed, then `done` if it ended. */
  readonly replay: ReadonlyArray<Stamped>
  readonly subscription: Subscription
  /**
   * How the stream starts (src/domain/UntilDone.ts): always `follow` without `untilDone`; for `missed` the
   * replay is the retained result's snapshot, or once it is only recorded in the history its `done` alone,
   * stamped with that `done`'s id; for `over` it is empty.
   */
  readonly start: UntilDoneStart
}

/** What a spectator asks for: `?until=done`, and the `Last-Event-ID` of a reconnection. */
export interface WatchOptions {
  readonly untilDone: boolean
  readonly lastEventId: number | undefined
}

const plainWatch: WatchOptions = { untilDone: false, lastEventId: undefined }

export interface SenderJoin {
  readonly party: SenderParty
  readonly n: number
  readonly path: string
  readonly total: number | null
}

export interface ReceiverJoin {
  readonly party: ReceiverParty
  readonly n: number
  readonly path: string
}

export interface PipeActor {
  readonly name: PipeName
  /** Joins as the sender; the scope's end withdraws the party if it is still waiting. */
  readonly joinSender: (join: SenderJoin) => Effect.Effect<Ticket, PipeError, Scope.Scope>
  readonly joinReceiver: (join: ReceiverJoin) => Effect.Effect<Ticket, PipeError, Scope.Scope>
  readonly view: Effect.Effect<PipeView>
  /** Subscribes a spectator for the scope's lifetime (`path` as the client sent it, for the 429 message). */
  readonly watch: (path: string, options?: WatchOptions) => Effect.Effect<Watch, PipeError, Scope.Scope>
  /** Ends the path for a server shutdown; completes once everyone has been told. */
  readonly shutdown: Effect.Effect<void>
  /**
   * The server drains (SIGTERM behind a balancer): waiting parties are turned away at once with a 503 and
   * later joins refused, so they retry on the node that takes the path next; a running transfer goes on.
   */
  readonly drain: Effect.Effect<void>
  /** The retention window of `transferId` is over: forget its result. */
  readonly endRetention: (transferId: TransferId) => Effect.Effect<void>
}

/** What reaches the mailbox: a message for the machine (given the time when it is read), or a query. */
type Mail =
  | {
    readonly _tag: "Join"
    readonly party: Party
    readonly seat: (transferId: TransferId, now: number) => Message
    readonly ticket: Ticket
    readonly reply: Deferred.Deferred<Ticket, PipeError>
  }
  | { readonly _tag: "Step"; readonly message: (now: number, bytes: number) => Message }
  | { readonly _tag: "View"; readonly reply: Deferred.Deferred<PipeView> }
  | {
    readonly _tag: "Watch"
    readonly path: string
    readonly options: WatchOptions
    readonly scope: Scope.Scope
    readonly reply: Deferred.Deferred<Watch, PipeError>
  }
  | { readonly _tag: "Shutdown"; readonly reply: Deferred.Deferred<void> }
  | { readonly _tag: "Drain"; readonly reply: Deferred.Deferred<void> }

interface Running {
  readonly transferId: TransferId
  /** The sender's client address, for the log line. */
  readonly client: string | undefined
  readonly meter: ByteMeter
  readonly ticker: Fiber.Fiber<unknown>
  /** The transfer; its outcome also reaches the mailbox as `TransferEnded`. */
  readonly relay: Fiber.Fiber<TransferOutcome>
  /** Cuts the transfer from outside with a reason (shutdown, stall). */
  readonly abort: Deferred.Deferred<TransferAbort>
  /** Lets go of the hold `start` took on this actor. */
  readonly release: Effect.Effect<void>
}

export interface PipeActorOptions {
  readonly settings: ServerSettings
  /**
   * Keeps the ended transfer's result for the retention window, then calls `endRetention` on whichever actor
   * the path has then, if any. It does not keep this actor alive: a path that only retains a result is a
   * record, not an actor (18 KB less per transfer of the last 30 s).
   */
  readonly retain: (retention: Retention) => Effect.Effect<void>
  /** The path's result whose retention window is still open when this actor is made: its first state. */
  readonly retained: Retention | undefined
  /**
   * Keeps this actor alive until the returned effect runs: taken when a transfer starts, let go once its end
   * has been read. Without it, a sender and receivers that all vanish at once (a killed `curl -T -`, its
   * receiver cut off in turn) let go of the actor with the `TransferEnded` still queued: the transfer would
   * end with no `done`, no retention and no history record, the aborted migration nobody was watching.
   */
  readonly hold: Effect.Effect<Effect.Effect<void>>
  /**
   * Keeps the ended transfer's result, and the id its live `done` went out with, as the path's last one
   * (protocol §9), beyond this actor's life. The actor knows only this function and `recall`: where the record
   * goes (memory, a file) is the registry's business.
   */
  readonly record: (done: DoneData, doneId: number) => Effect.Effect<void>
  /**
   * The path's record, for an `until=done` reconnection whose `done` may have ended before this actor was
   * made (or before the server restarted): src/domain/UntilDone.ts.
   */
  readonly recall: Effect.Effect<Option.Option<Recorded>>
  /** The process-wide id counter: ids never go back, whichever actor of a path stamps them. */
  readonly eventIds: EventIds
}

export const makePipeActor = (
  name: PipeName,
  options: PipeActorOptions
): Effect.Effect<PipeActor, never, Scope.Scope | TransferRunner> =>
  Effect.gen(function*() {
    const { settings } = options
    const runner = yield* TransferRunner
    const scope = yield* Effect.scope
    const mailbox = yield* Queue.unbounded<Mail>()
    const hub = yield* makeSpectatorHub
    const stallTimeoutMs = Duration.toMillis(settings.stallTimeout)

    let state: PipeState = options.retained === undefined ? initial : State.Retained({ last: options.retained.last })
    let running: Running | undefined
    let draining = false
    /** Every party the machine knows (waiting or in the transfer), by id, with the join reply it is owed. */
    const parties = new Map<number, { readonly party: Party; readonly ticket: Ticket }>()
    const replies = new Map<number, Deferred.Deferred<Ticket, PipeError>>()
    const timers = new Map<number, Fiber.Fiber<unknown>>()
    let nextPartyId = 0
    /** The highest id this actor handed out, and its latest live `done` ids (for `until=done`). */
    // An actor made during a retention window follows earlier actors of the path, whose ids (replays to
    // latecomers after that `done`) are all at most the process's highest: a spectator that read one of them
    // is still waiting for the next transfer, never past it (src/domain/UntilDone.ts).
    let position = options.retained === undefined ? 0 : options.eventIds.highest()
    const doneIds: Array<{ readonly transferId: string; readonly id: number }> = options.retained === undefined
      ? []
      : [{ transferId: options.retained.last.done.transferId, id: options.retained.doneId }]

    const tell = (mail: Mail) => Queue.offer(mailbox, mail)
    const tellStep = (message: (now: number, bytes: number) => Message) => tell({ _tag: "Step", message })
    const ask = <A, E>(mail: (reply: Deferred.Deferred<A, E>) => Mail) =>
      Effect.flatMap(Deferred.make<A, E>(), (reply) => Effect.andThen(tell(mail(reply)), Deferred.await(reply)))

    const bytesNow = () => running?.meter.bytes ?? 0
    const stamp = (event: Event): Stamped => {
      position = options.eventIds.next()
      return { id: position, event }
    }
    const publish = (event: Event) =>
      Effect.suspend(() => {
        const stamped = stamp(event)
        if (event.event !== "done") return hub.publish(stamped)
        doneIds.push({ transferId: event.transferId, id: stamped.id })
        if (doneIds.length > rememberedDones) doneIds.shift()
        // Recorded here, not in `finish`, because the record keeps this event's id; still in the step that
        // ends the transfer, so a view read after `done` (or after the sender's last line) finds it in the
        // history too. The state retains this result by now: the record shares its object.
        const retained = retainedOf(state)
        const { event: _kind, ...data } = event
        const kept = retained?.done.transferId === event.transferId ? retained : undefined
        return Effect.andThen(
          Effect.andThen(
            options.record(kept?.done ?? data, stamped.id),
            kept === undefined ? Effect.void : options.retain({ last: kept, doneId: stamped.id })
          ),
          hub.publish(stamped)
        )
      })

    const countEnded = (ok: boolean, bytes: number) =>
      Effect.all([
        shift(PipeMetrics.gauges.transfersActive, -1),
        Metric.update(ok ? PipeMetrics.counters.transfersCompleted : PipeMetrics.counters.transfersAborted, 1),
        Metric.update(PipeMetrics.counters.bytesRelayed, bytes)
      ], { discard: true })

    // ---- carrying out what the machine decided --------------------------------------------------------

    const start = (command: Command & { _tag: "Start" }) =>
      Effect.gen(function*() {
        const { receivers, sender, transferId } = command
        const ids = [sender.id, ...receivers.map((r) => r.id)]
        for (const id of ids) Deferred.doneUnsafe(partyOf(id).ticket.started, Exit.void)
        const meter: ByteMeter = { bytes: 0 }
        const ticker = yield* Clock.currentTimeMillis.pipe(
          Effect.flatMap((now) => tellStep((_, bytes) => Msg.Tick({ transferId, now, bytes, stallTimeoutMs }))),
          // `fixed`, not `spaced`: ticks keep to the clock instead of drifting by each tick's own cost.
          Effect.repeat(Schedule.fixed(settings.progressInterval)),
          Effect.delay(settings.progressInterval),
          Effect.forkIn(scope)
        )
        const abort = yield* Deferred.make<TransferAbort>()
        const release = yield* options.hold
        const relay = yield* runner.run(
          name,
          senderOf(sender),
          receivers.map(receiverOf),
          meter,
          abort
        ).pipe(
          // The runner's contract is to turn every failure into an outcome; one that dies anyway must not
          // leave the path streaming forever with nobody told.
          Effect.catchDefect((defect) => Effect.as(logDefect("transfer runner died", defect), failedInternally)),
          Effect.tap((outcome) =>
            Effect.flatMap(
              Clock.currentTimeMillis,
              (now) => tellStep(() => Msg.TransferEnded({ transferId, outcome, now, bytes: meter.bytes }))
            )
          ),
          Effect.forkIn(scope)
        )
        running = { transferId, client: senderOf(sender).client, meter, ticker, relay, abort, release }
        yield* Metric.update(PipeMetrics.counters.transfersStarted, 1)
        yield* shift(PipeMetrics.gauges.transfersActive, 1)
      })

    const finish = (command: Command & { _tag: "Finish" }) =>
      Effect.gen(function*() {
        const { done, receivers } = command
        const ended = running
        running = undefined
        // Not awaited (a tick may be on its way to the mailbox, which is us): no fiber is needed to ask for it.
        ended?.ticker.interruptUnsafe()
        yield* countEnded(done.ok, done.bytes)
        yield* Metric.update(PipeMetrics.transferDuration, done.durationSec)
        yield* Effect.logInfo("transfer ended").pipe(
          Effect.annotateLogs({
            path: name,
            transferId: done.transferId,
            outcome: done.ok ? "complete" : "aborted",
            bytes: done.bytes,
            durationSec: done.durationSec,
            receivers,
            ...(ended?.client === undefined ? {} : { client: ended.client }),
            ...(done.error === null ? {} : { error: done.error })
          })
        )
        // Let go once this step is carried out: its `done` is published, recorded and retained by then.
        if (ended !== undefined) releaseAfterStep = ended.release
      })

    const partyOf = (id: number) => {
      const known = parties.get(id)
      if (known === undefined) throw new Error(`party ${id} is not known on ${name}`)
      return known
    }
    const senderOf = (seat: SenderSeat): SenderParty => {
      const { party } = partyOf(seat.id)
      if (party.role !== "sender") throw new Error(`party ${seat.id} is not a sender`)
      return party
    }
    const receiverOf = (seat: ReceiverSeat): ReceiverParty => {
      const { party } = partyOf(seat.id)
      if (party.role !== "receiver") throw new Error(`party ${seat.id} is not a receiver`)
      return party
    }

    /**
     * Carries out one command. Most are bookkeeping done on the spot (a Deferred completed, a line written, a
     * timer stopped) and return nothing; only those that fork, log or update metrics are effects, so a small
     * transfer's twenty-odd commands do not each cost an effect, a fiber step and a defect handler.
     */
    const execute = (command: Command): Effect.Effect<void> | undefined => {
      switch (command._tag) {
        case "Reply": {
          const reply = replies.get(command.id)
          replies.delete(command.id)
          if (reply === undefined) return
          if (command.error !== undefined) {
            parties.delete(command.id)
            Deferred.doneUnsafe(reply, Exit.fail(command.error))
            return
          }
          const known = parties.get(command.id)
          if (known === undefined) {
            // A bug of ours: the asker gets the defect (a 500) rather than a wait for ever, and it is logged.
            const defect = new Error(`party ${command.id} is not known on ${name}`)
            Deferred.doneUnsafe(reply, Exit.die(defect))
            throw defect
          }
          Deferred.doneUnsafe(reply, Exit.succeed(known.ticket))
          return
        }
        case "Notify":
          parties.get(command.id)?.party.notify(command.line)
          return
        case "ArmTimer":
          return Option.match(settings.waitTimeout, {
            onNone: () => undefined,
            onSome: (timeout) =>
              Clock.currentTimeMillis.pipe(
                Effect.flatMap((now) => tellStep(() => Msg.WaitExpired({ id: command.id, now }))),
                Effect.delay(timeout),
                Effect.forkIn(scope),
                Effect.map((fiber) => void timers.set(command.id, fiber))
              )
          })
        case "DisarmTimer": {
          const timer = timers.get(command.id)
          timers.delete(command.id)
          // Not awaited, as before: the timer's own message may already be queued, and `step` drops it.
          timer?.interruptUnsafe()
          return
        }
        case "Settle": {
          const known = parties.get(command.id)
          parties.delete(command.id)
          if (known === undefined) return
          Deferred.doneUnsafe(
            known.ticket.settled,
            command.error === undefined ? Exit.void : Exit.fail(command.error)
          )
          return
        }
        case "Start":
          return start(command)
        case "Abort":
          if (running?.transferId === command.transferId) {
            Deferred.doneUnsafe(running.abort, Exit.succeed(command.reason))
          }
          return
        case "Finish":
          return finish(command)
        case "Publish":
          return publish(command.event)
        case "CountWaiting":
          return shift(PipeMetrics.gauges.waitingParties, command.delta)
      }
    }

    /**
     * Feeds one message to the machine and carries out its commands. Each command runs on its own: a defect
     * in one (a log line that throws, say) must not keep the parties after it from being settled.
     */
    /** The ended transfer's hold on this actor, let go after the step that ended it. */
    let releaseAfterStep: Effect.Effect<void> | undefined
    const apply = (message: Message) =>
      Effect.gen(function*() {
        const next = step(state, message)
        state = next.state
        for (const command of next.commands) {
          let effect: Effect.Effect<void> | undefined
          try {
            effect = execute(command)
          } catch (defect) {
            yield* logDefect(command._tag, defect)
            continue
          }
          if (effect !== undefined) {
            yield* effect.pipe(Effect.catchDefect((defect) => logDefect(command._tag, defect)))
          }
        }
        const release = releaseAfterStep
        releaseAfterStep = undefined
        if (release !== undefined) yield* release
      })

    const now = Clock.currentTimeMillis

    // ---- the mailbox ----------------------------------------------------------------------------------

    const handle = (mail: Mail): Effect.Effect<void> =>
      Effect.gen(function*() {
        switch (mail._tag) {
          case "Join": {
            if (injectedFault("actor", name)) return yield* Effect.die(new Error(`injected actor defect on ${name}`))
            // A join that passed the registry's check just before the drain began.
            if (draining) return yield* Deferred.fail(mail.reply, shuttingDown())
            // A party whose client just left may still have its `Leave` queued behind this one: never pair it.
            for (const id of waitingIds(state)) {
              if (parties.get(id)?.party.gone() === true) yield* apply(Msg.Leave({ id, now: yield* now }))
            }
            parties.set(mail.ticket.id, { party: mail.party, ticket: mail.ticket })
            replies.set(mail.ticket.id, mail.reply)
            return yield* apply(mail.seat(makeTransferId(), yield* now))
          }
          case "Step":
            return yield* apply(mail.message(yield* now, bytesNow()))
          case "View": {
            const at = yield* now
            return yield* Deferred.succeed(mail.reply, { ...viewNow(at), spectators: yield* hub.size })
          }
          case "Watch":
            return yield* watch(mail)
          case "Shutdown":
            yield* shutdown
            return yield* Deferred.succeed(mail.reply, undefined)
          case "Drain":
            draining = true
            // The machine's `Shutdown` turns away waiting parties only; a running transfer is left alone.
            yield* apply(Msg.Shutdown({ now: yield* now }))
            return yield* Deferred.succeed(mail.reply, undefined)
        }
      })

    const viewNow = (at: number) => pathView(state, at, bytesNow())

    const watch = (mail: Mail & { _tag: "Watch" }) =>
      Effect.gen(function*() {
        if ((yield* hub.size) >= settings.maxSpectators) {
          return yield* Deferred.fail(mail.reply, tooManySpectators(mail.path, settings.maxSpectators))
        }
        const at = yield* now
        const { lastEventId, untilDone } = mail.options
        // Only a reconnection can be told anything but `follow`; only it costs a read of the history.
        const recorded = untilDone && lastEventId !== undefined ? yield* options.recall : Option.none()
        const start = untilDone ? startOf(lastEventId, recorded) : "follow"
        const subscription = yield* hub.subscribe.pipe(Scope.provide(mail.scope))
        yield* Deferred.succeed(mail.reply, { replay: replayFor(start, at), subscription, start })
      })

    /** The live `done` id of the result this actor still retains, if it does. */
    const retainedDoneId = () => {
      const retained = retainedOf(state)
      return doneIds.find((d) => d.transferId === retained?.done.transferId)?.id
    }

    /**
     * Where an `until=done` spectator stands, from its `Last-Event-ID`, what this actor handed out, and the
     * history's record of the path's last `done` (which may be older than this actor, or this process).
     */
    const startOf = (lastEventId: number | undefined, recorded: Option.Option<Recorded>): UntilDoneStart =>
      untilDoneStart(
        lastEventId,
        withRecordedDone(
          {
            doneIds: doneIds.map((d) => d.id),
            position,
            retainedDoneId: retainedDoneId(),
            recordedDoneId: undefined,
            active: state._tag === "Waiting" || state._tag === "Streaming"
          },
          Option.getOrUndefined(recorded)?.doneId,
          options.eventIds.highest()
        )
      )

    const replayFor = (start: UntilDoneStart, at: number): ReadonlyArray<Stamped> => {
      if (start === "over") return []
      if (start === "missed") {
        const retained = retainedOf(state)
        const doneId = retainedDoneId()
        // The result it missed, as a latecomer during the retention would see it, all under its `done`'s id:
        // the `Last-Event-ID` it reconnects with next is then that `done`'s, which is answered 204.
        if (retained !== undefined && doneId !== undefined) {
          return replayOf(State.Retained({ last: retained }), at, 0).map((event) => ({ id: doneId, event }))
        }
      }
      return replayOf(state, at, bytesNow()).map(stamp)
    }

    /**
     * The server is going away: a running transfer is torn down visibly (receivers' sockets destroyed,
     * spectators told `done` with `ok: false`), waiting parties are turned away, spectator streams end.
     */
    const shutdown = Effect.gen(function*() {
      const cut = running
      if (cut !== undefined) {
        // A transfer that already ended keeps its own outcome: only one still running is cut.
        yield* Deferred.succeed(cut.abort, shutdownAbort)
        const outcome = yield* Fiber.join(cut.relay)
        yield* apply(
          Msg.TransferEnded({ transferId: cut.transferId, outcome, now: yield* now, bytes: cut.meter.bytes })
        )
      }
      yield* apply(Msg.Shutdown({ now: yield* now }))
      yield* hub.close
    })

    const logDefect = (what: string, defect: unknown) =>
      Effect.logError("pipe actor defect").pipe(
        Effect.annotateLogs({ path: name, message: what, defect: Cause.pretty(Cause.die(defect)) })
      )

    /** The reply a mail owed, failed with the defect that stopped it from being given (the request gets a 500). */
    const failReply = (mail: Mail, defect: unknown): Effect.Effect<unknown> => {
      switch (mail._tag) {
        case "Join":
          parties.delete(mail.ticket.id)
          replies.delete(mail.ticket.id)
          return Deferred.die(mail.reply, defect)
        case "View":
          return Deferred.die(mail.reply, defect)
        case "Shutdown":
        case "Drain":
          return Deferred.die(mail.reply, defect)
        case "Watch":
          return Deferred.die(mail.reply, defect)
        case "Step":
          return Effect.void
      }
    }

    // The last holder may let go with messages still queued: a waiting party's `Leave`, or the
    // `TransferEnded` of a transfer whose sender and receivers all vanished at once. Settle the books.
    yield* Effect.addFinalizer(() =>
      Effect.gen(function*() {
        yield* shift(PipeMetrics.gauges.waitingParties, -waitingIds(state).length)
        if (running !== undefined) yield* countEnded(false, running.meter.bytes)
      })
    )

    // A defect in one message must not take the path down with it, nor leave its asker waiting: the reply
    // it owed fails with the defect, it is logged, and the next message is read.
    yield* Queue.take(mailbox).pipe(
      Effect.flatMap((mail) =>
        handle(mail).pipe(
          Effect.catchDefect((defect) => Effect.andThen(logDefect(mail._tag, defect), failReply(mail, defect)))
        )
      ),
      Effect.forever,
      Effect.interruptible,
      Effect.forkIn(scope)
    )

    /**
     * A join whose party leaves again when the joining handler's scope closes. The `Leave` is registered
     * before the join is asked, so the wait for the reply may be interrupted (its client left) at any point:
     * the `Leave` then follows the join through the mailbox and takes the party out again.
     */
    const joined = (party: Party, seat: (id: number) => (transferId: TransferId, now: number) => Message) =>
      Effect.gen(function*() {
        const id = ++nextPartyId
        const ticket: Ticket = {
          id,
          started: yield* Deferred.make<void>(),
          settled: yield* Deferred.make<void, PipeError>()
        }
        // A party that was paired is waiting no more, and never will be again: the machine would read its `Leave`
        // and drop it (see `leave` in PipeState), so it is not sent (two mailbox round trips per transfer).
        yield* Effect.addFinalizer(() =>
          Deferred.isDoneUnsafe(ticket.started)
            ? Effect.void
            : Effect.flatMap(now, (at) => tellStep(() => Msg.Leave({ id, now: at })))
        )
        return yield* ask<Ticket, PipeError>((reply) => ({ _tag: "Join", party, seat: seat(id), ticket, reply }))
      })

    return {
      name,
      joinSender: ({ n, party, path, total }) =>
        joined(
          party,
          (id) => (transferId, at) => Msg.JoinSender({ seat: { id, n, path, total }, transferId, now: at })
        ),
      joinReceiver: ({ n, party, path }) =>
        joined(party, (id) => (transferId, at) => Msg.JoinReceiver({ seat: { id, n, path }, transferId, now: at })),
      view: ask<PipeView, never>((reply) => ({ _tag: "View", reply })),
      watch: (path, watchOptions = plainWatch) =>
        Effect.flatMap(
          Effect.scope,
          (spectatorScope) =>
            ask<Watch, PipeError>((reply) => ({
              _tag: "Watch",
              path,
              options: watchOptions,
              scope: spectatorScope,
              reply
            }))
        ),
      endRetention: (transferId) =>
        Effect.flatMap(now, (at) => tellStep(() => Msg.RetentionEnded({ transferId, now: at }))),
      shutdown: ask<void, never>((reply) => ({ _tag: "Shutdown", reply })),
      drain: ask<void, never>((reply) => ({ _tag: "Drain", reply }))
    } satisfies PipeActor
  })
