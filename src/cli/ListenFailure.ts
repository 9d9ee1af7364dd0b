import { Predicate } from "effect"

/** Node's error code, wherever it sits in a short chain of causes (the platform wraps the listen error). */
const errorCode = (defect: unknown): string | undefined => {
  for (let cause = defect, depth = 0; Predicate.isObject(cause) && depth < 4; depth++) {
    if (Predicate.hasProperty(cause, "code") && typeof cause.code === "string") return cause.code
    cause = Predicate.hasProperty(cause, "cause") ? cause.cause : undefined
  }
  return undefined
}

const errorPort = (defect: unknown): number | undefined => {
  for (let cause = defect, depth = 0; Predicate.isObject(cause) && depth < 4; depth++) {
    if (Predicate.hasProperty(cause, "port") && typeof cause.port === "number") return cause.port
    cause = Predicate.hasProperty(cause, "cause") ? cause.cause : undefined
  }
  return undefined
}

/**
 * The one line for a server that could not listen, or `undefined` for any other defect (a bug, which keeps its
 * stack). These are the operator's mistakes, not the program's: a port taken, a privileged port, an address
 * this machine does not have.
 */
export const listenFailure = (defect: unknown, host: string, mainPort: number): string | undefined => {
  // The listen error names its port: the main one, or `--admin-port`'s.
  const port = errorPort(defect) ?? mainPort
  switch (errorCode(defect)) {
    case "EADDRINUSE":
      return `port ${port} is already in use on ${host}`
    case "EACCES":
      return `no permission to listen on port ${port} of ${host}`
    case "EADDRNOTAVAIL":
      return `${host} is not an address of this machine`
    case "ENOTFOUND":
      return `cannot resolve the host ${host}`
    default:
      return undefined
  }
}
