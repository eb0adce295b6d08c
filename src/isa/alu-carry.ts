/**
 * Rotates through carry and double-precision shifts (SDM Vol. 2 "RCL/RCR/ROL/ROR", "SHLD", "SHRD") on
 * unsigned 32-bit halves, no BigInt, no allocation: the result and RFLAGS into an AluOut like alu.ts.
 * The SDM's undefined cases are given values once here and listed in flags.ts:
 *   RCL/RCR    OF for a count ≠ 1 by the count-1 formula (RCL: CF xor MSB(result); RCR: MSB xor the
 *              next bit of the result), as Intel hardware and Bochs give it.
 *   SHLD/SHRD  AF := 0; OF for a count ≠ 1 by the count-1 formula (SHLD: CF xor MSB(result); SHRD: MSB
 *              xor the next bit); a 16-bit operand with a count of 17..31 (result and flags undefined)
 *              shifts the 48-bit concatenation dest:src:dest, as P6-family processors do.
 */
import { type AluOut, MASK, szp } from "./alu.js";
import { CF, OF, STATUS } from "./flags.js";

// Scratch results of the 64-bit shift helpers (module state: the hot loop allocates nothing).
let tLo = 0,
  tHi = 0;

/** (lo, hi) << n for n in 0..127 (0 from 64 on) into tLo/tHi. */
function shl64(lo: number, hi: number, n: number): void {
  if (n >= 64) {
    tLo = 0;
    tHi = 0;
  } else if (n >= 32) {
    tHi = (lo << (n - 32)) >>> 0;
    tLo = 0;
  } else if (n === 0) {
    tLo = lo;
    tHi = hi;
  } else {
    tHi = ((hi << n) | (lo >>> (32 - n))) >>> 0;
    tLo = (lo << n) >>> 0;
  }
}

/** (lo, hi) >>> n (logical) for n in 0..127 into tLo/tHi. */
function shr64(lo: number, hi: number, n: number): void {
  if (n >= 64) {
    tLo = 0;
    tHi = 0;
  } else if (n >= 32) {
    tLo = hi >>> (n - 32);
    tHi = 0;
  } else if (n === 0) {
    tLo = lo;
    tHi = hi;
  } else {
    tLo = ((lo >>> n) | (hi << (32 - n))) >>> 0;
    tHi = hi >>> n;
  }
}

const bitAt = (lo: number, hi: number, n: number): number => (n < 32 ? (lo >>> n) & 1 : (hi >>> (n - 32)) & 1);

/** Truncate the result to `size` bytes into o.lo/o.hi; returns OF (as the bit) by the count-1 formula:
 *  left: CF xor MSB; right: MSB xor the next bit (for a 1-bit shift both are "the sign changed"). */
function store(o: AluOut, right: boolean, size: number, lo: number, hi: number, cf: number): number {
  const w = size * 8;
  o.lo = size === 8 ? lo >>> 0 : (lo & MASK[size]) >>> 0;
  o.hi = size === 8 ? hi >>> 0 : 0;
  const msb = bitAt(o.lo, o.hi, w - 1);
  return (right ? msb ^ bitAt(o.lo, o.hi, w - 2) : cf ^ msb) ? OF : 0;
}

/**
 * RCL (right = false) / RCR of a `size`-byte operand by `count` (masked to 5 bits, 6 for 64-bit; then
 * modulo 9 for bytes and 17 for words: the rotation is over the operand and CF). `o.fl` holds RFLAGS on
 * entry. A count that comes to 0 changes nothing.
 */
export function aluRotateCarry(o: AluOut, right: boolean, size: number, aLo: number, aHi: number, count: number): void {
  const w = size * 8;
  let k = count & (size === 8 ? 63 : 31);
  if (size === 1) k %= 9;
  else if (size === 2) k %= 17;
  o.lo = aLo;
  o.hi = aHi;
  if (k === 0) return;
  const fl = o.fl,
    cin = fl & CF;
  let lo: number, hi: number, cf: number;
  if (!right) {
    // (dest << k) | (CF << (k-1)) | (dest >>> (w+1-k)); CF := bit (w-k) of dest.
    shl64(aLo, aHi, k);
    lo = tLo;
    hi = tHi;
    shl64(cin, 0, k - 1);
    lo |= tLo;
    hi |= tHi;
    shr64(aLo, aHi, w + 1 - k);
    lo |= tLo;
    hi |= tHi;
    cf = bitAt(aLo, aHi, w - k);
  } else {
    // (dest >>> k) | (CF << (w-k)) | (dest << (w+1-k)); CF := bit (k-1) of dest.
    shr64(aLo, aHi, k);
    lo = tLo;
    hi = tHi;
    shl64(cin, 0, w - k);
    lo |= tLo;
    hi |= tHi;
    shl64(aLo, aHi, w + 1 - k);
    lo |= tLo;
    hi |= tHi;
    cf = bitAt(aLo, aHi, k - 1);
  }
  o.fl = (fl & ~(CF | OF)) | cf | store(o, right, size, lo, hi, cf);
}

/**
 * SHLD (right = false) / SHRD: shift the `size`-byte destination (aLo, aHi) by `count` (masked to 5 bits,
 * 6 for 64-bit), filling from the source (bLo, bHi). CF := the last bit shifted out of the destination;
 * SF ZF PF of the result; OF for a 1-bit shift := a sign change. A masked count of 0 changes nothing.
 */
export function aluDoubleShift(
  o: AluOut,
  right: boolean,
  size: number,
  aLo: number,
  aHi: number,
  bLo: number,
  bHi: number,
  count: number,
): void {
  const w = size * 8;
  const c = count & (size === 8 ? 63 : 31);
  o.lo = aLo;
  o.hi = aHi;
  if (c === 0) return;
  let lo: number, hi: number, cf: number;
  if (size === 2) {
    // The 48-bit dest:src:dest (hi = dest, lo = src:dest) covers counts 1..31.
    const xLo = ((bLo << 16) | aLo) >>> 0;
    if (!right) {
      shr64(xLo, aLo, 32 - c);
      cf = bitAt(xLo, aLo, 48 - c);
    } else {
      shr64(xLo, aLo, c);
      cf = bitAt(xLo, aLo, c - 1);
    }
    lo = tLo & 0xffff;
    hi = 0;
  } else if (!right) {
    shl64(aLo, aHi, c);
    lo = tLo;
    hi = tHi;
    shr64(bLo, bHi, w - c);
    lo |= tLo;
    hi |= tHi;
    cf = bitAt(aLo, aHi, w - c);
  } else {
    shr64(aLo, aHi, c);
    lo = tLo;
    hi = tHi;
    shl64(bLo, bHi, w - c);
    lo |= tLo;
    hi |= tHi;
    cf = bitAt(aLo, aHi, c - 1);
  }
  const of = store(o, right, size, lo, hi, cf);
  o.fl = (o.fl & ~STATUS) | cf | of | szp(o.lo, o.hi, size);
}
