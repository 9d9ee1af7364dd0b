import { assert, describe, it } from "@effect/vitest"
import { Option } from "effect"
import { randomBytes } from "node:crypto"
import { allows, nameOfPath, parseRoles } from "../../src/domain/AccessGrant.js"
import { isWatchOnly, mintToken, peekToken, secretOf, verifyToken } from "../../src/domain/CapabilityToken.js"
import { formatAddress, inAnyCidr, parseAddress, parseCidr, parseCidrList } from "../../src/domain/Cidr.js"
import { clientAddressOf, trustsPeer } from "../../src/domain/ForwardedChain.js"
import { parseTokensFile, tokenDigest } from "../../src/domain/TokensFile.js"
import { withoutToken } from "../../src/http/RedactedUrl.js"
import { Random } from "../support/hardening-random.js"

/** Access control's pure parts (issue 16): the CIDR matcher, the X-Forwarded-For walk, tokens file, signed tokens. */

const cidrs = (text: string) => {
  const parsed = parseCidrList(text)
  if (parsed._tag === "Bad") throw new Error(`not a list: ${parsed.item}`)
  return parsed.list
}

const within = (list: string, address: string): boolean => {
  const bytes = parseAddress(address)
  if (bytes === undefined) throw new Error(`not an address: ${address}`)
  return inAnyCidr(cidrs(list), bytes)
}

describe("CIDR matcher", () => {
  it("IPv4 ranges, bare addresses and the edges of a prefix", () => {
    assert.isTrue(within("10.0.0.0/8", "10.255.1.2"))
    assert.isFalse(within("10.0.0.0/8", "11.0.0.1"))
    assert.isTrue(within("192.168.1.128/25", "192.168.1.255"))
    assert.isFalse(within("192.168.1.128/25", "192.168.1.127"))
    assert.isTrue(within("127.0.0.1", "127.0.0.1"))
    assert.isFalse(within("127.0.0.1", "127.0.0.2"))
    assert.isTrue(within("0.0.0.0/0", "8.8.8.8"))
    assert.isTrue(within("172.16.0.0/12", "172.31.255.255"))
    assert.isFalse(within("172.16.0.0/12", "172.32.0.0"))
  })

  it("IPv6 ranges, :: forms, brackets and zones", () => {
    assert.isTrue(within("fd00::/8", "fd12:3456::1"))
    assert.isFalse(within("fd00::/8", "fe80::1"))
    assert.isTrue(within("::1", "[::1]"))
    assert.isTrue(within("fe80::/10", "fe80::1%eth0"))
    assert.isTrue(within("2001:db8::/32", "2001:0db8:0000:0000:0000:0000:0000:0001"))
    assert.isFalse(within("2001:db8::/33", "2001:db8:8000::1"))
  })

  it("IPv4-mapped IPv6 is the IPv4 address, both ways", () => {
    assert.isTrue(within("127.0.0.1/32", "::ffff:127.0.0.1"))
    assert.isTrue(within("::ffff:10.0.0.0/104", "10.1.2.3"))
    assert.isFalse(within("::/0", "10.0.0.1") === false)
    assert.strictEqual(formatAddress(parseAddress("::ffff:7f00:1") ?? new Uint8Array()), "127.0.0.1")
    assert.strictEqual(formatAddress(parseAddress("2001:DB8:0:0:1:0:0:1") ?? new Uint8Array()), "2001:db8::1:0:0:1")
  })

  it("refuses what is not a range", () => {
    for (
      const bad of ["", "10.0.0.0/33", "::/129", "256.0.0.1", "1.2.3", "a::b::c", "10.0.0.0/-1", "host", "1.2.3.4/08x"]
    ) {
      assert.isUndefined(parseCidr(bad), bad)
    }
    assert.deepStrictEqual(parseCidrList("10.0.0.0/8, bogus"), { _tag: "Bad", item: "bogus" })
  })
})

