#!/usr/bin/env node
// First: it sizes the heap before the rest loads.
import "./HeapTuning.js"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as NodeServices from "@effect/platform-node/NodeServices"
import { Cause, Effect, Exit, Runtime } from "effect"
import * as Command from "effect/cli/Command"
import { receiveCommand } from "./cli/ReceiveCommand.js"
import { sendCommand } from "./cli/SendCommand.js"
import { serverCommand } from "./cli/ServerCommand.js"
import { watchCommand } from "./cli/WatchCommand.js"
import { version } from "./Version.js"

// Only the commands' flags load here; each handler imports its side (server or client) when it runs.
const pipe = Command.make("pipe").pipe(
  Command.withDescription("An HTTP pipe: a sender streams bytes into a URL, receivers read them out."),
  Command.withSubcommands([serverCommand, sendCommand, receiveCommand, watchCommand])
)

/**
 * SIGTERM/SIGINT interrupt the program, and for `pipe server` that is how it is meant to stop: once its graceful
 * shutdown has run, it exits 0 (as supervisors and the tests expect), not with the 130 Effect reports by default.
 */
const teardown: Runtime.Teardown = (exit, onExit) =>
  Exit.isFailure(exit) && Cause.hasInterruptsOnly(exit.cause) ? onExit(0) : Runtime.defaultTeardown(exit, onExit)

pipe.pipe(Command.run({ version }), Effect.provide(NodeServices.layer), NodeRuntime.runMain({ teardown }))
