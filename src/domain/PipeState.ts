import { Data, Duration } from "effect"
import type { PipeError } from "./PipeError.js"
import {
  alreadyEstablished,
  receiverCountMismatch,
  receiversFull,
  senderConflict,
  shuttingDown,
  waitTimedOut
} from "./PipeError.js"
import { SenderLine } from "./SenderLine.js"
import type { TransferId } from "./TransferId.js"
import type { DoneData, ProgressData, StateName } from "./TransferReport.js"
import type { TransferAbort, TransferOutcome, TransferStats } from "./TransferStats.js"
import { doneOf, progressOf, sample, stalledMs, startStats } from "./TransferStats.js"

/**
 * One path's state machine, as data: the state is a tagged value, and `step` is a pure function from a
 * state and a message to the next state and the commands that carry it out. The actor (src/actors) is only
 * the shell that feeds it messages in order and executes its commands; everything that decides lives here.
 */

/** A sender's seat: who it is (`id`, unique per path), what it asked for, the path as its client spelled it. */
export interface SenderSeat {
  readonly id: number
  readonly n: number
  readonly path: string
  /** Expected byte count: `Content-Length` when the body is not multipart, else `?total`. */
  readonly total: number | null
}

export interface ReceiverSeat {
  readonly id: number
  readonly n: number
  readonly path: string
}

/** The last transfer's result, kept for the retention window. */
export interface Result {
  readonly stats: TransferStats
  readonly done: DoneData
  readonly receivers: number
}

export type PipeState = Data.TaggedEnum<{
  /** Nobody holds the path and no result is kept: what every path looks like before its first party. */
  Idle: {}
  /** Parties are gathering. `last` is the previous transfer's result while its retention lasts. */
  Waiting: {
    readonly n: number
    readonly sender: SenderSeat | undefined
    readonly receivers: ReadonlyArray<ReceiverSeat>
    readonly last: Result | undefined
  }
  Streaming: {
    readonly stats: TransferStats
    readonly sender: SenderSeat
    readonly receivers: ReadonlyArray<ReceiverSeat>
  }
  /** The transfer ended; its result is kept until its retention ends. */
  Retained: { readonly last: Result }
}>

export const PipeState = Data.taggedEnum<PipeState>()

export const initial: PipeState = PipeState.Idle()

/** What the shell tells the machine. Every message that needs the time or the byte count carries it. */
export type Message = Data.TaggedEnum<{
  /** `transferId` is a fresh id, used if this join completes the party. */
  JoinSender: { readonly seat: SenderSeat; readonly transferId: TransferId; readonly now: number }
  JoinReceiver: { readonly seat: ReceiverSeat; readonly transferId: TransferId; readonly now: number }
  /** The party's client went away (or its handler ended): a stale `Leave` after pairing does nothing. */
  Leave: { readonly id: number; readonly now: number }
  /** The party waited `--wait-timeout`. */
  WaitExpired: { readonly id: number; readonly now: number }
  Tick: {
    readonly transferId: TransferId
    readonly now: number
    readonly bytes: number
    readonly stallTimeoutMs: number
  }
  TransferEnded: {
    readonly transferId: TransferId
    readonly outcome: TransferOutcome
    readonly now: number
    readonly bytes: number
  }
  RetentionEnded: { readonly transferId: TransferId; readonly now: number }
  /** The server is going away: waiting parties are turned away (a running transfer was ended before). */
  Shutdown: { readonly now: number }
}>

export const Message = Data.taggedEnum<Message>()

/** A spectator event before the shell stamps its id. */
export type Event =
  | {
    readonly event: "state"
    readonly state: StateName
    readonly transferId: string | null
    readonly sender: boolean
    readonly receivers: number
    readonly expectedReceivers: number
    readonly at: number
  }
  | ({ readonly event: "progress" } & ProgressData)
  | ({ readonly event: "done" } & DoneData)

