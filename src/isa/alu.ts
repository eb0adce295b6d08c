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

/** SF, ZF, PF of a result of `size` bytes. */
export function szp(lo: number, hi: number, size: number): number {
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
