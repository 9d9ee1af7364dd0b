/**
 * What a token allows (protocol §12): some of the three roles a request can play on a pipe, on every path,
 * on the paths under a prefix, or on one path, until an optional expiry.
 */

export const roles = ["send", "receive", "watch"] as const
export type Role = (typeof roles)[number]

export const isRole = (text: string): text is Role => (roles as ReadonlyArray<string>).includes(text)

export type Scope =
  | { readonly _tag: "Anywhere" }
  /** Pipe names that start with `prefix` (a plain string test: `team/` is a folder, `team` also `teams`). */
  | { readonly _tag: "Prefix"; readonly prefix: string }
  | { readonly _tag: "Exact"; readonly name: string }

export interface Grant {
  readonly roles: ReadonlySet<Role>
  readonly scope: Scope
  /** Milliseconds since the epoch; none for a static token. */
  readonly expiresAt: number | undefined
}

/** A path as users write it (`/api/v1/pipe/a`, `/a`, `a`) as the pipe name it denotes the start of. */
export const nameOfPath = (path: string): string => {
  const canonical = "/api/v1/pipe/"
  if (path.startsWith(canonical)) return path.slice(canonical.length)
  return path.startsWith("/") ? path.slice(1) : path
}

export const inScope = (scope: Scope, name: string): boolean => {
  switch (scope._tag) {
    case "Anywhere":
      return true
    case "Prefix":
      return name.startsWith(scope.prefix)
    case "Exact":
      return name === scope.name
  }
}

/** Whether `grant` lets its bearer play `role` on the pipe `name` at `now`. */
export const allows = (grant: Grant, role: Role, name: string, now: number): boolean =>
  grant.roles.has(role) && inScope(grant.scope, name) && (grant.expiresAt === undefined || now < grant.expiresAt)

/** `send,watch` → the roles, or the first word that is not one. */
export const parseRoles = (
  text: string
): { readonly _tag: "Ok"; readonly roles: ReadonlySet<Role> } | { readonly _tag: "Bad"; readonly word: string } => {
  const set = new Set<Role>()
  for (const word of text.split(",")) {
    const trimmed = word.trim()
    if (!isRole(trimmed)) return { _tag: "Bad", word: trimmed }
    set.add(trimmed)
  }
  return { _tag: "Ok", roles: set }
}