export type Command = Data.TaggedEnum<{
  /** Answers a join: admitted (`error` undefined) or refused. */
  Reply: { readonly id: number; readonly error: PipeError | undefined }
  /** A status line for the sender `id`. */
  Notify: { readonly id: number; readonly line: string }
  ArmTimer: { readonly id: number }
  DisarmTimer: { readonly id: number }
  /** The party's part is over; `error` when it ends without a transfer (timeout, shutdown). */
  Settle: { readonly id: number; readonly error: PipeError | undefined }
  /** Everyone is here: start the relay and the progress ticker. */
  Start: {
    readonly transferId: TransferId
    readonly sender: SenderSeat
    readonly receivers: ReadonlyArray<ReceiverSeat>
  }
  /** Cut the running transfer (a stall); its end comes back as `TransferEnded`. */
  Abort: { readonly transferId: TransferId; readonly reason: TransferAbort }
  /** The transfer is over: stop its ticker, count it, log it, keep its result for the retention window. */
  Finish: { readonly done: DoneData; readonly receivers: number }
  Publish: { readonly event: Event }
  /** The number of waiting parties changed by `delta` (a gauge). */
  CountWaiting: { readonly delta: number }
}>

export const Command = Data.taggedEnum<Command>()

export interface Step {
  readonly state: PipeState
  readonly commands: ReadonlyArray<Command>
}

// ---- what the state looks like from outside ---------------------------------------------------------

export interface View {
  readonly state: StateName
  readonly sender: boolean
  readonly receivers: number
  readonly expectedReceivers: number
  /** The running transfer's stats, or the retained one's after it ended. */
  readonly stats: TransferStats | undefined
  readonly done: DoneData | undefined
}

export const viewOf = (state: PipeState): View =>
  PipeState.$match(state, {
    Idle: (): View => ({
      state: "idle",
      sender: false,
      receivers: 0,
      expectedReceivers: 0,
      stats: undefined,
      done: undefined
    }),
    // A new transfer forming during the last one's retention must not show the last one's numbers.
    Waiting: (s): View => ({
      state: "waiting",
      sender: s.sender !== undefined,
      receivers: s.receivers.length,
      expectedReceivers: s.n,
      stats: undefined,
      done: undefined
    }),
    Streaming: (s): View => ({
      state: "streaming",
      sender: true,
      receivers: s.receivers.length,
      expectedReceivers: s.receivers.length,
      stats: s.stats,
      done: undefined
    }),
    Retained: ({ last }): View => ({
      state: last.done.ok ? "complete" : "aborted",
      sender: false,
      receivers: 0,
      expectedReceivers: last.receivers,
      stats: last.stats,
      done: last.done
    })
  })

export const stateEvent = (state: PipeState, now: number): Event => {
  const view = viewOf(state)
  return {
    event: "state",
    state: view.state,
    transferId: view.stats?.transferId ?? null,
    sender: view.sender,
    receivers: view.receivers,
    expectedReceivers: view.expectedReceivers,
    at: now
  }
}

/** What a new spectator is told first: `state`, then `progress` if bytes flowed, then `done` if it ended. */
export const replayOf = (state: PipeState, now: number, bytes: number): ReadonlyArray<Event> => {
  const view = viewOf(state)
  const events: Array<Event> = [stateEvent(state, now)]
  if (view.stats !== undefined && view.done !== undefined) {
    events.push({ event: "progress", ...progressOf(view.stats, view.done.at, view.done.bytes) })
    events.push({ event: "done", ...view.done })
  } else if (view.stats !== undefined && bytes > 0) {
    events.push({ event: "progress", ...progressOf(view.stats, now, bytes) })
  }
  return events
}

/** Everyone waiting, sender first. */
export const waitingIds = (state: PipeState): ReadonlyArray<number> =>
  state._tag === "Waiting"
    ? [...(state.sender === undefined ? [] : [state.sender.id]), ...state.receivers.map((r) => r.id)]
    : []

// ---- the transitions -------------------------------------------------------------------------------

