import { describe, expect, it } from "vitest"
import { encodeQr, svgPath } from "../../src/web/browser/Qr.js"
import { qrReference } from "./fixtures/qrReference.js"

const rowsOf = (modules: ReadonlyArray<ReadonlyArray<boolean>>): Array<string> =>
  modules.map((row) => row.map((dark) => (dark ? "#" : ".")).join(""))

/** The 15 format bits as the top-left copy holds them, unmasked: [ecc bits, mask], or undefined if corrupt. */
const formatOf = (rows: ReadonlyArray<string>): { readonly ecc: number; readonly mask: number } | undefined => {
  const positions = [
    [0, 8],
    [1, 8],
    [2, 8],
    [3, 8],
    [4, 8],
    [5, 8],
    [7, 8],
    [8, 8],
    [8, 7],
    [8, 5],
    [8, 4],
    [
      8,
      3
    ],
    [8, 2],
    [8, 1],
    [8, 0]
  ] as const
  const read = positions.reduce((bits, [x, y]) => (bits << 1) | (rows[y]?.[x] === "#" ? 1 : 0), 0) ^ 0x5412
  // Valid when the 10 low bits are the BCH(15,5) remainder of the 5 high ones.
  let rem = read >>> 10
  for (let i = 0; i < 10; i++) rem = (rem << 1) ^ ((rem >>> 9) * 0x537)
  return ((read >>> 10) << 10 | rem) === read ? { ecc: read >>> 13, mask: (read >>> 10) & 7 } : undefined
}

describe("QR encoder", () => {
  for (const ref of qrReference) {
    it(`matches the reference symbol of ${JSON.stringify(ref.text.slice(0, 24))}… (${ref.ecc}, version ${ref.version})`, () => {
      const qr = encodeQr(ref.text, { ecc: ref.ecc, mask: ref.mask })
      expect(qr.version).toBe(ref.version)
      expect(qr.size).toBe(ref.rows.length)
      expect(rowsOf(qr.modules)).toEqual(ref.rows)
    })

    it(`chooses a mask itself and says which in a valid format field (${ref.ecc}, version ${ref.version})`, () => {
      const qr = encodeQr(ref.text, { ecc: ref.ecc })
      expect(qr.version).toBe(ref.version)
      const format = formatOf(rowsOf(qr.modules))
      expect(format).toEqual({ ecc: ref.ecc === "L" ? 1 : 0, mask: qr.mask })
      // the auto choice is one of the eight standard symbols, not something else
      expect(rowsOf(qr.modules)).toEqual(rowsOf(encodeQr(ref.text, { ecc: ref.ecc, mask: qr.mask }).modules))
    })
  }

  it("defaults to level M and the smallest version; refuses more than version 10 holds", () => {
    expect(encodeQr("HELLO").ecc).toBe("M")
    expect(encodeQr("a".repeat(14)).version).toBe(1)
    expect(encodeQr("a".repeat(15)).version).toBe(2)
    expect(encodeQr("a".repeat(213)).version).toBe(10)
    expect(() => encodeQr("a".repeat(214))).toThrow(RangeError)
    expect(encodeQr("a".repeat(271), { ecc: "L" }).version).toBe(10)
  })

  it("draws the dark modules as one SVG path inside a quiet zone", () => {
    const qr = encodeQr("HELLO")
    const path = svgPath(qr, 4)
    const dark = qr.modules.flat().filter(Boolean).length
    expect(path.match(/M/g)?.length).toBe(dark)
    // the top-left finder's corner module sits at (4, 4) after the 4-module border
    expect(path.startsWith("M4 4h1v1h-1z")).toBe(true)
    expect(path).toMatch(/^(M\d+ \d+h1v1h-1z)+$/)
  })
})
