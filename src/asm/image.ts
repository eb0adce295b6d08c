/**
 * The output image of one layout pass, built without a per-byte cost beyond the byte itself: literal
 * bytes go to one growing byte buffer, and reserved or repeated spans (`resb`, `times N db 0`, a
 * `times` whose body encodes the same at every address, `align` padding) are recorded as one piece
 * each. Only the last pass materialises the image (issue 15 item 12).
 */

import { MAX_OUTPUT } from "./limits.js";

/** Bytes compared byte by byte when deciding whether two spans are the same pattern. */
const MAX_COMPARE = 1 << 16;

/**
 * Pieces are four numbers each: image offset, offset in the literal buffer, pattern length and total
 * length. Pattern length 0 is a span of zeros; a literal run has pattern length = total length; anything
 * else is the pattern repeated (and cut) to the total length.
 */
export class Image {
  size = 0;
  /** Set when an append would pass MAX_OUTPUT (the append is dropped). */
  overflow = false;
  private lit = new Uint8Array(4096);
  private litLen = 0;
  private readonly pieces: number[] = [];

  /** Appends literal bytes. */
  push(bytes: ArrayLike<number>): void {
    const n = bytes.length;
    if (n === 0 || !this.room(n)) return;
    this.reserveLit(n);
    const at = this.litLen;
    if (bytes instanceof Uint8Array) this.lit.set(bytes, at);
    else for (let i = 0; i < n; i++) this.lit[at + i] = bytes[i];
    this.litLen += n;
    const p = this.pieces;
    const k = p.length - 4;
    // Extend the previous literal run when it ends where these bytes start (the common case).
    if (k >= 0 && p[k + 2] === p[k + 3] && p[k + 1] + p[k + 3] === at && p[k + 2] > 0) {
      p[k + 2] += n;
      p[k + 3] += n;
    } else p.push(this.size, at, n, n);
    this.size += n;
  }

  /** Appends `count` copies of one byte. */
  fill(byte: number, count: number): void {
    if (count <= 0 || !this.room(count)) return;
    if (byte === 0) {
      const p = this.pieces;
      const k = p.length - 4;
      if (k >= 0 && p[k + 2] === 0) p[k + 3] += count;
      else p.push(this.size, 0, 0, count);
    } else {
      this.reserveLit(1);
      this.lit[this.litLen] = byte;
      this.pieces.push(this.size, this.litLen++, 1, count);
    }
    this.size += count;
  }

  /** Appends the span [start, size) `times` more times (the caller knows it is position-independent). */
  repeatTail(start: number, times: number): void {
    const len = this.size - start;
    if (len === 0 || times <= 0) return;
    if (len * times > MAX_OUTPUT - this.size) {
      this.overflow = true;
      return;
    }
    if (this.isZero(start)) {
      this.fill(0, len * times);
      return;
    }
    const pattern = this.read(start, this.size);
    if (pattern.every((b) => b === 0)) {
      this.fill(0, len * times);
      return;
    }
    this.reserveLit(len);
    this.lit.set(pattern, this.litLen);
    this.pieces.push(this.size, this.litLen, len, len * times);
    this.litLen += len;
    this.size += len * times;
  }

  /** Whether [a, a+len) and [b, b+len) hold the same bytes (false when too long to compare cheaply). */
  same(a: number, b: number, len: number): boolean {
    if (len === 0) return true;
    if (this.isZero(a, a + len) && this.isZero(b, b + len)) return true;
    if (len > MAX_COMPARE) return false;
    const x = this.read(a, a + len);
    const y = this.read(b, b + len);
    for (let i = 0; i < len; i++) if (x[i] !== y[i]) return false;
    return true;
  }

  /** The bytes of [from, to) (callers keep spans small or use materialise()). */
  read(from: number, to: number): Uint8Array {
    const out = new Uint8Array(to - from);
    this.writeInto(out, from, to);
    return out;
  }

  /** The whole image (once, after the last pass). */
  materialise(): Uint8Array {
    const out = new Uint8Array(this.size);
    this.writeInto(out, 0, this.size);
    return out;
  }

  private writeInto(out: Uint8Array, from: number, to: number): void {
    const p = this.pieces;
    for (let k = this.firstPiece(from); k < p.length; k += 4) {
      const start = p[k];
      if (start >= to) break;
      const pat = p[k + 2];
      if (pat === 0) continue; // zeros: `out` starts zeroed
      const lo = Math.max(start, from);
      const hi = Math.min(start + p[k + 3], to);
      const src = p[k + 1];
      if (pat === p[k + 3]) {
        out.set(this.lit.subarray(src + lo - start, src + hi - start), lo - from);
        continue;
      }
      if (pat === 1) {
        out.fill(this.lit[src], lo - from, hi - from);
        continue;
      }
      // A repeated pattern: write one period's worth from the right phase, then double by copying.
      let i = lo;
      const first = Math.min(hi, lo + pat);
      for (; i < first; i++) out[i - from] = this.lit[src + ((i - start) % pat)];
      let done = first - lo;
      while (lo + done < hi) {
        const n = Math.min(done, hi - lo - done);
        out.copyWithin(lo - from + done, lo - from, lo - from + n);
        done += n;
      }
    }
  }

  /** Whether [from, to) lies in zero spans only. */
  private isZero(from: number, to = this.size): boolean {
    const p = this.pieces;
    for (let k = this.firstPiece(from); k < p.length && p[k] < to; k += 4) if (p[k + 2] !== 0) return false;
    return true;
  }

  /** Index of the piece holding image offset `at` (binary search; pieces are in image order). */
  private firstPiece(at: number): number {
    const p = this.pieces;
    let lo = 0;
    let hi = p.length / 4 - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (p[mid * 4] <= at) lo = mid;
      else hi = mid - 1;
    }
    return lo * 4;
  }

  private room(n: number): boolean {
    if (n <= MAX_OUTPUT - this.size) return true;
    this.overflow = true;
    return false;
  }

  private reserveLit(n: number): void {
    if (this.litLen + n <= this.lit.length) return;
    let cap = this.lit.length;
    while (cap < this.litLen + n) cap *= 2;
    const next = new Uint8Array(Math.min(cap, MAX_OUTPUT));
    next.set(this.lit.subarray(0, this.litLen));
    this.lit = next;
  }
}
