/**
 * The typed client in one program: follow a path's next transfer while sending a file into it, then read the
 * path's last result. Run it from the repository (see the README):
 *   npx esbuild examples/send-and-watch.ts --bundle --platform=node --format=cjs --outfile=dist/example.cjs
 *   node dist/example.cjs http://localhost:8080 migration /var/backups/db.tar.gz
 */
import { Console, Effect, Fiber, Schedule, Stream } from "effect"
import { NodePipeClient, PipeClient } from "../src/client/index.js"

const [baseUrl = "http://localhost:8080", path = "migration", file = "/var/backups/db.tar.gz"] = process.argv.slice(2)

const program = Effect.gen(function*() {
  const pipe = yield* PipeClient
  // Watching first: with `untilDone` the stream ends after the result of the transfer about to start.
  const watching = yield* pipe.watch(path, { untilDone: true }).pipe(
    Stream.runForEach((event) => Console.log(event.event, JSON.stringify(event))),
    Effect.forkChild
  )
  // Sent only once the watch is counted as a spectator, so that it sees this transfer from its start.
  yield* pipe.snapshot(path).pipe(
    Effect.repeat({ schedule: Schedule.spaced("50 millis"), until: (snapshot) => snapshot.spectators > 0 })
  )
  const sent = yield* pipe.send(path, file) // resolves once every receiver has read the whole file
  yield* Fiber.join(watching)
  const snapshot = yield* pipe.snapshot(path)
  yield* Console.log(`sent ${sent.bytes} bytes; last result ok: ${snapshot.last?.ok}`)
})

program.pipe(Effect.provide(NodePipeClient.layer({ baseUrl })), Effect.runPromise)
