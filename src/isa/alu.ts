/**
 * The fast path of the integer ALU: results and exact RFLAGS for every size, on unsigned 32-bit halves
 * (no BigInt, no allocation). Semantics: SDM Vol. 2 ADD…XOR, SHL/SHR/SAR, ROL/ROR, MUL/IMUL, DIV/IDIV;
 * the SDM's "undefined" flags are set as documented in src/isa/flags.ts (one place).
 * src/isa/reference.ts is the independent BigInt restatement the tests compare this against.
 */
import { AF, CF, OF, PARITY, SF, STATUS, ZF } from "./flags.js";

/** Result of an ALU operation: unsigned 32-bit halves (hi is 0 for sizes < 8) and the new RFLAGS. */
export interface AluOut {
  lo: number;
  hi: number;
  fl: number;
  /** Second result pair for MUL/IMUL/DIV (high half / remainder). */
  lo2: number;
  hi2: number;
}

export const AluOp = {
  Add: 0,
  Or: 1,
  Adc: 2,
  Sbb: 3,
  And: 4,
  Sub: 5,
  Xor: 6,
  Cmp: 7,
} as const;
export type AluOp = (typeof AluOp)[keyof typeof AluOp];
export const ShiftOp = {
  Rol: 0,
  Ror: 1,
  Shl: 4,
  Shr: 5,
  Sar: 7,
} as const;
export type ShiftOp = (typeof ShiftOp)[keyof typeof ShiftOp];

export const MASK = [0, 0xff, 0xffff, 0, 0xffffffff, 0, 0, 0, 0xffffffff];
export const SIGN = [0, 0x80, 0x8000, 0, 0x80000000, 0, 0, 0, 0x80000000];

function szp(lo: number, hi: number, size: number): number {
  if (size === 8) return ((lo | hi) === 0 ? ZF : 0) | (hi >>> 31 ? SF : 0) | PARITY[lo & 0xff];
  return (lo === 0 ? ZF : 0) | (lo & SIGN[size] ? SF : 0) | PARITY[lo & 0xff];
}

/** ADD OR ADC SBB AND SUB XOR CMP (op = the ModRM /digit of group 1). `o.fl` holds RFLAGS on entry. */
export function aluBin(o: AluOut, op: number, size: number, aLo: number, aHi: number, bLo: number, bHi: number): void {
  const keep = o.fl & ~STATUS;
  const cin = op === AluOp.Adc || op === AluOp.Sbb ? o.fl & CF : 0;
  let lo: number,
    hi = 0,
    f: number;
  if (op === AluOp.Or || op === AluOp.And || op === AluOp.Xor) {
    if (op === AluOp.Or) {
      lo = (aLo | bLo) >>> 0;
      hi = (aHi | bHi) >>> 0;
    } else if (op === AluOp.And) {
      lo = (aLo & bLo) >>> 0;
      hi = (aHi & bHi) >>> 0;
    } else {
      lo = (aLo ^ bLo) >>> 0;
      hi = (aHi ^ bHi) >>> 0;
    }
    if (size !== 8) hi = 0;
    o.lo = lo;
    o.hi = hi;
    o.fl = keep | szp(lo, hi, size);
    return;
  }
  const add = op === AluOp.Add || op === AluOp.Adc;
  if (size === 8) {
    if (add) {
      let s = aLo + bLo + cin;
      lo = s >>> 0;
      s = aHi + bHi + (s > 0xffffffff ? 1 : 0);
      hi = s >>> 0;
      f = (s > 0xffffffff ? CF : 0) | (((aHi ^ hi) & (bHi ^ hi)) < 0 ? OF : 0);
    } else {
      let s = aLo - bLo - cin;
      lo = s >>> 0;
      s = aHi - bHi - (s < 0 ? 1 : 0);
      hi = s >>> 0;
      f = (s < 0 ? CF : 0) | (((aHi ^ bHi) & (aHi ^ hi)) < 0 ? OF : 0);
    }
  } else {
    const m = MASK[size],
      sg = SIGN[size];
    if (add) {
      const s = aLo + bLo + cin;
      lo = size === 4 ? s >>> 0 : s & m;
      f = (s > m ? CF : 0) | ((aLo ^ lo) & (bLo ^ lo) & sg ? OF : 0);
    } else {
      const s = aLo - bLo - cin;
      lo = size === 4 ? s >>> 0 : s & m;
      f = (s < 0 ? CF : 0) | ((aLo ^ bLo) & (aLo ^ lo) & sg ? OF : 0);
    }
  }
  o.lo = lo;
  o.hi = hi;
  o.fl = keep | f | ((aLo ^ bLo ^ lo) & AF) | szp(lo, hi, size);
}

/** INC (dec = false) / DEC: like ADD/SUB 1 but CF unchanged (SDM INC/DEC). */
export function aluIncDec(o: AluOut, dec: boolean, size: number, aLo: number, aHi: number): void {
  const cf = o.fl & CF;
  aluBin(o, dec ? AluOp.Sub : AluOp.Add, size, aLo, aHi, 1, 0);
  o.fl = (o.fl & ~CF) | cf;
}

