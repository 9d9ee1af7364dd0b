import { Data, Effect, Option } from "effect"
import { readFileSync } from "node:fs"
import { createSecureContext } from "node:tls"

/** A certificate and its private key, as PEM bytes read from `--tls-cert` and `--tls-key`. */
export interface TlsCredentials {
  readonly cert: Buffer
  readonly key: Buffer
}

/** `--tls-cert`/`--tls-key` the server cannot start with: one line on stderr, exit 1, before it listens. */
export class TlsSetupFailed extends Data.TaggedError("TlsSetupFailed")<{ readonly message: string }> {}

/** Which files the server reads its certificate from. */
export interface TlsFiles {
  readonly certFile: string
  readonly keyFile: string
}

/** Both flags or neither: a certificate without its key (or the reverse) is a mistake, not plain HTTP. */
export const tlsFilesOf = (
  certFile: Option.Option<string>,
  keyFile: Option.Option<string>
): Effect.Effect<TlsFiles | undefined, TlsSetupFailed> => {
  if (Option.isSome(certFile) && Option.isSome(keyFile)) {
    return Effect.succeed({ certFile: certFile.value, keyFile: keyFile.value })
  }
  if (Option.isNone(certFile) && Option.isNone(keyFile)) return Effect.succeed(undefined)
  return Effect.fail(
    new TlsSetupFailed({
      message: Option.isSome(certFile) ? "--tls-cert needs --tls-key as well" : "--tls-key needs --tls-cert as well"
    })
  )
}

const reason = (error: unknown) =>
  error instanceof Error && "code" in error && typeof error.code === "string" ? error.code : String(error)

const readPem = (flag: string, file: string) =>
  Effect.try({
    try: () => readFileSync(file),
    catch: (error) => new TlsSetupFailed({ message: `${flag} ${file}: cannot be read (${reason(error)})` })
  })

/**
 * Reads both files and checks that they make a usable certificate (PEM that parses, a key that matches it)
 * by building the TLS context Node would build: a bad file fails here, with its name, not on the first
 * client's handshake.
 */
export const readCredentials = (files: TlsFiles): Effect.Effect<TlsCredentials, TlsSetupFailed> =>
  Effect.gen(function*() {
    const cert = yield* readPem("--tls-cert", files.certFile)
    const key = yield* readPem("--tls-key", files.keyFile)
    yield* Effect.try({
      try: () => createSecureContext({ cert, key }),
      catch: (error) =>
        new TlsSetupFailed({
          message: `--tls-cert ${files.certFile} with --tls-key ${files.keyFile}: not a usable certificate and key (${
            error instanceof Error ? error.message : String(error)
          })`
        })
    })
    return { cert, key }
  })
