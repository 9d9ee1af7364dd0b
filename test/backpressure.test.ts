// Backpressure: a slow receiver paces a fast 1 GiB sender; the server buffers only a bounded amount.
import { expect, it } from "vitest"
import { PrngSource } from "./support/data.js"
import { expectTransferWorks, pipePath, uniqueName, waitForReceivers } from "./support/pipe.js"
import { peakRssBytes, rssBytes } from "./support/proc.js"
import { useServer } from "./support/server.js"
import { curlReceiver, curlSender, expectNothingLeft } from "./support/transfer.js"
import { waitFor } from "./support/wait.js"

const MB = 1_000_000
const MiB = 1024 * 1024
const server = useServer(["--retention", "0s"])

it("a 5 MiB/s receiver holds a 1 GiB sender back: bounded RSS, bounded lead", async () => {
  const warmup = pipePath(uniqueName("warmup"))
  await expectTransferWorks(server(), warmup)
  const baseline = rssBytes(server().pid)

  const path = pipePath(uniqueName("backpressure"))
  const source = new PrngSource(path, { size: 1024 * MiB })
  const receiver = curlReceiver(server(), path, ["--limit-rate", "5M"])
  await waitForReceivers(server(), path, 1)
  const sender = curlSender(server(), path, source)
  // ~4 s at 5 MiB/s: the measurement window is the receiver's own progress; RSS is sampled meanwhile.
  let peak = baseline
  await waitFor(
    () => {
      peak = Math.max(peak, rssBytes(server().pid))
      return receiver.bytes >= 20 * MiB
    },
    { what: "the slow receiver to get 20 MiB", timeoutMs: 15_000, intervalMs: 50 }
  )
  const received = receiver.bytes
  const uploaded = source.produced // an upper bound of what the sender has uploaded
  receiver.kill()
  await Promise.all([receiver.result, sender.result])
  console.log(
    `backpressure: received ${(received / MB).toFixed(1)} MB, sender produced ${(uploaded / MB).toFixed(1)} MB, ` +
      `RSS ${(baseline / MB).toFixed(1)} → peak ${(peak / MB).toFixed(1)} MB (VmHWM ${
        (peakRssBytes(server().pid) / MB).toFixed(1)
      } MB)`
  )
  expect(uploaded - received, `sender ahead by ${((uploaded - received) / MB).toFixed(1)} MB`).toBeLessThan(64 * MB)
  expect(peak - baseline, `server RSS grew by ${((peak - baseline) / MB).toFixed(1)} MB`).toBeLessThan(64 * MB)
  expect(uploaded).toBeLessThan(1024 * MiB)
  await expectNothingLeft(server())
  await expectTransferWorks(server(), path)
}, 60_000)