describe("X-Forwarded-For walk", () => {
  const trusted = cidrs("127.0.0.1/32,10.0.0.0/8")

  it("an untrusted peer is the client, whatever it writes", () => {
    assert.strictEqual(clientAddressOf("203.0.113.5", ["1.2.3.4"], trusted), "203.0.113.5")
    assert.strictEqual(clientAddressOf("127.0.0.1", ["1.2.3.4"], []), "127.0.0.1")
    assert.isFalse(trustsPeer("203.0.113.5", trusted))
  })

  it("a trusted peer: the rightmost hop that is not ours", () => {
    assert.strictEqual(clientAddressOf("127.0.0.1", ["198.51.100.7"], trusted), "198.51.100.7")
    assert.strictEqual(clientAddressOf("127.0.0.1", ["6.6.6.6, 198.51.100.7, 10.1.1.1"], trusted), "198.51.100.7")
    assert.strictEqual(clientAddressOf("::ffff:127.0.0.1", ["198.51.100.7"], trusted), "198.51.100.7")
    assert.strictEqual(clientAddressOf("127.0.0.1", ["6.6.6.6", "198.51.100.7"], trusted), "198.51.100.7")
  })

  it("all hops ours: the leftmost; no header: the proxy; garbage: the last hop we vouch for", () => {
    assert.strictEqual(clientAddressOf("127.0.0.1", ["10.0.0.2, 10.0.0.1"], trusted), "10.0.0.2")
    assert.strictEqual(clientAddressOf("127.0.0.1", [], trusted), "127.0.0.1")
    assert.strictEqual(clientAddressOf("127.0.0.1", ["unknown, 10.0.0.3"], trusted), "10.0.0.3")
    assert.strictEqual(clientAddressOf("127.0.0.1", [" , ,"], trusted), "127.0.0.1")
  })
})

describe("tokens file", () => {
  const token = "a-long-enough-token-1"

  it("reads tokens, roles and prefixes; skips comments and blank lines", () => {
    const parsed = parseTokensFile(
      `# comment\n\n${token} send,watch /api/v1/pipe/team/\n  other-long-token-0002\treceive\r\n`
    )
    assert.strictEqual(parsed._tag, "Ok")
    if (parsed._tag !== "Ok") return
    assert.strictEqual(parsed.table.size, 2)
    const grant = parsed.table.get(tokenDigest(token))
    assert.isDefined(grant)
    if (grant === undefined) return
    assert.deepStrictEqual(grant.scope, { _tag: "Prefix", prefix: "team/" })
    assert.isTrue(allows(grant, "send", "team/a", 0))
    assert.isFalse(allows(grant, "receive", "team/a", 0))
    assert.isFalse(allows(grant, "send", "teamx", 0))
    assert.deepStrictEqual(parsed.table.get(tokenDigest("other-long-token-0002"))?.scope, { _tag: "Anywhere" })
  })

  it("names the line and the problem, never the token", () => {
    const cases: ReadonlyArray<readonly [string, string]> = [
      [`${token}\n`, "expected '<token> <roles> [<path-prefix>]'"],
      [`${token} send a b\n`, "expected '<token> <roles> [<path-prefix>]'"],
      [`${token} send,admin\n`, "unknown role \"admin\" (roles: send, receive, watch)"],
      [`${token} send,\n`, "unknown role \"\" (roles: send, receive, watch)"],
      ["short send\n", "the token is shorter than 16 characters"],
      [`${token} send\n${token} watch\n`, "the same token as line 1"],
      [`${token} send team?x\n`, "invalid path prefix"],
      [`pipe1.${token} send\n`, "'pipe1.' starts signed tokens, not those of a tokens file"]
    ]
    for (const [text, problem] of cases) {
      const parsed = parseTokensFile(text)
      assert.strictEqual(parsed._tag, "Bad", text)
      if (parsed._tag === "Bad") {
        assert.strictEqual(parsed.problem, problem)
        assert.notInclude(parsed.problem, token)
      }
    }
  })

  it("role lists and path spellings", () => {
    assert.deepStrictEqual(parseRoles("receive, watch"), { _tag: "Ok", roles: new Set(["receive", "watch"] as const) })
    assert.strictEqual(nameOfPath("/api/v1/pipe/a/b"), "a/b")
    assert.strictEqual(nameOfPath("/a"), "a")
  })
})

