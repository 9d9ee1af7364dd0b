import type { Cidr } from "./Cidr.js"
import { formatAddress, inAnyCidr, parseAddress } from "./Cidr.js"

/**
 * The client a request comes from, through the proxies we trust (protocol §11).
 *
 * `X-Forwarded-For` is a list each proxy appends its peer to, so only its right end is written by someone we
 * know: walking from the socket's peer leftwards, every hop that is one of our proxies vouches for the one
 * before it, and the first hop that is not ours is the client. Anything left of it was written by the client
 * itself and proves nothing; a peer we do not trust has all of its headers ignored.
 */
export const clientAddressOf = (
  peer: string | undefined,
  forwardedFor: ReadonlyArray<string>,
  trusted: ReadonlyArray<Cidr>
): string => {
  const peerBytes = peer === undefined ? undefined : parseAddress(peer)
  if (peerBytes === undefined) return peer ?? "unknown"
  if (trusted.length === 0 || !inAnyCidr(trusted, peerBytes)) return formatAddress(peerBytes)
  const hops = forwardedFor.flatMap((value) => value.split(",")).map((hop) => hop.trim()).filter((hop) => hop !== "")
  let nearest = peerBytes
  for (let i = hops.length - 1; i >= 0; i--) {
    const bytes = parseAddress(hops[i] ?? "")
    // A hop that is no address: our proxy passed on what its own client wrote. The last hop we could vouch
    // for is the best we know.
    if (bytes === undefined) return formatAddress(nearest)
    if (!inAnyCidr(trusted, bytes)) return formatAddress(bytes)
    nearest = bytes
  }
  return formatAddress(nearest)
}

/** Whether the socket's peer is one of our proxies, whose `X-Forwarded-Proto`/`-Host` count. */
export const trustsPeer = (peer: string | undefined, trusted: ReadonlyArray<Cidr>): boolean => {
  const bytes = peer === undefined ? undefined : parseAddress(peer)
  return bytes !== undefined && inAnyCidr(trusted, bytes)
}

/** The first value of a forwarded header a trusted proxy set (`https, http` → `https`), if any. */
export const firstForwarded = (value: string | undefined): string | undefined => {
  const first = value?.split(",")[0]?.trim()
  return first === undefined || first === "" ? undefined : first
}
