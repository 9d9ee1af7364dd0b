// The shipped deployment files (deploy/): the HAProxy configs pass `haproxy -c`, the nginx site passes
// `nginx -t`, and the Kubernetes manifests parse (JSON-compatible YAML: no YAML parser is among our packages)
// and hang together: selectors match labels, named ports exist, the HAProxy front hashes the same key.
import { spawnSync } from "node:child_process"
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { repoRoot } from "./support/artifacts.js"

const dir = mkdtempSync(join(tmpdir(), "pipe-deploy-"))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const read = (path: string) => readFileSync(join(repoRoot, path), "utf8")

const haproxyCheck = (config: string) => {
  const file = join(dir, `haproxy-${Math.random().toString(36).slice(2)}.cfg`)
  writeFileSync(file, config)
  const run = spawnSync("/usr/sbin/haproxy", ["-c", "-f", file], { encoding: "utf8" })
  return { code: run.status, output: `${run.stdout}${run.stderr}` }
}

const keyLine = "http-request set-var(txn.pipe_key) path,url_dec,regsub(^/api/v1/pipe/,/)"

type Json = { readonly [key: string]: unknown }
const isObject = (value: unknown): value is Json => typeof value === "object" && value !== null
const at = (value: unknown, ...keys: ReadonlyArray<string | number>): unknown =>
  keys.reduce<unknown>(
    (v, k) => (isObject(v) || Array.isArray(v) ? (v as Record<string | number, unknown>)[k] : undefined),
    value
  )

describe("deploy/", () => {
  it("haproxy/pipe.cfg passes haproxy -c and hashes the normalised name consistently", () => {
    const config = read("deploy/haproxy/pipe.cfg")
    const check = haproxyCheck(config)
    expect(check.code, check.output).toBe(0)
    expect(check.output).not.toMatch(/WARNING|ALERT/)
    for (
      const line of [
        keyLine,
        "balance hash var(txn.pipe_key)",
        "hash-type consistent",
        "option httpchk GET /healthz",
        "option abortonclose"
      ]
    ) {
      expect(config).toContain(line)
    }
    expect(config).not.toMatch(/del-header Expect/i)
  })

  it("nginx/pipe.conf passes nginx -t inside an http block", () => {
    const prefix = mkdtempSync(join(dir, "nginx-"))
    const file = join(prefix, "nginx.conf")
    writeFileSync(
      file,
      `pid ${prefix}/pid; error_log ${prefix}/error.log; events {}\nhttp { access_log off; client_body_temp_path ${prefix}/b; proxy_temp_path ${prefix}/p; fastcgi_temp_path ${prefix}/f; uwsgi_temp_path ${prefix}/u; scgi_temp_path ${prefix}/s;\n${
        read("deploy/nginx/pipe.conf")
      }\n}\n`
    )
    const run = spawnSync("/usr/sbin/nginx", ["-t", "-p", prefix, "-c", file], { encoding: "utf8" })
    expect(run.status, run.stderr).toBe(0)
    const site = read("deploy/nginx/pipe.conf")
    for (
      const line of [
        "hash $pipe_key consistent;",
        "proxy_request_buffering off;",
        "proxy_buffering off;",
        "proxy_http_version 1.1;",
        "proxy_next_upstream off;"
      ]
    ) {
      expect(site).toContain(line)
    }
  })

  it("kubernetes/: manifests parse and hang together; the HAProxy ConfigMap passes haproxy -c", () => {
    const folder = join(repoRoot, "deploy/kubernetes")
    const objects = readdirSync(folder).filter((f) => f.endsWith(".yaml")).sort().map((file) => {
      const text = readFileSync(join(folder, file), "utf8")
      // YAML comment lines, then a JSON document (JSON is YAML 1.2).
      const body = text.split("\n").filter((line) => !line.startsWith("#")).join("\n")
      const parsed: unknown = JSON.parse(body)
      if (!isObject(parsed)) throw new Error(`${file}: not an object`)
      expect(typeof parsed["apiVersion"], file).toBe("string")
      expect(typeof at(parsed, "metadata", "name"), file).toBe("string")
      return parsed
    })
    const find = (kind: string, name: string) => {
      const found = objects.find((o) => o["kind"] === kind && at(o, "metadata", "name") === name)
      if (found === undefined) throw new Error(`no ${kind} ${name}`)
      return found
    }
    const namespace = at(find("Namespace", "pipe"), "metadata", "name")
    for (const o of objects.filter((o) => o["kind"] !== "Namespace")) {
      expect(at(o, "metadata", "namespace")).toBe(namespace)
    }

    for (const [deployment, service] of [["pipe", "pipe-nodes"], ["pipe-haproxy", "pipe"]] as const) {
      const d = find("Deployment", deployment)
      const labels = at(d, "spec", "template", "metadata", "labels")
      expect(at(d, "spec", "selector", "matchLabels")).toEqual(labels)
      expect(at(find("Service", service), "spec", "selector")).toEqual(labels)
      const portNames = (at(d, "spec", "template", "spec", "containers", 0, "ports") as ReadonlyArray<Json>).map((p) =>
        p["name"]
      )
      for (const port of at(find("Service", service), "spec", "ports") as ReadonlyArray<Json>) {
        expect(portNames).toContain(port["targetPort"])
      }
    }
    expect(at(find("Service", "pipe-nodes"), "spec", "clusterIP"), "headless").toBe("None")
    const node = at(find("Deployment", "pipe"), "spec", "template", "spec", "containers", 0)
    expect(at(node, "args")).toEqual(expect.arrayContaining(["--admin-port", "9090"]))
    expect(at(node, "readinessProbe", "httpGet")).toEqual({ path: "/healthz", port: "admin" })

    const config = at(find("ConfigMap", "pipe-haproxy"), "data", "haproxy.cfg")
    if (typeof config !== "string") throw new Error("no haproxy.cfg in the ConfigMap")
    expect(config).toContain(keyLine)
    expect(config).toContain("hash-type consistent")
    expect(config).toContain("pipe-nodes.pipe.svc.cluster.local:8080")
    const check = haproxyCheck(config)
    expect(check.code, check.output).toBe(0)
  })
})