/** Shifts and rotates (op = ModRM /digit of group 2). Count is masked here (5 bits, 6 for 64-bit). */
export function aluShift(o: AluOut, op: number, size: number, aLo: number, aHi: number, count: number): void {
  const c = count & (size === 8 ? 63 : 31);
  o.lo = aLo;
  o.hi = aHi;
  if (c === 0) return; // SDM: a masked count of 0 changes no flags
  const fl = o.fl;
  if (op === ShiftOp.Rol || op === ShiftOp.Ror) {
    let lo: number,
      hi = 0,
      cf: number,
      of: number;
    if (size === 8) {
      let l = aLo,
        h = aHi,
        k = c;
      if (k >= 32) {
        const t = l;
        l = h;
        h = t;
        k -= 32;
      }
      if (k === 0) {
        lo = l;
        hi = h;
      } else if (op === ShiftOp.Rol) {
        lo = ((l << k) | (h >>> (32 - k))) >>> 0;
        hi = ((h << k) | (l >>> (32 - k))) >>> 0;
      } else {
        lo = ((l >>> k) | (h << (32 - k))) >>> 0;
        hi = ((h >>> k) | (l << (32 - k))) >>> 0;
      }
      if (op === ShiftOp.Rol) {
        cf = lo & 1;
        of = cf ^ (hi >>> 31);
      } else {
        cf = hi >>> 31;
        of = ((hi >>> 31) ^ (hi >>> 30)) & 1;
      }
    } else {
      const w = size * 8,
        m = MASK[size];
      const k = c % w;
      if (k === 0) lo = aLo;
      else if (op === ShiftOp.Rol) lo = (((aLo << k) | (aLo >>> (w - k))) & m) >>> 0;
      else lo = (((aLo >>> k) | (aLo << (w - k))) & m) >>> 0;
      const msb = (lo >>> (w - 1)) & 1;
      if (op === ShiftOp.Rol) {
        cf = lo & 1;
        of = cf ^ msb;
      } else {
        cf = msb;
        of = (msb ^ (lo >>> (w - 2))) & 1;
      }
    }
    o.lo = lo;
    o.hi = hi;
    o.fl = (fl & ~(CF | OF)) | (cf ? CF : 0) | (of ? OF : 0);
    return;
  }
  let lo: number,
    hi = 0,
    cf: number,
    of: number;
  if (size === 8) {
    if (op === ShiftOp.Shl) {
      if (c < 32) {
        hi = ((aHi << c) | (aLo >>> (32 - c))) >>> 0;
        lo = (aLo << c) >>> 0;
        cf = (aHi >>> (32 - c)) & 1;
      } else if (c === 32) {
        hi = aLo;
        lo = 0;
        cf = aHi & 1;
      } else {
        hi = (aLo << (c - 32)) >>> 0;
        lo = 0;
        cf = (aLo >>> (64 - c)) & 1;
      }
      of = cf ^ (hi >>> 31);
    } else if (op === ShiftOp.Shr) {
      if (c < 32) {
        lo = ((aLo >>> c) | (aHi << (32 - c))) >>> 0;
        hi = aHi >>> c;
        cf = (aLo >>> (c - 1)) & 1;
      } else if (c === 32) {
        lo = aHi;
        hi = 0;
        cf = aLo >>> 31;
      } else {
        lo = aHi >>> (c - 32);
        hi = 0;
        cf = (aHi >>> (c - 33)) & 1;
      }
      of = ((hi >>> 31) ^ (hi >>> 30)) & 1;
    } else {
      const sh = aHi | 0;
      if (c < 32) {
        lo = ((aLo >>> c) | (aHi << (32 - c))) >>> 0;
        hi = (sh >> c) >>> 0;
        cf = (aLo >>> (c - 1)) & 1;
      } else if (c === 32) {
        lo = aHi;
        hi = (sh >> 31) >>> 0;
        cf = aLo >>> 31;
      } else {
        lo = (sh >> (c - 32)) >>> 0;
        hi = (sh >> 31) >>> 0;
        cf = (sh >> (c - 33)) & 1;
      }
      of = 0;
    }
  } else {
    const w = size * 8,
      m = MASK[size];
    if (op === ShiftOp.Shl) {
      lo = ((aLo << c) & m) >>> 0;
      cf = ((aLo << (c - 1)) >>> (w - 1)) & 1;
      of = cf ^ ((lo >>> (w - 1)) & 1);
    } else if (op === ShiftOp.Shr) {
      lo = aLo >>> c;
      cf = (aLo >>> (c - 1)) & 1;
      of = ((lo >>> (w - 1)) ^ (lo >>> (w - 2))) & 1;
    } else {
      const sa = (aLo << (32 - w)) >> (32 - w); // sign-extend the operand
      lo = ((sa >> c) & m) >>> 0;
      cf = (sa >> (c - 1)) & 1;
      of = 0;
    }
  }
  o.lo = lo;
  o.hi = hi;
  o.fl = (fl & ~STATUS) | (cf ? CF : 0) | (of ? OF : 0) | szp(lo, hi, size);
}

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
