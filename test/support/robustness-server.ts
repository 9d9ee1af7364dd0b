import { readFileSync } from "node:fs"
import { afterAll, beforeAll } from "vitest"
import { killStrays } from "./child.js"
import { destroyOpenRequests } from "./http.js"
import { type ServerHandle, startServer } from "./server.js"

/**
 * `startServer(flags)` with extra environment variables for the server process only (`PIPE_FAULT_INJECT`, …).
 *
 * `startServer` spawns `node dist/main.js server …` synchronously, before its first `await`, with the test
 * process's environment: the variables are set around that one call and restored at once, so everything
 * else `startServer` does (the listening line, the log file, the SIGKILL at exit) is reused as it is. The
 * spawned process's real environment is then read back from /proc: if a later `startServer` stopped
 * inheriting the environment, this fails loudly instead of silently starting a server without them.
 */
export const startServerWithEnv = async (
  flags: ReadonlyArray<string>,
  env: Readonly<Record<string, string>>
): Promise<ServerHandle> => {
  const saved = Object.keys(env).map((key) => [key, process.env[key]] as const)
  let starting: Promise<ServerHandle>
  try {
    Object.assign(process.env, env)
    starting = startServer(flags)
  } finally {
    for (const [key, value] of saved) {
      if (value === undefined) delete process.env[key]
      else process.env[key] = value
    }
  }
  const handle = await starting
  const environ = readFileSync(`/proc/${handle.pid}/environ`, "latin1").split("\0")
  const missing = Object.entries(env).filter(([key, value]) => !environ.includes(`${key}=${value}`))
  if (missing.length > 0) {
    await handle.stop()
    throw new Error(`the server process did not get ${missing.map(([k]) => k).join(", ")} in its environment`)
  }
  return handle
}

/** Like `useServer`, with extra environment variables for the server process. */
export const useServerWithEnv = (
  flags: ReadonlyArray<string>,
  env: Readonly<Record<string, string>>
): () => ServerHandle => {
  let handle: ServerHandle | undefined
  beforeAll(async () => {
    handle = await startServerWithEnv(flags, env)
  }, 30_000)
  afterAll(async () => {
    destroyOpenRequests()
    await killStrays()
    await handle?.stop()
  }, 20_000)
  return () => {
    if (handle === undefined) throw new Error("server not started")
    return handle
  }
}
