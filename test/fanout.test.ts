// Fan-out with ?n: 1 GiB of deterministic data to three real curl receivers, and the n conflicts.
import { describe, expect, it } from "vitest"
import { PrngSource } from "./support/data.js"
import { request } from "./support/http.js"
import { finishReceivers, finishSender, holdReceiver, holdSender } from "./support/parties.js"
import { pipePath, uniqueName, waitForReceivers } from "./support/pipe.js"
import { useServer } from "./support/server.js"
import { curlReceiver, curlSender, expectNothingLeft } from "./support/transfer.js"

const MiB = 1024 * 1024
const server = useServer(["--retention", "0s"])

describe("fan-out ?n=3", () => {
  it("delivers 1 GiB to each of three receivers, byte for byte", async () => {
    const path = pipePath(uniqueName("fanout"))
    const size = 1024 * MiB
    const source = new PrngSource(path, { size })
    // One receiver before the sender, two after: both arrival orders in one transfer.
    const receivers = [curlReceiver(server(), `${path}?n=3`)]
    await waitForReceivers(server(), path, 1)
    const sender = curlSender(server(), `${path}?n=3`, source)
    await sender.waitForText("[INFO] Waiting for 3 receiver(s)...\n")
    receivers.push(curlReceiver(server(), `${path}?n=3`), curlReceiver(server(), `${path}?n=3`))

    const [sent, ...got] = await Promise.all([sender.result, ...receivers.map((r) => r.result)])
    expect(sent.code).toBe(0)
    expect(sent.stdoutText).toContain("[INFO] Start sending to 3 receiver(s)!\n")
    expect(sent.stdoutText).toMatch(
      /\[INFO\] Sent successfully!\n\[INFO\] All receiver\(s\) received successfully\.\n$/
    )
    const expected = { code: 0, bytes: size, sha256: source.digest.hex() }
    expect(got.map((r) => ({ code: r.code, bytes: r.bytes, sha256: r.sha256 }))).toEqual([expected, expected, expected])
    await expectNothingLeft(server())
  }, 120_000)

  it("a receiver beyond n=3 gets 409", async () => {
    const path = pipePath(uniqueName("fanout-full"))
    const waiting = [
      await holdReceiver(server(), `${path}?n=3`, 1),
      await holdReceiver(server(), `${path}?n=3`, 2),
      await holdReceiver(server(), `${path}?n=3`, 3)
    ]
    const extra = await request(server().url, `${path}?n=3`)
    expect([extra.status, extra.text]).toEqual([409, "[ERROR] The number of receivers has reached limits.\n"])
    await finishReceivers(server(), waiting, path, 3)
    await expectNothingLeft(server())
  })

  it("n mismatch: a receiver against a waiting sender, and a sender against waiting receivers", async () => {
    const senderFirst = pipePath(uniqueName("fanout-mismatch-s"))
    const sender = await holdSender(server(), `${senderFirst}?n=3`)
    const receiver = await request(server().url, `${senderFirst}?n=2`)
    expect([receiver.status, receiver.text]).toEqual([400, "[ERROR] The number of receivers should be 3 but 2.\n"])
    await finishSender(server(), sender, senderFirst, 3)

    const receiversFirst = pipePath(uniqueName("fanout-mismatch-r"))
    const waiting = await holdReceiver(server(), `${receiversFirst}?n=3`)
    const lateSender = await request(server().url, `${receiversFirst}?n=2`, { method: "PUT", body: "payload" })
    expect([lateSender.status, lateSender.text]).toEqual([400, "[ERROR] The number of receivers should be 3 but 2.\n"])
    const others = [
      await holdReceiver(server(), `${receiversFirst}?n=3`, 2),
      await holdReceiver(server(), `${receiversFirst}?n=3`, 3)
    ]
    await finishReceivers(server(), [waiting, ...others], receiversFirst, 3)
    await expectNothingLeft(server())
  })
})
