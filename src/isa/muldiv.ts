/**
 * MUL/IMUL and DIV/IDIV on unsigned 32-bit halves for every size, exact (16-bit limbs keep every partial
 * product below 2^53; no BigInt, no allocation). Semantics: SDM Vol. 2 MUL, IMUL, DIV, IDIV; flags as
 * flags.ts documents. src/isa/reference.ts is the independent restatement the tests compare against.
 */
import { type AluOut, MASK, SIGN, szp } from "./alu.js";
import { CF, OF, STATUS } from "./flags.js";

// ---- multiplication -------------------------------------------------------------------------------

/** Scratch words of a 128-bit product / dividend (little-endian 32-bit words). */
const W = new Uint32Array(4);
let mLo = 0,
  mHi = 0;

/** Unsigned 32×32 → 64 exactly (16-bit limbs keep every partial product below 2^53). */
function mulu32(a: number, b: number): void {
  const a0 = a & 0xffff,
    a1 = a >>> 16,
    b0 = b & 0xffff,
    b1 = b >>> 16;
  const p00 = a0 * b0,
    p01 = a0 * b1,
    p10 = a1 * b0,
    p11 = a1 * b1;
  const mid = (p00 >>> 16) + (p01 & 0xffff) + (p10 & 0xffff);
  mLo = (((mid & 0xffff) << 16) | (p00 & 0xffff)) >>> 0;
  mHi = (p11 + (p01 >>> 16) + (p10 >>> 16) + (mid >>> 16)) >>> 0;
}

/** Unsigned 64×64 → 128 into W. */
function mulu64(aLo: number, aHi: number, bLo: number, bHi: number): void {
  mulu32(aLo, bLo);
  const w0 = mLo;
  let w1 = mHi;
  mulu32(aLo, bHi);
  let s = w1 + mLo;
  w1 = s >>> 0;
  let w2 = mHi + (s > 0xffffffff ? 1 : 0);
  mulu32(aHi, bLo);
  s = w1 + mLo;
  w1 = s >>> 0;
  w2 += mHi + (s > 0xffffffff ? 1 : 0);
  let w3 = w2 > 0xffffffff ? Math.floor(w2 / 0x100000000) : 0;
  w2 = w2 >>> 0;
  mulu32(aHi, bHi);
  s = w2 + mLo;
  w2 = s >>> 0;
  w3 = (w3 + mHi + (s > 0xffffffff ? 1 : 0)) >>> 0;
  W[0] = w0;
  W[1] = w1;
  W[2] = w2;
  W[3] = w3;
}

/**
 * Full product of a and b at `size`, signed or not: o.lo/o.hi = low half, o.lo2/o.hi2 = high half
 * (each `size` wide). Flags per flags.ts: CF = OF = high half significant; SF/ZF/PF of the low half; AF = 0.
 */
