/**
 * Semantic functions of the data moves (SDM Vol. 2 MOV, MOVZX, MOVSX/MOVSXD, LEA, XCHG, SETcc, CMOVcc).
 * None changes RFLAGS. Each returns true: the instruction retired (RIP is advanced).
 */
import type { Cpu } from "../cpu.js";
import { K, type Insn } from "../insn.js";
import { condition } from "../flags.js";
import { TWO32 } from "../state.js";
import { STATUS } from "../flags.js";
import * as emit from "../jit-emit.js";
import { Op } from "../ops.js";
import { KEEP, type SemRow, ccNames } from "./row.js";

export function mov(c: Cpu, ins: Insn): boolean {
  const s = ins.size;
  if (ins.k0 === K.Mem) {
    const a = c.ea(ins, s, true);
    c.ld(ins, ins.k1, ins.r1, s, false);
    c.wr(a, s, c.aLo, c.aHi);
    c.cache.access(a, s);
  } else {
    c.ld(ins, ins.k1, ins.r1, s, false);
    c.sr(ins.r0, s, c.aLo, c.aHi);
  }
  c.rip += ins.len;
  return true;
}

export function movzx(c: Cpu, ins: Insn): boolean {
  c.ld(ins, ins.k1, ins.r1, ins.srcSize, false);
  c.sr(ins.r0, ins.size, c.aLo, 0);
  c.rip += ins.len;
  return true;
}

export function movsx(c: Cpu, ins: Insn): boolean {
  const ss = ins.srcSize;
  c.ld(ins, ins.k1, ins.r1, ss, false);
  const v = ss === 1 ? (c.aLo << 24) >> 24 : ss === 2 ? (c.aLo << 16) >> 16 : c.aLo | 0;
  c.sr(ins.r0, ins.size, v >>> 0, v < 0 ? 0xffffffff : 0);
  c.rip += ins.len;
  return true;
}

/** LEA: the effective address, unchecked (no memory access), truncated to the address size. */
export function lea(c: Cpu, ins: Insn): boolean {
  const g = c.regs;
  let lo = ins.dispLo,
    hi = ins.dispHi;
  if (ins.base >= 0) {
    lo += g[2 * ins.base];
    hi += g[2 * ins.base + 1];
  }
  if (ins.index >= 0) {
    lo += g[2 * ins.index] * ins.scale;
    hi += g[2 * ins.index + 1] * ins.scale;
  }
  if (lo > 0xffffffff) {
    const n = Math.floor(lo / TWO32);
    lo -= n * TWO32;
    hi += n;
  }
  c.sr(ins.r0, ins.size, ins.asize === 2 ? lo & 0xffff : lo >>> 0, ins.asize !== 8 ? 0 : hi >>> 0);
  c.rip += ins.len;
  return true;
}

export function xchg(c: Cpu, ins: Insn): boolean {
  const s = ins.size;
  const a = c.ld(ins, ins.k0, ins.r0, s, true);
  const lo = c.aLo,
    hi = c.aHi;
  c.gr(ins.r1, s);
  c.st0(ins, a, s, c.aLo, c.aHi);
  c.sr(ins.r1, s, lo, hi);
  c.rip += ins.len;
  return true;
}

export function setcc(c: Cpu, ins: Insn): boolean {
  const v = condition(ins.cc, c.rflags) ? 1 : 0;
  if (ins.k0 === K.Reg) c.sr(ins.r0, 1, v, 0);
  else {
    const a = c.ea(ins, 1, true);
    c.wr(a, 1, v, 0);
    c.cache.access(a, 1);
  }
  c.rip += ins.len;
  return true;
}

export function cmovcc(c: Cpu, ins: Insn): boolean {
  const s = ins.size;
  c.ld(ins, ins.k1, ins.r1, s, false); // the source is read even when the condition is false
  if (condition(ins.cc, c.rflags)) c.sr(ins.r0, s, c.aLo, c.aHi);
  else if (s === 4) c.regs[2 * ins.r0 + 1] = 0; // a 32-bit CMOV zero-extends even when false (SDM CMOVcc)
  c.rip += ins.len;
  return true;
}

const srcSize = (ins: Insn) => ins.srcSize;
/** The rows of this family (semantics.ts). */
export const ROWS: readonly SemRow[] = [
  {
    op: Op.Mov,
    mnemonics: { mov: KEEP },
    form: (r) => !r.operands.includes("cr") && !r.operands.includes("sreg"),
    cycles: 1,
    reads: 0,
    writes: 0,
    exec: mov,
    compile: emit.mov,
  },
  {
    op: Op.Movzx,
    mnemonics: { movzx: 0 },
    cycles: 1,
    reads: 0,
    writes: 0,
    exec: movzx,
    compile: emit.movzx,
    memSize: srcSize,
  },
  {
    op: Op.Movsx,
    mnemonics: { movsx: 0, movsxd: 0 },
    cycles: 1,
    reads: 0,
    writes: 0,
    exec: movsx,
    compile: emit.movsx,
    memSize: srcSize,
  },
  {
    op: Op.Lea,
    mnemonics: { lea: 0 },
    cycles: 1,
    reads: 0,
    writes: 0,
    exec: lea,
    compile: emit.lea,
    memSize: () => 0,
  },
  { op: Op.Xchg, mnemonics: { xchg: 0 }, cycles: 1, reads: 0, writes: 0, exec: xchg },
  {
    op: Op.Setcc,
    mnemonics: ccNames("set"),
    cycles: 1,
    reads: STATUS,
    writes: 0,
    exec: setcc,
    compile: emit.setcc,
    memSize: () => 1,
  },
  {
    op: Op.Cmovcc,
    mnemonics: ccNames("cmov"),
    cycles: 1,
    reads: STATUS,
    writes: 0,
    exec: cmovcc,
    compile: emit.cmovcc,
  },
];