const stay = (state: PipeState, ...commands: ReadonlyArray<Command>): Step => ({ state, commands })

const refuse = (state: PipeState, id: number, error: PipeError): Step => stay(state, Command.Reply({ id, error }))

/** The previous result a state still holds (it survives a new party gathering, not a new transfer). */
const lastOf = (state: PipeState): Result | undefined =>
  state._tag === "Retained" || state._tag === "Waiting" ? state.last : undefined

/** The finished transfer whose result the path still retains, if any (also while a new one gathers). */
export const retainedOf = lastOf

/** Admits a party into `next` (a gathering): reply, timer, count, then start or announce. */
const admit = (
  next: Extract<PipeState, { _tag: "Waiting" }>,
  id: number,
  lines: ReadonlyArray<Command>,
  transferId: TransferId,
  now: number
): Step => {
  const admitted = [Command.Reply({ id, error: undefined }), ...lines, Command.CountWaiting({ delta: 1 })]
  const { sender, receivers } = next
  if (sender === undefined || receivers.length !== next.n) {
    return stay(next, ...admitted, Command.ArmTimer({ id }), Command.Publish({ event: stateEvent(next, now) }))
  }
  const streaming = PipeState.Streaming({ stats: startStats(transferId, sender.total, now), sender, receivers })
  const parties = [sender.id, ...receivers.map((r) => r.id)]
  return stay(
    streaming,
    ...admitted,
    ...parties.filter((p) => p !== id).map((p) => Command.DisarmTimer({ id: p })),
    Command.CountWaiting({ delta: -parties.length }),
    Command.Start({ transferId, sender, receivers }),
    Command.Publish({ event: stateEvent(streaming, now) })
  )
}

const joinSender = (state: PipeState, { now, seat, transferId }: Message & { _tag: "JoinSender" }): Step => {
  if (state._tag === "Streaming") return refuse(state, seat.id, alreadyEstablished(seat.path))
  if (state._tag === "Waiting" && state.sender !== undefined) return refuse(state, seat.id, senderConflict(seat.path))
  if (state._tag === "Waiting" && state.n !== seat.n) {
    return refuse(state, seat.id, receiverCountMismatch(state.n, seat.n))
  }
  const receivers = state._tag === "Waiting" ? state.receivers : []
  const next = PipeState.Waiting({ n: seat.n, sender: seat, receivers, last: lastOf(state) })
  const lines = [
    Command.Notify({ id: seat.id, line: SenderLine.waiting(seat.n) }),
    ...(receivers.length > 0
      ? [Command.Notify({ id: seat.id, line: SenderLine.receiversAlreadyConnected(receivers.length) })]
      : [])
  ]
  return admit(next, seat.id, lines, transferId, now)
}

const joinReceiver = (state: PipeState, { now, seat, transferId }: Message & { _tag: "JoinReceiver" }): Step => {
  if (state._tag === "Streaming") return refuse(state, seat.id, alreadyEstablished(seat.path))
  if (state._tag === "Waiting" && state.n !== seat.n) {
    return refuse(state, seat.id, receiverCountMismatch(state.n, seat.n))
  }
  if (state._tag === "Waiting" && state.receivers.length >= state.n) return refuse(state, seat.id, receiversFull())
  const sender = state._tag === "Waiting" ? state.sender : undefined
  const receivers = state._tag === "Waiting" ? [...state.receivers, seat] : [seat]
  const next = PipeState.Waiting({ n: seat.n, sender, receivers, last: lastOf(state) })
  const lines = sender === undefined ? [] : [Command.Notify({ id: sender.id, line: SenderLine.receiverConnected })]
  return admit(next, seat.id, lines, transferId, now)
}