export function aluMul(
  o: AluOut,
  signed: boolean,
  size: number,
  aLo: number,
  aHi: number,
  bLo: number,
  bHi: number,
): void {
  let lo: number,
    hi = 0,
    lo2: number,
    hi2 = 0,
    sig: boolean;
  if (size <= 2) {
    const w = size * 8,
      m = MASK[size];
    let a = aLo,
      b = bLo;
    if (signed) {
      a = (a << (32 - w)) >> (32 - w);
      b = (b << (32 - w)) >> (32 - w);
    }
    const p = a * b; // |p| < 2^31: exact
    lo = p & m;
    lo2 = (p >> w) & m;
    sig = signed ? (lo << (32 - w)) >> (32 - w) !== p : lo2 !== 0;
  } else if (size === 4) {
    mulu32(aLo, bLo);
    lo = mLo;
    lo2 = mHi;
    if (signed) {
      if (aLo & 0x80000000) lo2 = (lo2 - bLo) >>> 0;
      if (bLo & 0x80000000) lo2 = (lo2 - aLo) >>> 0;
      sig = lo2 !== (lo & 0x80000000 ? 0xffffffff : 0);
    } else sig = lo2 !== 0;
  } else {
    mulu64(aLo, aHi, bLo, bHi);
    lo = W[0];
    hi = W[1];
    lo2 = W[2];
    hi2 = W[3];
    if (signed) {
      if (aHi & 0x80000000) {
        const s = lo2 - bLo;
        lo2 = s >>> 0;
        hi2 = (hi2 - bHi - (s < 0 ? 1 : 0)) >>> 0;
      }
      if (bHi & 0x80000000) {
        const s = lo2 - aLo;
        lo2 = s >>> 0;
        hi2 = (hi2 - aHi - (s < 0 ? 1 : 0)) >>> 0;
      }
      const ext = hi & 0x80000000 ? 0xffffffff : 0;
      sig = lo2 !== ext || hi2 !== ext;
    } else sig = (lo2 | hi2) !== 0;
  }
  o.lo = lo;
  o.hi = hi;
  o.lo2 = lo2;
  o.hi2 = hi2;
  o.fl = (o.fl & ~STATUS) | (sig ? CF | OF : 0) | szp(lo, hi, size);
}

// ---- division -------------------------------------------------------------------------------------

/** Unsigned (hi:lo) / d where the dividend is given as 4 words in W (128-bit) and d < 2^32:
 *  16-bit long division keeps every step exact. Returns false if the quotient needs > 64 bits. */
function divSmall(d: number): void {
  let rem = 0;
  for (let i = 3; i >= 0; i--) {
    const w = W[i];
    let cur = rem * 65536 + (w >>> 16);
    const qh = Math.floor(cur / d);
    rem = cur - qh * d;
    cur = rem * 65536 + (w & 0xffff);
    const ql = Math.floor(cur / d);
    rem = cur - ql * d;
    W[i] = ((qh << 16) | ql) >>> 0;
  }
  mLo = rem;
  mHi = 0;
}

/** Unsigned 128 / 64 (W / dHi:dLo) by restoring shift-subtract when dHi ≠ 0; quotient in W, remainder in mLo/mHi. */
function divLarge(dLo: number, dHi: number): void {
  let rLo = 0,
    rHi = 0;
  for (let i = 127; i >= 0; i--) {
    const top = rHi >>> 31;
    rHi = ((rHi << 1) | (rLo >>> 31)) >>> 0;
    rLo = ((rLo << 1) | ((W[i >>> 5] >>> (i & 31)) & 1)) >>> 0;
    W[i >>> 5] = (W[i >>> 5] & ~(1 << (i & 31))) >>> 0;
    if (top || rHi > dHi || (rHi === dHi && rLo >= dLo)) {
      const s = rLo - dLo;
      rLo = s >>> 0;
      rHi = (rHi - dHi - (s < 0 ? 1 : 0)) >>> 0;
      W[i >>> 5] = (W[i >>> 5] | (1 << (i & 31))) >>> 0;
    }
  }
  mLo = rLo;
  mHi = rHi;
}

function neg128(): void {
  let c = 1;
  for (let i = 0; i < 4; i++) {
    const s = (~W[i] >>> 0) + c;
    W[i] = s >>> 0;
    c = s > 0xffffffff ? 1 : 0;
  }
}

/**
 * DIV/IDIV: dividend (nLo2:nHi2 = high part, nLo:nHi = low part, each `size` wide; for size 1 the
 * dividend is AX given as nLo) by divisor bLo:bHi. Returns false on #DE (divide by zero or quotient
 * overflow, SDM DIV/IDIV). On success o.lo/o.hi = quotient, o.lo2/o.hi2 = remainder; flags unchanged.
 */
