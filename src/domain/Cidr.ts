/**
 * Address ranges (`10.0.0.0/8`, `fd00::/8`, `127.0.0.1`) and the test of an address against them, for
 * `--trust-proxy` (protocol §11). Every address is read as 16 bytes, an IPv4 one as its IPv4-mapped IPv6 form
 * (`::ffff:a.b.c.d`), so `127.0.0.1/32` also covers the `::ffff:127.0.0.1` a dual-stack socket reports.
 */

/** One range: the network's 16 bytes and how many leading bits must match. */
export interface Cidr {
  readonly bytes: Uint8Array
  readonly bits: number
  /** As the user wrote it, for messages. */
  readonly text: string
}

const ipv4Pattern = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/

const parseIpv4 = (text: string): Array<number> | undefined => {
  const match = ipv4Pattern.exec(text)
  if (match === null) return undefined
  const parts = match.slice(1).map(Number)
  return parts.every((p) => p <= 255) ? parts : undefined
}

const hexGroup = /^[0-9A-Fa-f]{1,4}$/

/** The 8 groups of an IPv6 address (with `::` and an IPv4 tail), or undefined. */
const parseIpv6 = (text: string): Array<number> | undefined => {
  const halves = text.split("::")
  if (halves.length > 2) return undefined
  const groupsOf = (part: string): Array<number> | undefined => {
    if (part === "") return []
    const out: Array<number> = []
    const pieces = part.split(":")
    for (let i = 0; i < pieces.length; i++) {
      const piece = pieces[i] ?? ""
      if (i === pieces.length - 1 && piece.includes(".")) {
        const v4 = parseIpv4(piece)
        if (v4 === undefined) return undefined
        out.push(((v4[0] ?? 0) << 8) | (v4[1] ?? 0), ((v4[2] ?? 0) << 8) | (v4[3] ?? 0))
      } else if (hexGroup.test(piece)) out.push(parseInt(piece, 16))
      else return undefined
    }
    return out
  }
  const head = groupsOf(halves[0] ?? "")
  const tail = halves.length === 2 ? groupsOf(halves[1] ?? "") : []
  if (head === undefined || tail === undefined) return undefined
  if (halves.length === 1) return head.length === 8 ? head : undefined
  const missing = 8 - head.length - tail.length
  return missing >= 1 ? [...head, ...Array<number>(missing).fill(0), ...tail] : undefined
}

/**
 * An address as 16 bytes; IPv4 as IPv4-mapped IPv6. Accepts `[v6]` brackets and drops a zone (`fe80::1%eth0`).
 * `undefined` for anything that is not an address (a hostname, `unknown`, garbage in a header).
 */
export const parseAddress = (raw: string): Uint8Array | undefined => {
  let text = raw.trim()
  if (text.startsWith("[") && text.endsWith("]")) text = text.slice(1, -1)
  const zone = text.indexOf("%")
  if (zone !== -1) text = text.slice(0, zone)
  if (text.length === 0 || text.length > 45) return undefined
  const bytes = new Uint8Array(16)
  const v4 = parseIpv4(text)
  if (v4 !== undefined) {
    bytes[10] = 0xff
    bytes[11] = 0xff
    bytes.set(v4, 12)
    return bytes
  }
  const groups = parseIpv6(text)
  if (groups === undefined) return undefined
  groups.forEach((group, i) => {
    bytes[i * 2] = group >> 8
    bytes[i * 2 + 1] = group & 0xff
  })
  return bytes
}

/** The canonical text of an address: dotted IPv4 for an IPv4 or IPv4-mapped one, else lower-case IPv6. */
export const formatAddress = (bytes: Uint8Array): string => {
  const mapped = bytes.subarray(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff
  if (mapped) return Array.from(bytes.subarray(12)).join(".")
  const groups: Array<string> = []
  for (let i = 0; i < 16; i += 2) groups.push((((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0)).toString(16))
  // The longest run of zero groups (two or more) becomes `::` (RFC 5952).
  let best = { at: -1, length: 0 }
  for (let i = 0; i < 8;) {
    if (groups[i] !== "0") {
      i++
      continue
    }
    let j = i
    while (j < 8 && groups[j] === "0") j++
    if (j - i > best.length) best = { at: i, length: j - i }
    i = j
  }
  if (best.length < 2) return groups.join(":")
  return `${groups.slice(0, best.at).join(":")}::${groups.slice(best.at + best.length).join(":")}`
}

/** `a.b.c.d/n` (n 0–32), `v6/n` (n 0–128), or a bare address (its own /32 or /128). */
export const parseCidr = (raw: string): Cidr | undefined => {
  const text = raw.trim()
  const slash = text.indexOf("/")
  const addressText = slash === -1 ? text : text.slice(0, slash)
  const bytes = parseAddress(addressText)
  if (bytes === undefined) return undefined
  const isV4 = parseIpv4(addressText) !== undefined
  const width = isV4 ? 32 : 128
  let bits = width
  if (slash !== -1) {
    const suffix = text.slice(slash + 1)
    if (!/^\d{1,3}$/.test(suffix) || Number(suffix) > width) return undefined
    bits = Number(suffix)
  }
  return { bytes, bits: isV4 ? 96 + bits : bits, text }
}

/** `a,b,c` of CIDRs; the first one that is not a CIDR is named, so the user can fix it. */
export const parseCidrList = (
  raw: string
): { readonly _tag: "Ok"; readonly list: ReadonlyArray<Cidr> } | { readonly _tag: "Bad"; readonly item: string } => {
  const list: Array<Cidr> = []
  for (const item of raw.split(",")) {
    if (item.trim() === "") continue
    const cidr = parseCidr(item)
    if (cidr === undefined) return { _tag: "Bad", item: item.trim() }
    list.push(cidr)
  }
  return { _tag: "Ok", list }
}

export const inCidr = (cidr: Cidr, address: Uint8Array): boolean => {
  const whole = cidr.bits >> 3
  for (let i = 0; i < whole; i++) if (cidr.bytes[i] !== address[i]) return false
  const rest = cidr.bits & 7
  if (rest === 0) return true
  const mask = (0xff << (8 - rest)) & 0xff
  return ((cidr.bytes[whole] ?? 0) & mask) === ((address[whole] ?? 0) & mask)
}

export const inAnyCidr = (list: ReadonlyArray<Cidr>, address: Uint8Array): boolean =>
  list.some((cidr) => inCidr(cidr, address))
