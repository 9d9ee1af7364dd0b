import type { Deferred, Effect } from "effect"
import { Context } from "effect"
import type { PipeError } from "../domain/PipeError.js"
import type { PipeName } from "../domain/PipeName.js"
import type { ByteMeter, TransferAbort, TransferOutcome } from "../domain/TransferStats.js"

/**
 * A sender or receiver as the actor knows it: never a socket, only what pairing needs. The data path
 * (src/transfer) makes these from its connections and gets them back in `TransferRunner.run`.
 */
interface PartyBase {
  /** Writes a status line to the party (only senders read any). */
  readonly notify: (line: string) => void
  /** The party's client is already gone: such a party is never paired. */
  readonly gone: () => boolean
  /** The client's address (protocol §11: through trusted proxies only), for the transfer's log line. */
  readonly client?: string
}

export interface SenderParty extends PartyBase {
  readonly role: "sender"
}

export interface ReceiverParty extends PartyBase {
  readonly role: "receiver"
}

export type Party = SenderParty | ReceiverParty

/** What a party holds after joining: `started` when its transfer starts, `settled` when its part is over. */
export interface Ticket {
  readonly id: number
  readonly started: Deferred.Deferred<void>
  /** Fails with the refusal that ended the wait without a transfer (a timeout, a shutdown). */
  readonly settled: Deferred.Deferred<void, PipeError>
}

/**
 * Runs one transfer whose parties are all present. Never fails and never dies: a broken transfer, an `abort`
 * (shutdown, stall) and a defect are all outcomes, already made visible to every party when it returns.
 */
export class TransferRunner extends Context.Service<TransferRunner, {
  readonly run: (
    name: PipeName,
    sender: SenderParty,
    receivers: ReadonlyArray<ReceiverParty>,
    meter: ByteMeter,
    abort: Deferred.Deferred<TransferAbort>
  ) => Effect.Effect<TransferOutcome>
}>()("pipe/actors/TransferRunner") {}
