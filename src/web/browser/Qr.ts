/**
 * A small QR Code encoder (ISO/IEC 18004, model 2) for the dashboard's "scan this page" code: byte mode,
 * error correction L or M, versions 1–10 (up to 213 bytes at M, 271 at L: a dashboard URL of a name up to ~200
 * bytes; a longer one throws a RangeError, and the page says the address is too long for a code).
 * Written after Project Nayuki's MIT-licensed generator, cut down to what one URL needs, so the page draws
 * its own code without a dependency and without asking any server for an image. No DOM here: the page turns
 * the matrix into an inline SVG path (`svgPath`), and the unit tests compare it with a reference encoder.
 */

export type Ecc = "L" | "M"

export interface QrCode {
  readonly version: number
  /** Modules per side: 17 + 4 × version. */
  readonly size: number
  readonly ecc: Ecc
  /** The mask pattern 0–7 the penalty rules chose (or the caller forced). */
  readonly mask: number
  /** `modules[y][x]`: true is dark. */
  readonly modules: ReadonlyArray<ReadonlyArray<boolean>>
}

export const maxVersion = 10

// Per version 1–10 (index 0 unused): error correction codewords per block and the number of blocks.
const eccPerBlock: Readonly<Record<Ecc, ReadonlyArray<number>>> = {
  L: [0, 7, 10, 15, 20, 26, 18, 20, 24, 30, 18],
  M: [0, 10, 16, 26, 18, 24, 16, 18, 22, 22, 26]
}
const blockCount: Readonly<Record<Ecc, ReadonlyArray<number>>> = {
  L: [0, 1, 1, 1, 1, 1, 2, 2, 2, 2, 4],
  M: [0, 1, 1, 1, 2, 2, 4, 4, 4, 5, 5]
}
/** The two bits the format information gives each level (L is 01, M is 00: not in alphabetical order). */
const eccFormatBits: Readonly<Record<Ecc, number>> = { L: 1, M: 0 }

const at = (values: ReadonlyArray<number>, index: number): number => values[index] ?? 0
const bit = (value: number, index: number): boolean => ((value >>> index) & 1) !== 0

/** Data modules of a version, function patterns excluded (remainder bits included). */
const rawDataModules = (version: number): number => {
  let result = (16 * version + 128) * version + 64
  if (version >= 2) {
    const align = Math.floor(version / 7) + 2
    result -= (25 * align - 10) * align - 55
    if (version >= 7) result -= 36
  }
  return result
}

const dataCodewords = (version: number, ecc: Ecc): number =>
  Math.floor(rawDataModules(version) / 8) - at(eccPerBlock[ecc], version) * at(blockCount[ecc], version)

// ---- Reed–Solomon over GF(2^8) with the QR polynomial x^8 + x^4 + x^3 + x^2 + 1 ----------------------------

const gfMultiply = (x: number, y: number): number => {
  let z = 0
  for (let i = 7; i >= 0; i--) {
    z = (z << 1) ^ ((z >>> 7) * 0x11d)
    z ^= ((y >>> i) & 1) * x
  }
  return z
}

const rsDivisor = (degree: number): Array<number> => {
  const result = new Array<number>(degree).fill(0)
  result[degree - 1] = 1
  let root = 1
  for (let i = 0; i < degree; i++) {
    for (let j = 0; j < degree; j++) {
      result[j] = gfMultiply(at(result, j), root) ^ (j + 1 < degree ? at(result, j + 1) : 0)
    }
    root = gfMultiply(root, 0x02)
  }
  return result
}

const rsRemainder = (data: ReadonlyArray<number>, divisor: ReadonlyArray<number>): Array<number> => {
  const result = new Array<number>(divisor.length).fill(0)
  for (const byte of data) {
    const factor = byte ^ (result.shift() ?? 0)
    result.push(0)
    divisor.forEach((coefficient, i) => {
      result[i] = at(result, i) ^ gfMultiply(coefficient, factor)
    })
  }
  return result
}

/** The data codewords split into blocks, each with its error correction, interleaved as the symbol holds them. */
const withErrorCorrection = (data: ReadonlyArray<number>, version: number, ecc: Ecc): Array<number> => {
  const blocks = at(blockCount[ecc], version)
  const eccLength = at(eccPerBlock[ecc], version)
  const raw = Math.floor(rawDataModules(version) / 8)
  const shortBlocks = blocks - (raw % blocks)
  const shortLength = Math.floor(raw / blocks)
  const divisor = rsDivisor(eccLength)
  const split: Array<{ readonly data: Array<number>; readonly ecc: Array<number> }> = []
  for (let i = 0, k = 0; i < blocks; i++) {
    const part = data.slice(k, k + shortLength - eccLength + (i < shortBlocks ? 0 : 1))
    k += part.length
    split.push({ data: part, ecc: rsRemainder(part, divisor) })
  }
  const result: Array<number> = []
  // Data codewords column by column (the long blocks have one more), then the error correction likewise.
  for (let i = 0; i <= shortLength - eccLength; i++) {
    for (const block of split) if (i < block.data.length) result.push(at(block.data, i))
  }
  for (let i = 0; i < eccLength; i++) for (const block of split) result.push(at(block.ecc, i))
  return result
}

