// The dashboard's screenshots in docs/, taken from the real thing: a server started from dist/ (run
// `npm run build` first), a paced transfer over HTTP, and Debian's Chromium driven by playwright-core.
// Not part of `npm test`: run `node scripts/screenshots.mjs` when the page's look changes.
//
//   docs/dashboard.png, docs/dashboard-phone.png     a transfer streaming, at 1280 and 360 px
//   docs/dashboard-sunrise-1280.png, -360.png        the idle path after the end: "Last transfer: …"
import { spawn } from "node:child_process"
import { request } from "node:http"
import { createInterface } from "node:readline"
import { fileURLToPath } from "node:url"
import { chromium } from "playwright-core"

const root = fileURLToPath(new URL("../", import.meta.url))
const docs = (name) => fileURLToPath(new URL(`../docs/${name}`, import.meta.url))
const path = "/api/v1/pipe/migration"
const chunk = 1_000_000
const chunks = 60

const server = spawn(process.execPath, [
  "dist/main.js",
  "server",
  "--host",
  "127.0.0.1",
  "--port",
  "0",
  "--retention",
  "2s"
], {
  cwd: root,
  stdio: ["ignore", "pipe", "inherit"]
})
const base = await new Promise((resolve, reject) => {
  const lines = createInterface({ input: server.stdout })
  lines.once("line", (line) => {
    const match = /listening on (http:\/\/\S+)/.exec(line)
    if (match === null) reject(new Error(`unexpected first line: ${line}`))
    else resolve(match[1])
    lines.on("line", () => undefined) // keep draining stdout
  })
  server.once("exit", (code) => reject(new Error(`server exited with ${code}`)))
})

const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
})
try {
  const phone = await browser.newContext({
    viewport: { width: 360, height: 740 },
    deviceScaleFactor: 2,
    isMobile: true,
    hasTouch: true
  })
  const desktop = await browser.newContext({ viewport: { width: 1280, height: 800 } })
  const pages = { 360: await phone.newPage(), 1280: await desktop.newPage() }
  const dashboard = `${base}${path}?progress`
  for (const page of Object.values(pages)) {
    await page.goto(dashboard)
    await page.waitForSelector("#conn[data-conn=live]", { timeout: 10_000 })
  }

  // A receiver that drains, and a sender announcing its total and sending 10 MB/s: slow enough to catch.
  const received = new Promise((resolve, reject) => {
    request(`${base}${path}`, (res) => res.resume().on("end", resolve).on("error", reject)).on("error", reject).end()
  })
  const sender = request(`${base}${path}?total=${chunk * chunks}`, { method: "PUT" }, (res) => res.resume())
  const sent = new Promise((resolve, reject) => sender.on("close", resolve).on("error", reject))
  let written = 0
  const timer = setInterval(() => {
    sender.write(Buffer.alloc(chunk, written % 251))
    if (++written === chunks) {
      clearInterval(timer)
      sender.end()
    }
  }, 100)

  for (const page of Object.values(pages)) {
    await page.waitForFunction(
      () => Number(document.getElementById("bar")?.getAttribute("aria-valuenow")) >= 55,
      null,
      {
        timeout: 20_000
      }
    )
  }
  await pages[360].screenshot({ path: docs("dashboard-phone.png"), fullPage: true })
  await pages[1280].screenshot({ path: docs("dashboard.png") })
  await Promise.all([received, sent])

  // The retention ends: the path is idle and says how its last transfer went. Once the server keeps a
  // history (protocol §9) a page opened now has it in its first paint; until then the open pages show it.
  for (const page of Object.values(pages)) {
    await page.waitForFunction(() => document.getElementById("state")?.textContent === "Idle", null, {
      timeout: 20_000
    })
  }
  const snapshot = await (await fetch(dashboard, { headers: { accept: "application/json" } })).json()
  if (snapshot.last !== null) {
    for (const page of Object.values(pages)) {
      await page.reload()
      await page.waitForSelector("#conn[data-conn=live]", { timeout: 10_000 })
    }
  }
  console.log(snapshot.last === null ? "sunrise: the pages that watched the end" : "sunrise: reopened pages (history)")
  await pages[1280].click("#qr-toggle")
  await pages[1280].waitForSelector("#qr svg")
  await pages[360].screenshot({ path: docs("dashboard-sunrise-360.png"), fullPage: true })
  await pages[1280].screenshot({ path: docs("dashboard-sunrise-1280.png"), fullPage: true })
} finally {
  await browser.close()
  server.kill("SIGTERM")
}
