import { Console, Layer, Option } from "effect"
import type * as CliError from "effect/cli/CliError"
import * as CliOutput from "effect/cli/CliOutput"
import type { FlagDoc, HelpDoc } from "effect/cli/HelpDoc"

/**
 * A help screen fits a default terminal: 80 columns (79 characters, for a full line wraps on some terminals)
 * and, by keeping descriptions short, about 24 lines.
 */
const width = 79
const indent = "  "

/**
 * Colour only for a person at a terminal: never into a pipe, a file or a CI log (not even when FORCE_COLOR is
 * inherited from a test runner), and never against NO_COLOR or TERM=dumb.
 */
export const colourAllowed = (): boolean =>
  process.stdout.isTTY === true && (process.env["NO_COLOR"] ?? "") === "" && process.env["TERM"] !== "dumb"

const heading = (text: string): string => colourAllowed() ? `\x1b[1m${text}\x1b[0m` : text

/** Words of `text` in lines of at most `room` columns (a word longer than that gets a line of its own). */
const wrap = (text: string, room: number): Array<string> => {
  const lines: Array<string> = []
  let line = ""
  for (const word of text.split(/\s+/).filter((w) => w !== "")) {
    if (line !== "" && line.length + 1 + word.length > room) {
      lines.push(line)
      line = word
    } else line = line === "" ? word : `${line} ${word}`
  }
  if (line !== "") lines.push(line)
  return lines
}

/** Two columns, the second wrapped under itself when it does not fit beside the first. */
const table = (rows: ReadonlyArray<readonly [left: string, right: string]>): Array<string> => {
  const column = Math.min(Math.max(...rows.map(([left]) => left.length)) + 2, 28)
  return rows.flatMap(([left, right]) => {
    const lead = indent + left
    const room = width - indent.length - column
    const [first = "", ...rest] = wrap(right, room)
    const pad = " ".repeat(indent.length + column)
    return lead.length + 2 > pad.length
      ? [lead, ...[first, ...rest].map((line) => pad + line)]
      : [lead.padEnd(pad.length) + first, ...rest.map((line) => pad + line)]
  })
}

const flagRow = (flag: FlagDoc): readonly [string, string] => {
  const names = [...flag.aliases.filter((alias) => /^-[^-]/.test(alias)), `--${flag.name}`].join(", ")
  const value = flag.type === "boolean" ? "" : ` ${flag.type}`
  return [names + value, Option.getOrElse(flag.description, () => "")]
}

/**
 * One screen per command: usage, what it does, its arguments and flags one line each, two examples. The
 * framework's own layout puts each table's widest entry beside every description and never wraps, which
 * makes 130-column lines; the built-in global flags are listed once, on `pipe --help`.
 */
export const renderHelp = (doc: HelpDoc): string => {
  const lines: Array<string> = [`${heading("Usage:")} ${doc.usage}`]
  for (const paragraph of doc.description.split("\n")) lines.push(...wrap(paragraph, width))
  const rows: Array<readonly [string, string]> = [
    ...(doc.args ?? []).map((arg): readonly [string, string] => [
      arg.required ? `<${arg.name}>` : `[${arg.name}]`,
      Option.getOrElse(arg.description, () => "")
    ]),
    ...doc.flags.map(flagRow),
    ...(doc.subcommands ?? []).flatMap((group) =>
      group.commands.map((command): readonly [string, string] => [
        command.name,
        command.shortDescription ?? command.description
      ])
    ),
    // Only the root lists the built-ins: every command has them, and repeating them costs a subcommand's screen.
    ...(doc.commandPath === undefined || doc.commandPath.length <= 1 ? doc.globalFlags ?? [] : []).map(flagRow)
  ]
  if (rows.length > 0) lines.push("", ...table(rows))
  const examples = doc.examples ?? []
  if (examples.length > 0) {
    lines.push("", heading("Examples:"))
    for (const example of examples) {
      if (example.description !== undefined) lines.push(`${indent}# ${example.description}`)
      lines.push(`${indent}${example.command}`)
    }
  }
  return lines.join("\n")
}

/** The one line a usage mistake gets, without the framework's multi-line suggestions. */
const describeUsageError = (error: CliError.NonShowHelpErrors): string => {
  const suggest = (suggestions: ReadonlyArray<string>) =>
    suggestions.length === 0 ? "" : ` (did you mean ${suggestions.join(" or ")}?)`
  switch (error._tag) {
    case "UnrecognizedOption":
      return `unknown flag ${error.option}${suggest(error.suggestions)}`
    case "UnknownSubcommand":
      return `unknown command "${error.subcommand}"${suggest(error.suggestions)}`
    case "MissingArgument":
      return `missing argument <${error.argument}>`
    case "MissingOption":
      return `missing flag --${error.option}`
    default:
      return error.message.split("\n")[0] ?? error.message
  }
}

/** `pipe send: missing argument <target> (see pipe send --help)`: what went wrong and where to read more. */
export const usageErrorLine = (
  commandPath: ReadonlyArray<string>,
  errors: ReadonlyArray<CliError.NonShowHelpErrors>
): string => {
  const command = commandPath.join(" ")
  const [first] = errors
  const what = first === undefined ? "invalid usage" : describeUsageError(first)
  return `${command}: ${what} (see ${command} --help)`
}

/**
 * Help and version on stdout; a usage mistake as one line on stderr (no help screen in front of it, no error
 * record); the help a bare `pipe` shows on stderr, for it did not do what was asked. The exit status is the
 * caller's business (`main`: 2 for a usage mistake).
 */
const presenter: CliOutput.Presenter = {
  present: (event) => {
    switch (event._tag) {
      case "Help":
        return event.reason === "Requested"
          ? Console.log(renderHelp(event.helpDoc))
          : Console.error(renderHelp(event.helpDoc))
      case "Version":
        return Console.log(`${event.name} ${event.version}`)
      case "InvalidInvocation":
        return Console.error(usageErrorLine(event.commandPath, event.errors))
    }
  }
}

const formatter: CliOutput.Formatter = {
  ...CliOutput.defaultFormatter({ colors: false }),
  formatHelpDoc: renderHelp
}

/** The CLI's help and usage-error output, in place of the framework's defaults. */
export const layer: Layer.Layer<never> = Layer.mergeAll(CliOutput.layerPresenter(presenter), CliOutput.layer(formatter))
