import { connect } from "node:net"
import { describe, expect, it } from "vitest"
import { openRequest, request } from "./support/http.js"
import { healthz, pipePath, uniqueName, waitForNoPipes } from "./support/pipe.js"
import { rssBytes, socketCount } from "./support/proc.js"
import { type ServerHandle, useServer } from "./support/server.js"
import { waitFor } from "./support/wait.js"

/** Sends `paths.length` HEAD requests pipelined on one connection and resolves with their status codes. */
const pipelinedHeads = (server: ServerHandle, paths: ReadonlyArray<string>): Promise<Array<number>> =>
  new Promise((resolve, reject) => {
    const socket = connect(server.port, "127.0.0.1")
    const statuses: Array<number> = []
    let buffer = ""
    let sent = 0
    const sendBatch = () => {
      const batch = paths.slice(sent, sent + 500)
      sent += batch.length
      socket.write(batch.map((p) => `HEAD ${p} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`).join(""))
    }
    socket.setEncoding("latin1")
    socket.on("data", (chunk: string) => {
      buffer += chunk
      let end: number
      while ((end = buffer.indexOf("\r\n\r\n")) !== -1) {
        statuses.push(Number(buffer.slice(9, 12)))
        buffer = buffer.slice(end + 4)
      }
      if (statuses.length === paths.length) {
        socket.end()
        resolve(statuses)
      } else if (statuses.length === sent) sendBatch()
    })
    socket.on("error", reject)
    sendBatch()
  })

const metric = async (server: ServerHandle, name: string): Promise<number> => {
  const text = (await request(server.url, "/metrics")).text
  const line = text.split("\n").find((l) => l.startsWith(`${name} `))
  return Number(line?.split(" ")[1])
}

describe("the registry frees what nobody holds", () => {
  const server = useServer(["--retention", "0s"])

  it("60,000 probes of distinct paths create no actor", async () => {
    const paths = Array.from({ length: 60_000 }, (_, i) => pipePath(`probe-${process.pid}-${i}`))
    const lanes = [0, 1, 2, 3].map((lane) => paths.filter((_, i) => i % 4 === lane))
    const statuses = (await Promise.all(lanes.map((lane) => pipelinedHeads(server(), lane)))).flat()
    expect(statuses.every((s) => s === 200)).toBe(true)
    expect((await healthz(server())).pipes).toBe(0)
  }, 120_000)

  it("3,000 receivers that wait on distinct paths and leave leave nothing behind", async () => {
    const round = async (count: number) => {
      for (let start = 0; start < count; start += 200) {
        const batch = Array.from(
          { length: Math.min(200, count - start) },
          () => openRequest(server().url, pipePath(uniqueName("gone")))
        )
        batch.forEach(({ req }) => req.end())
        await waitFor(async () => (await metric(server(), "pipe_waiting_parties")) >= batch.length, {
          what: `${batch.length} receivers waiting`
        })
        batch.forEach(({ req }) => req.destroy())
      }
      await waitForNoPipes(server())
      await waitFor(async () => (await metric(server(), "pipe_waiting_parties")) === 0, { what: "no party waiting" })
    }
    await round(600) // warm-up: JIT and allocator pools, so that growth below is a leak and not a warm-up
    const rssBefore = rssBytes(server().pid)
    await round(3_000)
    // The exact checks are above (no pipe, no waiting party) and below (sockets); RSS is only a sanity
    // bound, loose enough for the GC's timing on a loaded 2-core box.
    expect(rssBytes(server().pid) - rssBefore).toBeLessThan(96 * 1024 * 1024)
    await waitFor(() => socketCount(server().pid) <= server().baselineSockets, { what: "sockets back to baseline" })
  }, 120_000)
})