export function aluDiv(
  o: AluOut,
  signed: boolean,
  size: number,
  nLo: number,
  nHi: number,
  nLo2: number,
  nHi2: number,
  bLo: number,
  bHi: number,
): boolean {
  if (size === 8 ? (bLo | bHi) === 0 : bLo === 0) return false;
  const w = size * 8;
  // Build the 2w-bit dividend in W (little-endian words).
  if (size === 1) {
    W[0] = nLo & 0xffff;
    W[1] = 0;
    W[2] = 0;
    W[3] = 0;
  } else if (size === 2) {
    W[0] = (((nLo2 & 0xffff) << 16) | (nLo & 0xffff)) >>> 0;
    W[1] = 0;
    W[2] = 0;
    W[3] = 0;
  } else if (size === 4) {
    W[0] = nLo;
    W[1] = nLo2;
    W[2] = 0;
    W[3] = 0;
  } else {
    W[0] = nLo;
    W[1] = nHi;
    W[2] = nLo2;
    W[3] = nHi2;
  }
  let dLo = bLo,
    dHi = size === 8 ? bHi : 0;
  let negQ = false,
    negR = false;
  if (signed) {
    const dvNeg =
      size === 8
        ? (nHi2 & 0x80000000) !== 0
        : size === 4
          ? (nLo2 & 0x80000000) !== 0
          : size === 2
            ? (nLo2 & 0x8000) !== 0
            : (nLo & 0x8000) !== 0;
    if (dvNeg) {
      if (size === 1) W[0] = -((nLo << 16) >> 16) >>> 0;
      else if (size === 2) W[0] = -(W[0] | 0) >>> 0;
      else if (size === 4) {
        const lo = W[0],
          hi = W[1];
        W[0] = -lo >>> 0;
        W[1] = (~hi + (lo === 0 ? 1 : 0)) >>> 0;
      } else neg128();
    }
    const dNeg = size === 8 ? (bHi & 0x80000000) !== 0 : (bLo & SIGN[size]) !== 0;
    if (dNeg) {
      if (size === 8) {
        const s = -dLo;
        dLo = s >>> 0;
        dHi = (~dHi + (dLo === 0 ? 1 : 0)) >>> 0;
      } else dLo = -((bLo << (32 - w)) >> (32 - w)) >>> 0;
    }
    negQ = dvNeg !== dNeg;
    negR = dvNeg;
  }
  if (dHi === 0) divSmall(dLo);
  else divLarge(dLo, dHi);
  // Quotient in W, remainder in mLo/mHi. Check it fits.
  let qLo = W[0],
    qHi = W[1];
  const over = size === 8 ? (W[2] | W[3]) !== 0 : size === 4 ? W[1] !== 0 : W[0] > MASK[size];
  if (over) return false;
  if (signed) {
    // |q| must be ≤ 2^(w-1) - 1, or exactly 2^(w-1) when negative (SDM IDIV: "quotient too large").
    if (size === 8) {
      if (qHi > 0x80000000 || (qHi === 0x80000000 && (qLo !== 0 || !negQ))) return false;
    } else {
      const lim = SIGN[size];
      if (qLo > lim || (qLo === lim && !negQ)) return false;
    }
    if (negQ) {
      if (size === 8) {
        const s = -qLo;
        qLo = s >>> 0;
        qHi = (~qHi + (qLo === 0 ? 1 : 0)) >>> 0;
      } else qLo = (-qLo & MASK[size]) >>> 0;
    }
    if (negR) {
      if (size === 8) {
        const s = -mLo;
        const l = s >>> 0;
        mHi = (~mHi + (l === 0 ? 1 : 0)) >>> 0;
        mLo = l;
      } else mLo = (-mLo & MASK[size]) >>> 0;
    }
  }
  o.lo = size === 8 ? qLo : qLo & MASK[size];
  o.hi = size === 8 ? qHi : 0;
  o.lo2 = size === 8 ? mLo : mLo & MASK[size];
  o.hi2 = size === 8 ? mHi : 0;
  if (size < 4) {
    o.lo >>>= 0;
    o.lo2 >>>= 0;
  }
  return true;
}
