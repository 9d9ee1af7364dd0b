import { Effect } from "effect"

/** 128 + the signal's number: the status a shell reports for a process that a signal stopped. */
const statusOf = { SIGINT: 130, SIGTERM: 143 } as const
type TerminationSignal = keyof typeof statusOf

let received: TerminationSignal | undefined

/**
 * Remembers which signal came first. `runMain` turns both into the same interruption, and only the signal tells
 * a script whether the user pressed Ctrl-C or a supervisor stopped the command. Called before `runMain`
 * installs its own listeners, so that the signal is known by the time the interruption it causes runs.
 */
export const recordTerminationSignals = (): void => {
  for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => void (received ??= signal))
}

/** The exit status for an interrupted command: 130 after SIGINT (and any interruption without a signal), 143 after SIGTERM. */
export const interruptedStatus = (): number => statusOf[received ?? "SIGINT"]

/**
 * Marks an interruption of the running command as a failure with the signal's status. `pipe server` does not:
 * a signal is how a server is meant to stop, so its graceful shutdown ends in status 0.
 */
export const interruptionFails: Effect.Effect<void> = Effect.sync(() => void (process.exitCode = interruptedStatus()))

/** The status the program chose for itself (see `interruptionFails`), 0 if none. */
export const chosenExitStatus = (): number => typeof process.exitCode === "number" ? process.exitCode : 0