// ---- the matrix ----------------------------------------------------------------------------------------------

const alignmentPositions = (version: number, size: number): Array<number> => {
  if (version === 1) return []
  const count = Math.floor(version / 7) + 2
  const step = Math.ceil((size - 13) / (count * 2 - 2)) * 2
  const result = [6]
  for (let i = 0, pos = size - 7; i < count - 1; i++, pos -= step) result.splice(1, 0, pos)
  return result
}

const masks: ReadonlyArray<(x: number, y: number) => boolean> = [
  (x, y) => (x + y) % 2 === 0,
  (_, y) => y % 2 === 0,
  (x) => x % 3 === 0,
  (x, y) => (x + y) % 3 === 0,
  (x, y) => (Math.floor(x / 3) + Math.floor(y / 2)) % 2 === 0,
  (x, y) => ((x * y) % 2) + ((x * y) % 3) === 0,
  (x, y) => (((x * y) % 2) + ((x * y) % 3)) % 2 === 0,
  (x, y) => (((x + y) % 2) + ((x * y) % 3)) % 2 === 0
]

/** Builds the symbol of `codewords` with `mask`: function patterns, the zigzag of data, format and version. */
const draw = (version: number, ecc: Ecc, codewords: ReadonlyArray<number>, mask: number): Array<Array<boolean>> => {
  const size = version * 4 + 17
  const dark = Array.from({ length: size }, () => new Array<boolean>(size).fill(false))
  const fixed = Array.from({ length: size }, () => new Array<boolean>(size).fill(false))
  const set = (x: number, y: number, value: boolean) => {
    const row = dark[y]
    const fixedRow = fixed[y]
    if (row === undefined || fixedRow === undefined || x < 0 || x >= size) return
    row[x] = value
    fixedRow[x] = true
  }
  for (let i = 0; i < size; i++) {
    set(6, i, i % 2 === 0)
    set(i, 6, i % 2 === 0)
  }
  // Finder patterns with their light separators (those off the edge are simply dropped by `set`).
  for (const [cx, cy] of [[3, 3], [size - 4, 3], [3, size - 4]] as const) {
    for (let dy = -4; dy <= 4; dy++) {
      for (let dx = -4; dx <= 4; dx++) {
        const distance = Math.max(Math.abs(dx), Math.abs(dy))
        set(cx + dx, cy + dy, distance !== 2 && distance !== 4)
      }
    }
  }
  const aligns = alignmentPositions(version, size)
  aligns.forEach((ay, i) =>
    aligns.forEach((ax, j) => {
      // Not where a finder pattern sits (three corners).
      if ((i === 0 && j === 0) || (i === 0 && j === aligns.length - 1) || (i === aligns.length - 1 && j === 0)) return
      for (let dy = -2; dy <= 2; dy++) {
        for (let dx = -2; dx <= 2; dx++) set(ax + dx, ay + dy, Math.max(Math.abs(dx), Math.abs(dy)) !== 1)
      }
    })
  )
  // Format information (level and mask, BCH(15,5), XOR 0x5412), two copies; then the always-dark module.
  const formatData = (eccFormatBits[ecc] << 3) | mask
  let rem = formatData
  for (let i = 0; i < 10; i++) rem = (rem << 1) ^ ((rem >>> 9) * 0x537)
  const format = ((formatData << 10) | rem) ^ 0x5412
  for (let i = 0; i <= 5; i++) set(8, i, bit(format, i))
  set(8, 7, bit(format, 6))
  set(8, 8, bit(format, 7))
  set(7, 8, bit(format, 8))
  for (let i = 9; i < 15; i++) set(14 - i, 8, bit(format, i))
  for (let i = 0; i < 8; i++) set(size - 1 - i, 8, bit(format, i))
  for (let i = 8; i < 15; i++) set(8, size - 15 + i, bit(format, i))
  set(8, size - 8, true)
  // Version information (BCH(18,6)) from version 7 on, two copies.
  if (version >= 7) {
    let vrem = version
    for (let i = 0; i < 12; i++) vrem = (vrem << 1) ^ ((vrem >>> 11) * 0x1f25)
    const bits = (version << 12) | vrem
    for (let i = 0; i < 18; i++) {
      const a = size - 11 + (i % 3)
      const b = Math.floor(i / 3)
      set(a, b, bit(bits, i))
      set(b, a, bit(bits, i))
    }
  }
  // The data in two-module columns from the right, up then down, skipping the vertical timing column.
  const maskAt = masks[mask] ?? (() => false)
  let index = 0
  for (let right = size - 1; right >= 1; right -= 2) {
    if (right === 6) right = 5
    for (let vert = 0; vert < size; vert++) {
      for (let j = 0; j < 2; j++) {
        const x = right - j
        const y = ((right + 1) & 2) === 0 ? size - 1 - vert : vert
        const row = dark[y]
        if (row === undefined || fixed[y]?.[x] === true) continue
        // Remainder bits past the last codeword stay light (then masked, like every data module).
        const value = index < codewords.length * 8 && bit(at(codewords, index >>> 3), 7 - (index & 7))
        index++
        row[x] = value !== maskAt(x, y)
      }
    }
  }
  return dark
}

