import { Effect, Result } from "effect"
import { readFileSync } from "node:fs"
import { minSecretBytes, secretOf } from "../domain/CapabilityToken.js"

/**
 * The key of signed tokens from a `--token-secret` file, read as the server reads it; or what is wrong with the
 * file, in words that never include the secret.
 */
export const readSecretFile = (file: string): Effect.Effect<Result.Result<Uint8Array, string>> =>
  Effect.sync(() => {
    let bytes: Uint8Array
    try {
      bytes = readFileSync(file)
    } catch {
      return Result.fail(`--token-secret ${file}: cannot be read`)
    }
    const secret = secretOf(bytes)
    return secret.length >= minSecretBytes
      ? Result.succeed(secret)
      : Result.fail(
        `--token-secret ${file}: the secret has ${secret.length} bytes; at least ${minSecretBytes} are needed`
      )
  })
