/**
 * Semantic functions of the stack operations (SDM Vol. 2 PUSH, POP, PUSHF/PUSHFQ, POPF/POPFQ).
 * Each returns true: the instruction retired (RIP is advanced).
 */
import type { Cpu } from "../cpu.js";
import { K, type Insn } from "../insn.js";
import { STATUS } from "../flags.js";
import { TWO32 } from "../state.js";
import * as emit from "../jit-emit.js";
import { Op } from "../ops.js";
import type { SemRow } from "./row.js";

export function push(c: Cpu, ins: Insn): boolean {
  const s = ins.size;
  c.ld(ins, ins.k0, ins.r0, s, false);
  c.push(s, c.aLo, c.aHi);
  c.rip += ins.len;
  return true;
}

export function pop(c: Cpu, ins: Insn): boolean {
  const s = ins.size,
    g = c.regs;
  c.peek(s, 0);
  const lo = c.aLo,
    hi = c.aHi;
  if (ins.k0 === K.Reg) {
    c.addRsp(s);
    c.sr(ins.r0, s, lo, hi);
  } else {
    // SDM POP: an RSP-based destination address is computed after RSP is incremented.
    const oLo = g[8],
      oHi = g[9];
    c.addRsp(s);
    let a: number;
    try {
      a = c.ea(ins, s, true);
    } catch (e) {
      g[8] = oLo;
      g[9] = oHi;
      throw e;
    }
    c.wr(a, s, lo, hi);
    c.cache.access(a, s);
  }
  c.rip += ins.len;
  return true;
}

export function pushf(c: Cpu, ins: Insn): boolean {
  c.push(ins.size, c.rflags & ~0x30000, 0); // RF and VM read as 0 in the image (SDM PUSHF)
  c.rip += ins.len;
  return true;
}

export function popf(c: Cpu, ins: Insn): boolean {
  c.peek(ins.size, 0);
  c.addRsp(ins.size);
  c.setFlagsFromPop(c.aLo);
  c.rip += ins.len;
  return true;
}

/** LEAVE: RSP := RBP, then pop RBP (BP with 0x66). A faulting pop leaves RSP as it was. */
export function leave(c: Cpu, ins: Insn): boolean {
  const s = ins.size,
    g = c.regs;
  const oLo = g[8],
    oHi = g[9];
  g[8] = g[10];
  g[9] = g[11];
  try {
    c.peek(s, 0);
  } catch (e) {
    g[8] = oLo;
    g[9] = oHi;
    throw e;
  }
  c.addRsp(s);
  c.sr(5, s, c.aLo, c.aHi);
  c.rip += ins.len;
  return true;
}

/**
 * ENTER imm16, imm8 (SDM "ENTER", 64-bit mode): push RBP; FrameTemp := RSP; for a nesting level L > 0
 * push the L-1 frame pointers at RBP-8, RBP-16, … and then FrameTemp; RBP := FrameTemp; RSP -= imm16.
 * The level is taken modulo 32. A fault restores RSP and RBP.
 */
export function enter(c: Cpu, ins: Insn): boolean {
  const s = ins.size,
    g = c.regs;
  const level = ins.imm2 & 31;
  const spLo = g[8],
    spHi = g[9],
    bpLo = g[10],
    bpHi = g[11];
  try {
    c.push(s, bpLo, s === 8 ? bpHi : 0);
    const ftLo = g[8],
      ftHi = g[9];
    if (level > 0) {
      for (let i = 1; i < level; i++) {
        let lo = bpLo - s * i,
          hi = bpHi;
        if (lo < 0) {
          lo += TWO32;
          hi = (hi - 1) >>> 0;
        }
        const a = c.check(lo, hi, s, false, true);
        c.rd(a, s);
        c.cache.access(a, s);
        c.push(s, c.aLo, c.aHi);
      }
      c.push(s, ftLo, s === 8 ? ftHi : 0);
    }
    if (s === 8) {
      g[10] = ftLo;
      g[11] = ftHi;
    } else c.sr(5, 2, ftLo, 0);
    let lo = g[8] - ins.immLo;
    if (lo < 0) {
      lo += TWO32;
      g[9] = (g[9] - 1) >>> 0;
    }
    g[8] = lo;
  } catch (e) {
    g[8] = spLo;
    g[9] = spHi;
    g[10] = bpLo;
    g[11] = bpHi;
    throw e;
  }
  c.rip += ins.len;
  return true;
}

/** The rows of this family (semantics.ts). */
export const ROWS: readonly SemRow[] = [
  { op: Op.Push, mnemonics: { push: 0 }, cycles: 1, reads: 0, writes: 0, faults: true, exec: push, compile: emit.push },
  { op: Op.Pop, mnemonics: { pop: 0 }, cycles: 1, reads: 0, writes: 0, faults: true, exec: pop, compile: emit.pop },
  { op: Op.Pushf, mnemonics: { pushfq: 0, pushfd: 0 }, cycles: 1, reads: STATUS, writes: 0, faults: true, exec: pushf },
  { op: Op.Popf, mnemonics: { popfq: 0, popfd: 0 }, cycles: 9, reads: 0, writes: STATUS, faults: true, exec: popf },
  { op: Op.Leave, mnemonics: { leave: 0 }, cycles: 1, reads: 0, writes: 0, faults: true, exec: leave },
  { op: Op.Enter, mnemonics: { enter: 0 }, cycles: 3, reads: 0, writes: 0, faults: true, exec: enter },
];