describe("signed capability tokens", () => {
  const secret = randomBytes(32)
  const hour = 3_600_000
  const now = Date.now()
  const token = mintToken(secret, {
    path: "migration",
    prefix: false,
    roles: ["receive", "watch"],
    expiresAt: now + hour
  })

  it("grant their roles on their path until they expire", () => {
    const grant = Option.getOrUndefined(verifyToken(secret, token))
    assert.isDefined(grant)
    if (grant === undefined) return
    assert.isTrue(allows(grant, "receive", "migration", now))
    assert.isTrue(allows(grant, "watch", "migration", now))
    assert.isFalse(allows(grant, "send", "migration", now))
    assert.isFalse(allows(grant, "receive", "migration2", now))
    assert.isFalse(allows(grant, "receive", "migration", now + 2 * hour))
  })

  it("a prefix token grants the names under it", () => {
    const prefix = mintToken(secret, { path: "team/", prefix: true, roles: ["send"], expiresAt: now + hour })
    const grant = Option.getOrUndefined(verifyToken(secret, prefix))
    assert.isTrue(grant !== undefined && allows(grant, "send", "team/a/b", now))
    assert.isFalse(grant !== undefined && allows(grant, "send", "other", now))
  })

  it("another secret, or any change, is no token", () => {
    assert.isTrue(Option.isNone(verifyToken(randomBytes(32), token)))
    const [version, payload = "", mac = ""] = token.split(".")
    const forged = Buffer.from(payload, "base64url").toString().replace("migration", "backup")
    assert.isTrue(
      Option.isNone(verifyToken(secret, [version, Buffer.from(forged).toString("base64url"), mac].join(".")))
    )
    assert.isTrue(Option.isNone(verifyToken(secret, `pipe2.${payload}.${mac}`)))
    assert.isTrue(Option.isNone(verifyToken(secret, `${token}.`)))
    assert.isTrue(Option.isNone(verifyToken(secret, `${version}.${payload}.${mac.slice(0, -2)}`)))
  })

  it("a holder can read what it says, without the secret; a link may carry it only if it is watch-only", () => {
    assert.deepStrictEqual(Option.getOrUndefined(peekToken(token))?.roles, ["receive", "watch"])
    assert.isFalse(isWatchOnly(token))
    assert.isTrue(isWatchOnly(mintToken(secret, { path: "m", prefix: false, roles: ["watch"], expiresAt: now + hour })))
    assert.isFalse(isWatchOnly("static-token-of-a-file"))
  })

  it("a secret file's final line break is not part of the key", () => {
    assert.strictEqual(Buffer.from(secretOf(Buffer.from("abc\r\n"))).toString(), "abc")
    assert.strictEqual(Buffer.from(secretOf(Buffer.from("abc"))).toString(), "abc")
  })

  it("fuzz: random and mutated tokens never verify and never throw", () => {
    const seed = process.env["ACCESS_FUZZ_SEED"] ?? `${Date.now().toString(36)}-${process.pid}`
    console.log(`access token fuzz seed: ${seed} (replay with ACCESS_FUZZ_SEED=${seed})`)
    const random = new Random(seed)
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/%{}\"\\ \u00e9\u2028"
    const randomText = (length: number) =>
      Array.from({ length }, () => alphabet[random.int(0, alphabet.length - 1)] ?? "").join("")
    for (let i = 0; i < 5_000; i++) {
      let candidate: string
      switch (random.int(0, 3)) {
        case 0:
          candidate = randomText(random.int(0, 200))
          break
        case 1: {
          // One character of a valid token changed.
          const at = random.int(0, token.length - 1)
          const replacement = alphabet[random.int(0, alphabet.length - 1)] ?? "x"
          candidate = token.slice(0, at) + replacement + token.slice(at + 1)
          break
        }
        case 2:
          // A valid token cut, or with something appended.
          candidate = random.int(0, 1) === 0
            ? token.slice(0, random.int(0, token.length - 1))
            : token + randomText(random.int(1, 8))
          break
        default: {
          // A well-formed token whose payload is random JSON-ish text, with a random MAC.
          const payload = Buffer.from(randomText(random.int(0, 80))).toString("base64url")
          candidate = `pipe1.${payload}.${randomBytes(32).toString("base64url")}`
        }
      }
      const verified = verifyToken(secret, candidate)
      if (candidate !== token) assert.isTrue(Option.isNone(verified), `seed ${seed} #${i}: ${candidate}`)
      peekToken(candidate)
    }
  })
})

describe("URLs in logs", () => {
  it("never carry a token", () => {
    assert.strictEqual(withoutToken("/a?progress&token=s3cret&n=2"), "/a?progress&token=[redacted]&n=2")
    assert.strictEqual(withoutToken("/a?%74oken=s3cret"), "/a?%74oken=[redacted]")
    assert.strictEqual(withoutToken("/a?token"), "/a?token=[redacted]")
    assert.strictEqual(withoutToken("/a?tokens=x&%zz=1"), "/a?tokens=x&%zz=1")
    assert.strictEqual(withoutToken("/a"), "/a")
  })
})
