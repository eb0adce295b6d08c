/**
 * Semantic functions of the bit instructions (SDM Vol. 2 BT, BTS, BTR, BTC, BSF, BSR, TZCNT, LZCNT,
 * POPCNT, BSWAP). Each returns true: the instruction retired (RIP is advanced). The flags the SDM leaves
 * undefined are listed once in flags.ts.
 */
import type { Cpu } from "../cpu.js";
import { K, type Insn } from "../insn.js";
import { AF, CF, OF, PF, SF, STATUS, ZF } from "../flags.js";
import * as emit from "../jit-emit.js";
import { Op } from "../ops.js";
import type { SemRow } from "./row.js";

/** BT (sub 0) / BTS (1) / BTR (2) / BTC (3). */
export const BitOp = { Bt: 0, Bts: 1, Btr: 2, Btc: 3 } as const;

/**
 * Load the operand of a memory BTx whose bit offset is a register: SDM "BT" / Vol. 1 §3.1.1.9 "Bit(BitBase,
 * BitOffset)": the offset is a signed integer of the operand size, and the operand read is the
 * `size`-byte unit at BitBase + size·floor(offset / (8·size)). Returns the RAM offset; the value is in
 * aLo/aHi.
 */
function loadBitString(c: Cpu, ins: Insn, size: number, offLo: number, offHi: number, write: boolean): number {
  // Sign-extend the offset to 64 bits, then shift right arithmetically by 3 (bytes) and align to `size`.
  let lo = offLo,
    hi = offHi;
  if (size === 2) {
    lo = ((lo << 16) >> 16) >>> 0;
    hi = lo & 0x80000000 ? 0xffffffff : 0;
  } else if (size === 4) hi = lo & 0x80000000 ? 0xffffffff : 0;
  const dLo = (((lo >>> 3) | (hi << 29)) & ~(size - 1)) >>> 0;
  const dHi = (hi >> 3) >>> 0;
  // The address is the operand's, displaced: memory.ts computes it (with its faults) from the displacement.
  const saveLo = ins.dispLo,
    saveHi = ins.dispHi;
  ins.dispLo = saveLo + dLo;
  ins.dispHi = saveHi + dHi;
  let a: number;
  try {
    a = c.ea(ins, size, write);
  } finally {
    ins.dispLo = saveLo;
    ins.dispHi = saveHi;
  }
  c.rd(a, size);
  c.cache.access(a, size);
  return a;
}

/** BT/BTS/BTR/BTC: CF := the selected bit of the destination, then (BTS/BTR/BTC) set, clear or flip it.
 *  An immediate offset, or any offset into a register, is taken modulo the operand width. */
export function bitTest(c: Cpu, ins: Insn): boolean {
  const s = ins.size,
    w = s * 8,
    op = ins.sub;
  let a: number, n: number;
  if (ins.k1 === K.Imm) {
    n = ins.immLo & (w - 1);
    a = c.ld(ins, ins.k0, ins.r0, s, op !== BitOp.Bt);
  } else {
    c.gr(ins.r1, s);
    n = c.aLo & (w - 1);
    if (ins.k0 === K.Mem) a = loadBitString(c, ins, s, c.aLo, c.aHi, op !== BitOp.Bt);
    else a = c.ld(ins, ins.k0, ins.r0, s, false);
  }
  let lo = c.aLo,
    hi = c.aHi;
  const m = n < 32 ? 1 << n : 1 << (n - 32);
  const bit = ((n < 32 ? lo : hi) & m) !== 0 ? 1 : 0;
  c.rflags = (c.rflags & ~CF) | bit;
  if (op !== BitOp.Bt) {
    const v = n < 32 ? lo : hi;
    const r = (op === BitOp.Bts ? v | m : op === BitOp.Btr ? v & ~m : v ^ m) >>> 0;
    if (n < 32) lo = r;
    else hi = r;
    c.st0(ins, a, s, lo, hi);
  }
  c.rip += ins.len;
  return true;
}

/** Index of the lowest (lowest = true) or highest set bit of a non-zero lo/hi pair. */
function bitIndex(lo: number, hi: number, lowest: boolean): number {
  if (lowest) return lo !== 0 ? 31 - Math.clz32(lo & -lo) : 63 - Math.clz32(hi & -hi);
  return hi !== 0 ? 63 - Math.clz32(hi) : 31 - Math.clz32(lo);
}

/**
 * BSF (sub 0) / BSR (sub 1): ZF := (source = 0); otherwise the index of the lowest/highest set bit. With
 * a zero source the destination is left as it was, as AMD documents and Intel hardware does — except
 * that a 32-bit destination still has bits 63:32 cleared on Intel (Linux arch/x86/include/asm/bitops.h,
 * ffs(): "their CPU architect says its value is written to set it to the same as before, except that
 * the top 32 bits will be cleared").
 */
