/**
 * Semantic functions of the stack operations (SDM Vol. 2 PUSH, POP, PUSHF/PUSHFQ, POPF/POPFQ).
 * Each returns true: the instruction retired (RIP is advanced).
 */
import type { Cpu } from "../cpu.js";
import { K, type Insn } from "../insn.js";
import { STATUS } from "../flags.js";
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

/** The rows of this family (semantics.ts). */
export const ROWS: readonly SemRow[] = [
  { op: Op.Push, mnemonics: { push: 0 }, cycles: 1, reads: 0, writes: 0, faults: true, exec: push, compile: emit.push },
  { op: Op.Pop, mnemonics: { pop: 0 }, cycles: 1, reads: 0, writes: 0, faults: true, exec: pop, compile: emit.pop },
  { op: Op.Pushf, mnemonics: { pushfq: 0, pushfd: 0 }, cycles: 1, reads: STATUS, writes: 0, faults: true, exec: pushf },
  { op: Op.Popf, mnemonics: { popfq: 0, popfd: 0 }, cycles: 9, reads: 0, writes: STATUS, faults: true, exec: popf },
];
