// In-process SSE spectators for pipe's `GET <pipe URL>?progress` (protocol §4.1).
// Each spectator is one plain node:http GET with `Accept: text/event-stream` and its own socket (agent: false).
// It records every event with its client arrival time (performance.now(), ms) and parses each `data:` line as JSON.
import http from "node:http"
import { performance } from "node:perf_hooks"

/** Incremental SSE parser (LF or CRLF, `event`/`id`/`data`, comments). Returns the frames completed so far. */
export function sseParser() {
  let buffer = ""
  let event = ""
  let id
  let data = []
  return (chunk) => {
    buffer += chunk
    const frames = []
    let nl
    while ((nl = buffer.search(/\r\n|\n|\r/)) !== -1) {
      const line = buffer.slice(0, nl)
      buffer = buffer.slice(nl + (buffer.startsWith("\r\n", nl) ? 2 : 1))
      if (line === "") {
        if (data.length > 0) frames.push({ event: event || "message", id, data: data.join("\n") })
        event = ""
        data = []
        continue
      }
      if (line.startsWith(":")) {
        frames.push({ comment: line.slice(1).trim() })
        continue
      }
      const colon = line.indexOf(":")
      const field = colon === -1 ? line : line.slice(0, colon)
      const value = colon === -1 ? "" : line.slice(colon + 1).replace(/^ /, "")
      if (field === "event") event = value
      else if (field === "data") data.push(value)
      else if (field === "id") id = value
    }
    return frames
  }
}

/**
 * Opens one spectator on `url` (the pipe URL; `?progress` is added). Returns:
 *   attached   resolves on the first event (the replayed `state`), rejects on an HTTP error
 *   finished   resolves on the first `done` event (or on close / error / timeout, with `problems` filled in)
 *   events     [{ event, id, data, t }] where t = performance.now() at arrival and data is the parsed JSON
 *   close()    destroys the connection (the server keeps the stream open for its retention window)
 */
export function openSpectator(url, { timeoutMs = 600_000 } = {}) {
  const u = new URL(url)
  u.searchParams.set("progress", "")
  const spec = { events: [], comments: 0, problems: [], status: null, contentType: null, closedByUs: false }
  let onAttached, onAttachFail, onFinished
  spec.attached = new Promise((res, rej) => {
    onAttached = res
    onAttachFail = rej
  })
  spec.attached.catch(() => {})
  spec.finished = new Promise((res) => {
    onFinished = res
  })
  let attachedYet = false
  let finishedYet = false
  const finish = () => {
    if (!finishedYet) {
      finishedYet = true
      clearTimeout(timer)
      onFinished(spec)
    }
  }
  const fail = (msg) => {
    spec.problems.push(msg)
    if (!attachedYet) onAttachFail(new Error(msg))
    finish()
  }
  const timer = setTimeout(() => {
    fail(`no done event within ${timeoutMs} ms`)
    req.destroy()
  }, timeoutMs)

  const parse = sseParser()
  const req = http.get(u, { agent: false, headers: { accept: "text/event-stream" } }, (res) => {
    spec.status = res.statusCode
    spec.contentType = res.headers["content-type"] ?? null
    if (res.statusCode !== 200 || !String(spec.contentType).startsWith("text/event-stream")) {
      let body = ""
      res.setEncoding("utf8")
      res.on("data", (d) => {
        body += d
      })
      res.on("end", () => fail(`HTTP ${res.statusCode} ${spec.contentType}: ${body.trim().slice(0, 200)}`))
      return
    }
    res.setEncoding("utf8")
    res.on("data", (chunk) => {
      const t = performance.now()
      for (const f of parse(chunk)) {
        if (f.comment !== undefined) {
          spec.comments++
          continue
        }
        let data
        try {
          data = JSON.parse(f.data)
        } catch {
          spec.problems.push(`unparsable data on ${f.event} id ${f.id}: ${f.data.slice(0, 100)}`)
          continue
        }
        spec.events.push({ event: f.event, id: f.id === undefined ? NaN : Number(f.id), data, t })
        if (!attachedYet) {
          attachedYet = true
          onAttached(spec)
        }
        if (f.event === "done") finish()
      }
    })
    res.on("close", () => {
      if (!spec.closedByUs && !finishedYet) fail("stream closed before a done event")
    })
  })
  req.on("error", (err) => {
    if (!spec.closedByUs) fail(`request error: ${err.code ?? err.message}`)
  })
  spec.close = () => {
    spec.closedByUs = true
    clearTimeout(timer)
    req.destroy()
    finish()
  }
  return spec
}

/**
 * Checks one spectator's events of one transfer: exactly one `done`, `ok: true`, `bytes` = expected, ids strictly
 * increasing, every event after the first `streaming` state on one transferId, progress bytes never going back,
 * the last progress equal to the done's bytes. Returns { problems, counts, states }.
 */
export function checkSpectator(spec, expectBytes) {
  const problems = [...spec.problems]
  const ev = spec.events
  const counts = { state: 0, progress: 0, done: 0, other: 0 }
  for (const e of ev) counts[e.event in counts ? e.event : "other"]++
  for (let i = 1; i < ev.length; i++) {
    if (!(ev[i].id > ev[i - 1].id)) {
      problems.push(`ids not increasing: ${ev[i - 1].event} id ${ev[i - 1].id} then ${ev[i].event} id ${ev[i].id}`)
      break
    }
  }
  const dones = ev.filter((e) => e.event === "done")
  if (dones.length !== 1) problems.push(`${dones.length} done events, expected exactly 1`)
  const done = dones[0]
  if (done) {
    if (done.data.ok !== true) problems.push(`done ok=${done.data.ok} error=${JSON.stringify(done.data.error)}`)
    if (done.data.bytes !== expectBytes) problems.push(`done bytes ${done.data.bytes}, expected ${expectBytes}`)
    if (done.data.error !== null) problems.push(`done error ${JSON.stringify(done.data.error)}`)
    const ids = new Set(ev.filter((e) => e.data.transferId != null).map((e) => e.data.transferId))
    if (ids.size !== 1) problems.push(`events carry ${ids.size} transferIds: ${[...ids].join(", ")}`)
  }
  const progress = ev.filter((e) => e.event === "progress")
  for (let i = 1; i < progress.length; i++) {
    if (progress[i].data.bytes < progress[i - 1].data.bytes) {
      problems.push("progress bytes went backwards")
      break
    }
  }
  if (done && progress.length && progress.at(-1).data.bytes !== done.data.bytes) {
    problems.push(`last progress ${progress.at(-1).data.bytes} bytes != done ${done.data.bytes}`)
  }
  const afterDone = done ? ev.filter((e) => e.id > done.id) : []
  if (afterDone.length) {
    problems.push(`${afterDone.length} event(s) after done: ${afterDone.map((e) => e.event).join(",")}`)
  }
  const states = ev.filter((e) => e.event === "state").map((e) => e.data.state)
  return { problems, counts, states: states.join("→") }
}