/** The standard's four penalty rules: runs, 2×2 blocks, finder look-alikes, dark/light balance. */
const penalty = (m: ReadonlyArray<ReadonlyArray<boolean>>): number => {
  const size = m.length
  const get = (x: number, y: number): boolean => m[y]?.[x] === true
  let score = 0
  for (const transpose of [false, true]) {
    for (let a = 0; a < size; a++) {
      let run = 0
      let previous = false
      let window = 0
      for (let b = 0; b < size; b++) {
        const value = transpose ? get(a, b) : get(b, a)
        if (b === 0 || value !== previous) {
          previous = value
          run = 1
        } else if (++run === 5) score += 3
        else if (run > 5) score += 1
        window = ((window << 1) & 0x7ff) | (value ? 1 : 0)
        if (b >= 10 && (window === 0x05d || window === 0x5d0)) score += 40
      }
    }
  }
  let darkCount = 0
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      if (get(x, y)) darkCount++
      if (
        x < size - 1 && y < size - 1 && get(x, y) === get(x + 1, y) && get(x, y) === get(x, y + 1) &&
        get(x, y) === get(x + 1, y + 1)
      ) score += 3
    }
  }
  const total = size * size
  return score + (Math.ceil(Math.abs(darkCount * 20 - total * 10) / total) - 1) * 10
}

/**
 * The QR code of `text` (UTF-8, byte mode) in the smallest version that holds it at level `ecc`; the mask
 * is the one with the lowest penalty unless `mask` forces one. A RangeError when it does not fit version 10.
 */
export const encodeQr = (text: string, options: { readonly ecc?: Ecc; readonly mask?: number } = {}): QrCode => {
  const ecc = options.ecc ?? "M"
  const bytes = new TextEncoder().encode(text)
  let version = 1
  const headerBits = (v: number) => 4 + (v < 10 ? 8 : 16)
  while (headerBits(version) + bytes.length * 8 > dataCodewords(version, ecc) * 8) {
    if (++version > maxVersion) throw new RangeError(`${bytes.length} bytes do not fit a version ${maxVersion} QR code`)
  }
  const capacity = dataCodewords(version, ecc) * 8
  const bits: Array<boolean> = []
  const append = (value: number, length: number) => {
    for (let i = length - 1; i >= 0; i--) bits.push(bit(value, i))
  }
  append(0b0100, 4)
  append(bytes.length, headerBits(version) - 4)
  for (const byte of bytes) append(byte, 8)
  append(0, Math.min(4, capacity - bits.length))
  append(0, (8 - (bits.length % 8)) % 8)
  for (let pad = 0xec; bits.length < capacity; pad ^= 0xec ^ 0x11) append(pad, 8)
  const data: Array<number> = []
  for (let i = 0; i < bits.length; i += 8) {
    data.push(bits.slice(i, i + 8).reduce((byte, b) => (byte << 1) | (b ? 1 : 0), 0))
  }
  const codewords = withErrorCorrection(data, version, ecc)
  const candidates = options.mask === undefined ? [0, 1, 2, 3, 4, 5, 6, 7] : [options.mask]
  let best: { readonly mask: number; readonly modules: Array<Array<boolean>>; readonly score: number } | undefined
  for (const mask of candidates) {
    const modules = draw(version, ecc, codewords, mask)
    const score = penalty(modules)
    if (best === undefined || score < best.score) best = { mask, modules, score }
  }
  if (best === undefined) throw new RangeError("no mask")
  return { version, size: version * 4 + 17, ecc, mask: best.mask, modules: best.modules }
}

/** The dark modules as one SVG path (`M x y h1v1h-1z` each), offset by a quiet zone of `border` modules. */
export const svgPath = (qr: QrCode, border = 4): string => {
  const parts: Array<string> = []
  qr.modules.forEach((row, y) =>
    row.forEach((dark, x) => {
      if (dark) parts.push(`M${x + border} ${y + border}h1v1h-1z`)
    })
  )
  return parts.join("")
}
