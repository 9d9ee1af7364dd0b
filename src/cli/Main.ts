// The command line: `main.ts` loads this once the heap is sized and the compile cache is on.
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as NodeServices from "@effect/platform-node/NodeServices"
import { Cause, Console, Effect, Exit, Layer, Runtime } from "effect"
import * as CliConfig from "effect/cli/CliConfig"
import * as Command from "effect/cli/Command"
import * as GlobalFlag from "effect/cli/GlobalFlag"
import { version } from "../Version.js"
import * as Help from "./Help.js"
import { setExitCode } from "./PipeTarget.js"
import { receiveCommand } from "./ReceiveCommand.js"
import { sendCommand } from "./SendCommand.js"
import { serverCommand } from "./ServerCommand.js"
import { chosenExitStatus, recordTerminationSignals } from "./Termination.js"
import { tokenCommand } from "./TokenCommand.js"
import { watchCommand } from "./WatchCommand.js"

recordTerminationSignals()

// Only the commands' flags load here; each handler imports its side (server or client) when it runs.
const pipe = Command.make("pipe").pipe(
  Command.withDescription(
    "An HTTP pipe: a sender streams bytes into a URL, receivers read them out,\n" +
      "spectators watch. Nothing is stored. 'pipe COMMAND --help' tells more.\n" +
      "Exit status: 0 ok, 1 transfer failed, 2 usage error, 130/143 interrupted."
  ),
  Command.withSubcommands([serverCommand, sendCommand, receiveCommand, watchCommand, tokenCommand]),
  Command.withExamples([
    { command: "pipe server --port 8080", description: "on the server" },
    { command: "pipe send http://host:8080/api/v1/pipe/backup backup.tar", description: "and anywhere else" }
  ])
)

/** 2 for a command line the CLI could not use (the convention of getopt and the shells). */
const usageStatus = 2

/**
 * SIGTERM/SIGINT interrupt the program. For `pipe server` that is how it is meant to stop: once its graceful
 * shutdown has run, it exits 0 (as supervisors and the tests expect). A client command marks its interruption
 * as the failure it is (130/143, see Termination.ts).
 */
const teardown: Runtime.Teardown = (exit, onExit) =>
  Exit.isFailure(exit) && Cause.hasInterruptsOnly(exit.cause)
    ? onExit(chosenExitStatus())
    : Runtime.defaultTeardown(exit, onExit)

// Help, version and wizard-free: `--wizard` and `--log-level` mean nothing to these commands.
const cliConfig = CliConfig.layer({ builtIns: [GlobalFlag.Help, GlobalFlag.Version] })

pipe.pipe(
  Command.run({ version }),
  // The presenter (Help.ts) has said what was wrong in one line; what is left is the status.
  Effect.catchTag("ShowHelp", () => setExitCode(usageStatus)),
  Effect.catch((error) =>
    Effect.andThen(Console.error(`pipe: ${error.message.split("\n")[0] ?? ""}`), setExitCode(usageStatus))
  ),
  Effect.provide(Layer.mergeAll(Help.layer, cliConfig)),
  Effect.provide(NodeServices.layer),
  NodeRuntime.runMain({ teardown })
)
