import { Effect } from "effect"
import type { LogFormat, ServerSettings } from "../ServerConfig.js"

/** Runs the server until SIGINT/SIGTERM (filled in by the core; the CLI only calls this). */
export const serve = (_settings: ServerSettings, _logFormat: LogFormat): Effect.Effect<void> => Effect.never
