import { Effect, FileSystem, Option, Path } from "effect"
import type { PlatformError } from "effect/PlatformError"

/**
 * The size of a file or a directory tree as `du -sb` (GNU du, apparent sizes in bytes) counts it: every
 * entry's own `lstat` size, directories included; symbolic links not followed (the link's own size counts);
 * a file with several hard links in the tree counted once. This is what a user checks the total against, so it
 * matches du's number rather than the sum of the regular files' sizes; for a `tar` of the tree it is an
 * estimate all the same (tar adds headers and padding, gzip changes everything).
 */
export const apparentSize = (
  root: string
): Effect.Effect<number, PlatformError, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const paths = yield* Path.Path
    const seenLinked = new Set<string>()

    const sizeOf = (path: string): Effect.Effect<number, PlatformError> =>
      Effect.gen(function*() {
        const info = yield* fs.lstat(path)
        if (info.type !== "Directory" && Option.getOrElse(info.nlink, () => 1n) > 1n && Option.isSome(info.ino)) {
          const inode = `${info.dev}:${info.ino.value}`
          if (seenLinked.has(inode)) return 0
          seenLinked.add(inode)
        }
        const own = Number(info.size)
        if (info.type !== "Directory") return own
        let total = own
        // One entry at a time: a tree can be wide, and du walks it in order too.
        for (const name of yield* fs.readDirectory(path)) total += yield* sizeOf(paths.join(path, name))
        return total
      })

    return yield* sizeOf(root)
  })