export function bitScan(c: Cpu, ins: Insn): boolean {
  const s = ins.size;
  c.ld(ins, ins.k1, ins.r1, s, false);
  const lo = c.aLo,
    hi = c.aHi;
  if ((lo | hi) === 0) {
    c.rflags |= ZF;
    if (s === 4) c.regs[2 * ins.r0 + 1] = 0;
  } else {
    c.rflags &= ~ZF;
    c.sr(ins.r0, s, bitIndex(lo, hi, ins.sub === 0), 0);
  }
  c.rip += ins.len;
  return true;
}

/** TZCNT (sub 0) / LZCNT (sub 1): the count of trailing/leading zero bits (the operand width for 0);
 *  CF := (source = 0), ZF := (result = 0). */
export function zeroCount(c: Cpu, ins: Insn): boolean {
  const s = ins.size,
    w = s * 8;
  c.ld(ins, ins.k1, ins.r1, s, false);
  const lo = c.aLo,
    hi = c.aHi;
  let n: number;
  if ((lo | hi) === 0) n = w;
  else if (ins.sub === 0) n = bitIndex(lo, hi, true);
  else n = w - 1 - bitIndex(lo, hi, false);
  c.rflags = (c.rflags & ~(CF | ZF)) | (n === w ? CF : 0) | (n === 0 ? ZF : 0);
  c.sr(ins.r0, s, n, 0);
  c.rip += ins.len;
  return true;
}

function bitCount(v: number): number {
  let x = v - ((v >>> 1) & 0x55555555);
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  x = (x + (x >>> 4)) & 0x0f0f0f0f;
  return Math.imul(x, 0x01010101) >>> 24;
}

/** POPCNT: the number of set bits; ZF := (source = 0), OF SF AF CF PF := 0 (SDM "POPCNT"). */
export function popcnt(c: Cpu, ins: Insn): boolean {
  const s = ins.size;
  c.ld(ins, ins.k1, ins.r1, s, false);
  const lo = c.aLo,
    hi = c.aHi;
  c.rflags = (c.rflags & ~STATUS) | ((lo | hi) === 0 ? ZF : 0);
  c.sr(ins.r0, s, bitCount(lo) + bitCount(hi), 0);
  c.rip += ins.len;
  return true;
}

const swap32 = (v: number): number =>
  ((v >>> 24) | ((v >>> 8) & 0xff00) | ((v & 0xff00) << 8) | ((v & 0xff) << 24)) >>> 0;

/** BSWAP r32 / r64: reverse the bytes (no flags). */
export function bswap(c: Cpu, ins: Insn): boolean {
  const g = c.regs,
    r = ins.r0;
  if (ins.size === 8) {
    const lo = g[2 * r];
    g[2 * r] = swap32(g[2 * r + 1]);
    g[2 * r + 1] = swap32(lo);
  } else c.sr(r, 4, swap32(g[2 * r]), 0);
  c.rip += ins.len;
  return true;
}

const UNDEF_BT = OF | SF | AF | PF;
/** The rows of this family (semantics.ts). */
export const ROWS: readonly SemRow[] = [
  {
    op: Op.Bt,
    mnemonics: { bt: BitOp.Bt, bts: BitOp.Bts, btr: BitOp.Btr, btc: BitOp.Btc },
    cycles: 1,
    reads: 0,
    writes: CF,
    undefined: UNDEF_BT,
    undefinedValue: "unchanged",
    exec: bitTest,
    compile: emit.bitTest,
  },
  {
    op: Op.Bsf,
    mnemonics: { bsf: 0, bsr: 1 },
    cycles: 3,
    reads: 0,
    writes: ZF,
    undefined: CF | OF | SF | AF | PF,
    undefinedValue: "unchanged",
    exec: bitScan,
    compile: emit.viaExec,
  },
  {
    op: Op.Tzcnt,
    mnemonics: { tzcnt: 0, lzcnt: 1 },
    cycles: 3,
    reads: 0,
    writes: CF | ZF,
    undefined: OF | SF | AF | PF,
    undefinedValue: "unchanged",
    exec: zeroCount,
    compile: emit.viaExec,
  },
  { op: Op.Popcnt, mnemonics: { popcnt: 0 }, cycles: 3, reads: 0, writes: STATUS, exec: popcnt, compile: emit.viaExec },
  { op: Op.Bswap, mnemonics: { bswap: 0 }, cycles: 1, reads: 0, writes: 0, exec: bswap, compile: emit.viaExec },
];
