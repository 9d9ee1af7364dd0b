/**
 * `?progress&until=done` (protocol §10): a spectator stream that ends right after the `done` of "its"
 * transfer: the one waiting or streaming when it connects, or, on an idle or retained path, the next one to
 * start. A `done` replayed from an earlier transfer never ends it.
 *
 * On a first connection "its" `done` is simply the first *live* `done` after it subscribed: a live `done` is
 * only ever published as a transfer ends, and the subscription and the replay are taken in one step of the
 * path's mailbox, so no `done` can fall between them, and the replay's `done` (if any) is an earlier one.
 *
 * A reconnection (EventSource after any close, a bot after a `ttl` or a dropped connection) carries
 * `Last-Event-ID`, the id of the last path event it read, and that id alone must tell the server where the
 * spectator is. Ids come from one counter that only grows, so an id says *when* it was handed out, and:
 *
 * - A stream that ended on its `done` ended right after it: its `Last-Event-ID` is exactly that `done`'s id.
 *   Every other stream read something else last: a replay (whose ids are fresh, never the live `done`'s),
 *   a later live event, or nothing after an earlier one. So `Last-Event-ID` equal to a live `done` of the
 *   path means "that stream is over": **204**, and EventSource stops for good.
 * - "At or past" that `done` is also read as an id beyond anything this path has handed out (a client's own
 *   number, or one from another path), when the path holds a finished transfer and none is running: 204.
 *   An id this path handed out after its last `done` is a spectator still waiting for the next transfer
 *   (it saw the old `done` replayed, then something newer), so it is followed, never told 204.
 * - A `Last-Event-ID` older than the live `done` of the result the path still retains means the spectator
 *   was away when its transfer ended (between a `ttl` and the reconnection, say): it is sent that result's
 *   snapshot (`state`, `progress`, `done`), every event stamped with that `done`'s own id so that its next
 *   reconnection is the 204 above, and the stream ends. If more than one transfer ended while it was away,
 *   it learns the last one's result: only that one is kept.
 * - Anything else (no `Last-Event-ID`, or the path no longer remembers) is a first connection: the
 *   snapshot, then live events until the next live `done`. Where the rule cannot know, it keeps the spectator
 *   watching rather than stop it before its transfer ended: a bot waits for one more transfer, it never
 *   reports an old result as new.
 *
 * The actor remembers only while it lives (the retention window), but a reconnection may come later: with
 * `--retention 0s`, after a long `ttl` gap, after a restart. So the history record of the path's last result
 * (protocol §9) keeps its `done`'s id too, and `withRecordedDone` puts it into the book the same rule reads:
 * that `done` is then one of the path's live `done`s (its id: 204), and an older id is a spectator that was
 * away when it ended: 204 as well, without the `done` itself, which §9 keeps out of SSE once the retention
 * window is over (a bot that was away reads the result from the JSON's `last`, as `pipe watch` does). The record says nothing of the ids handed out after that `done` (replays to
 * latecomers, by that actor, a later one, or the server before a restart), but they are all at most the
 * highest id the process has handed out, so that is the position: an id past it was never this path's.
 * A record stays a record: a first connection still follows, so an old result never ends a stream. The
 * record keeps the last `done`'s id only: a stream that ended on an earlier `done` and reconnects only once
 * the actor is gone and a later transfer ended too is read as away for that later one: 204 too.
 * A record that expired (`--history-ttl`) or was evicted leaves the rule where it was without it: follow.
 */

/** What a path knows of the ids it handed out, as of one step of its mailbox. */
export interface DoneBook {
  /** Ids of the path's latest live `done` events, oldest first (a few: reconnections come within seconds). */
  readonly doneIds: ReadonlyArray<number>
  /** The highest id this path has handed out, live or on a replay (0 before any). */
  readonly position: number
  /** The id of the live `done` of the result the path retains (its retention window is on). */
  readonly retainedDoneId: number | undefined
  /** The id of the `done` the history records as the path's last result (`withRecordedDone`). */
  readonly recordedDoneId: number | undefined
  /** A transfer is waiting or streaming. */
  readonly active: boolean
}

/**
 * How an `until=done` stream starts: `follow` (the snapshot, then live events up to the next live `done`),
 * `missed` (the retained result's snapshot, stamped with its `done`'s id, then the end), `over` (204).
 */
export type UntilDoneStart = "follow" | "missed" | "over"

export const untilDoneStart = (lastEventId: number | undefined, book: DoneBook): UntilDoneStart => {
  if (lastEventId === undefined) return "follow"
  if (book.doneIds.includes(lastEventId)) return "over"
  if (book.retainedDoneId !== undefined && lastEventId < book.retainedDoneId) return "missed"
  if (book.recordedDoneId !== undefined && lastEventId < book.recordedDoneId) return "over"
  if (lastEventId > book.position && !book.active && book.doneIds.length > 0) return "over"
  return "follow"
}

/**
 * The book with the history's record of the path's last `done` in it (`recordedDoneId`, its SSE id; undefined
 * without a record or for one written before records kept it). `highestId` is the highest id the process
 * has handed out so far (src/actors/EventIds.ts).
 *
 * - A record the actor already knows (it published that `done`) adds only what the actor no longer keeps
 *   once its retention is over: where that result stands among the ids.
 * - A record the actor has no memory of (it was made again, or the server restarted) is an older `done`
 *   than anything this actor published: it joins the `done`s, and every id handed out after it, by whichever
 *   actor or process, is at most `highestId`.
 * - A record older than the actor's latest `done` (that one's record was evicted or could not be written)
 *   is not the path's last result: the actor's own book stands.
 */
export const withRecordedDone = (
  book: DoneBook,
  recordedDoneId: number | undefined,
  highestId: number
): DoneBook => {
  if (recordedDoneId === undefined) return book
  const latest = book.doneIds.at(-1)
  if (latest !== undefined && recordedDoneId < latest) return book
  const known = book.doneIds.includes(recordedDoneId)
  return {
    doneIds: known ? book.doneIds : [...book.doneIds, recordedDoneId],
    position: known ? book.position : Math.max(book.position, highestId),
    retainedDoneId: book.retainedDoneId,
    recordedDoneId,
    active: book.active
  }
}

/** How many live `done` ids a path remembers for the rule above. */
export const rememberedDones = 8

/** `Last-Event-ID` as a number, or `undefined` for a missing or malformed one (then it is a first connection). */
export const parseLastEventId = (header: string | undefined): number | undefined => {
  if (header === undefined || !/^[0-9]{1,16}$/.test(header.trim())) return undefined
  const id = Number(header.trim())
  return Number.isSafeInteger(id) ? id : undefined
}
