export interface WaitOptions {
  /** What is being awaited, for the failure message. */
  readonly what: string
  readonly timeoutMs?: number
  readonly intervalMs?: number
}

/**
 * Polls `probe` until it returns a truthy value and returns that value.
 * Use it only to await an observable condition (a healthz value, a byte count, a header),
 * never to "let things settle".
 */
export const waitFor = async <T>(
  probe: () => T | Promise<T>,
  { what, timeoutMs = 10_000, intervalMs = 10 }: WaitOptions
): Promise<NonNullable<T>> => {
  const deadline = Date.now() + timeoutMs
  let last: unknown
  for (;;) {
    try {
      const value = await probe()
      if (value) return value as NonNullable<T>
      last = value
    } catch (error) {
      last = error
    }
    if (Date.now() > deadline) {
      throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what} (last: ${describe(last)})`)
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs))
  }
}

const describe = (value: unknown): string =>
  value instanceof Error ? value.message : JSON.stringify(value) ?? String(value)

/** Resolves like `promise`, or rejects if it takes longer than `ms` (e.g. "headers within 5 s"). */
export const within = <T>(promise: Promise<T>, ms: number, what: string): Promise<T> => {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}