/** A waiting party leaves; when nobody is left the path shows the last result again, or idle. */
const leave = (state: PipeState, id: number, now: number, error: PipeError | undefined): Step => {
  if (state._tag !== "Waiting" || !waitingIds(state).includes(id)) return stay(state)
  const sender = state.sender?.id === id ? undefined : state.sender
  const receivers = state.receivers.filter((r) => r.id !== id)
  const next = sender === undefined && receivers.length === 0
    ? state.last === undefined ? PipeState.Idle() : PipeState.Retained({ last: state.last })
    : PipeState.Waiting({ ...state, sender, receivers })
  return stay(
    next,
    Command.DisarmTimer({ id }),
    Command.CountWaiting({ delta: -1 }),
    ...(error === undefined ? [] : [Command.Settle({ id, error })]),
    Command.Publish({ event: stateEvent(next, now) })
  )
}

const tick = (state: PipeState, { bytes, now, stallTimeoutMs, transferId }: Message & { _tag: "Tick" }): Step => {
  if (state._tag !== "Streaming" || state.stats.transferId !== transferId) return stay(state)
  const stats = sample(state.stats, now, bytes)
  const next = PipeState.Streaming({ ...state, stats })
  const progress = Command.Publish({ event: { event: "progress", ...progressOf(stats, now, bytes) } })
  // Nothing moved for the whole timeout (a receiver that never reads, a sender that sends nothing, a receiver
  // that never confirms the end): end it visibly instead of holding everyone forever.
  if (stalledMs(stats, now, bytes) < stallTimeoutMs) return stay(next, progress)
  const error = `The transfer stalled: no byte moved for ${Duration.format(Duration.millis(stallTimeoutMs))}.`
  return stay(next, progress, Command.Abort({ transferId, reason: { error, line: SenderLine.stalled(error) } }))
}

const transferEnded = (
  state: PipeState,
  { bytes, now, outcome, transferId }: Message & { _tag: "TransferEnded" }
): Step => {
  if (state._tag !== "Streaming" || state.stats.transferId !== transferId) return stay(state)
  const stats = sample(state.stats, now, bytes)
  const done = doneOf(stats, outcome, now, bytes)
  const receivers = state.receivers.length
  const next = PipeState.Retained({ last: { stats, done, receivers } })
  return stay(
    next,
    Command.Finish({ done, receivers }),
    Command.Publish({ event: { event: "progress", ...progressOf(stats, now, bytes) } }),
    Command.Publish({ event: stateEvent(next, now) }),
    Command.Publish({ event: { event: "done", ...done } }),
    ...[state.sender.id, ...state.receivers.map((r) => r.id)].map((id) => Command.Settle({ id, error: undefined }))
  )
}

const retentionEnded = (state: PipeState, { now, transferId }: Message & { _tag: "RetentionEnded" }): Step => {
  if (lastOf(state)?.done.transferId !== transferId) return stay(state)
  if (state._tag === "Waiting") return stay(PipeState.Waiting({ ...state, last: undefined }))
  const next = PipeState.Idle()
  return stay(next, Command.Publish({ event: stateEvent(next, now) }))
}

const shutdown = (state: PipeState, now: number): Step => {
  if (state._tag !== "Waiting") return stay(state)
  const ids = waitingIds(state)
  const next = state.last === undefined ? PipeState.Idle() : PipeState.Retained({ last: state.last })
  return stay(
    next,
    Command.CountWaiting({ delta: -ids.length }),
    ...ids.flatMap((id) => [Command.DisarmTimer({ id }), Command.Settle({ id, error: shuttingDown() })]),
    Command.Publish({ event: stateEvent(next, now) })
  )
}

export const step = (state: PipeState, message: Message): Step =>
  Message.$match(message, {
    JoinSender: (m) => joinSender(state, m),
    JoinReceiver: (m) => joinReceiver(state, m),
    Leave: (m) => leave(state, m.id, m.now, undefined),
    WaitExpired: (m) => leave(state, m.id, m.now, waitTimedOut()),
    Tick: (m) => tick(state, m),
    TransferEnded: (m) => transferEnded(state, m),
    RetentionEnded: (m) => retentionEnded(state, m),
    Shutdown: (m) => shutdown(state, m.now)
  })
