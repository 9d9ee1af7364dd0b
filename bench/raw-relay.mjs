// Minimal raw Node relay: the throughput ceiling for the benchmark.
// Adapted from the 26-line baseline in piping-server-reference.md section 4:
// the port comes from argv (0 = any free port), `?n=K` pipes one sender to K receivers,
// and it prints `listening http://127.0.0.1:<port>` once it accepts connections.
// Usage: node bench/raw-relay.mjs [port]
import http from "node:http"

const waiting = new Map() // path -> { n, sender?, receivers: [] }

function tryStart(path, p) {
  if (!p.sender || p.receivers.length < p.n) return
  waiting.delete(path)
  const { req: sReq, res: sRes } = p.sender
  const h = {}
  if (sReq.headers["content-length"]) h["content-length"] = sReq.headers["content-length"]
  if (sReq.headers["content-type"]) h["content-type"] = sReq.headers["content-type"]
  for (const { res: rRes } of p.receivers) {
    rRes.writeHead(200, h)
    sReq.pipe(rRes) // one readable piped to K writables: the slowest receiver paces everyone
    rRes.on("close", () => {
      if (!rRes.writableFinished) sReq.destroy()
    })
  }
  sReq.on("end", () => sRes.end("[INFO] done\n"))
  sReq.on("close", () => {
    if (!sReq.complete) p.receivers.forEach(({ res }) => res.destroy())
  })
}

function reply(res, status, text) {
  res.writeHead(status, { "content-type": "text/plain" })
  res.end(text)
}

http.createServer((req, res) => {
  const url = new URL(req.url, "http://x")
  const n = Number(url.searchParams.get("n") ?? "1")
  const role = req.method === "PUT" || req.method === "POST" ? "sender" : req.method === "GET" ? "receiver" : null
  if (!role) return reply(res, 405, "")
  if (!Number.isInteger(n) || n < 1) return reply(res, 400, "[ERROR] bad n\n")
  const p = waiting.get(url.pathname) ?? { n, receivers: [] }
  if (p.n !== n) return reply(res, 400, `[ERROR] n should be ${p.n}\n`)
  if (role === "sender" ? p.sender : p.receivers.length >= n) return reply(res, 400, `[ERROR] duplicate ${role}\n`)
  if (role === "sender") {
    p.sender = { req, res }
    res.writeHead(200, { "content-type": "text/plain" })
    res.write("[INFO] waiting\n")
  } else {
    p.receivers.push({ req, res })
  }
  waiting.set(url.pathname, p)
  tryStart(url.pathname, p)
}).listen(Number(process.argv[2] ?? 0), "127.0.0.1", function() {
  console.log(`listening http://127.0.0.1:${this.address().port}`)
})
