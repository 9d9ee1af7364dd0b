#!/usr/bin/env node
import * as Command from "@effect/cli/Command"
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { Effect } from "effect"
import { receiveCommand } from "./cli/ReceiveCommand.js"
import { sendCommand } from "./cli/SendCommand.js"
import { serverCommand } from "./cli/ServerCommand.js"
import { watchCommand } from "./cli/WatchCommand.js"
import { version } from "./Version.js"

const pipe = Command.make("pipe").pipe(
  Command.withDescription("An HTTP pipe: a sender streams bytes into a URL, receivers read them out."),
  Command.withSubcommands([serverCommand, sendCommand, receiveCommand, watchCommand])
)

const cli = Command.run(pipe, { name: "pipe", version })

cli(process.argv).pipe(Effect.provide(NodeContext.layer), NodeRuntime.runMain({ disablePrettyLogger: true }))
