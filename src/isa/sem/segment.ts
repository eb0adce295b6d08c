/**
 * Semantic functions of the segment and descriptor-table instructions (SDM Vol. 2 MOV Sreg, LGDT/LIDT,
 * SGDT/SIDT, LLDT/SLDT, LTR/STR, JMP/CALL far, RET far); the descriptor checks are descriptors.ts'.
 * Each returns true: the instruction retired.
 */
import type { Cpu } from "../cpu.js";
import { K, type Insn } from "../insn.js";
import { SREG_KIND } from "../opcodes-seg.js";
import { Op } from "../ops.js";
import { Seg, TWO32, Vec } from "../state.js";
import { KEEP, Priv, type SemRow } from "./row.js";
import { LBR_SEL_FAR_BRANCH } from "../lbr.js";

/** MOV r/m, Sreg: the selector, zero-extended to a register's operand size (a memory store is 16-bit). */
export function movFromSeg(c: Cpu, ins: Insn): boolean {
  if (ins.r1 > Seg.GS) c.fault(Vec.UD, -1);
  return storeSel(c, ins, c.segSel[ins.r1]);
}

/** A selector to r/m: a memory store is 16-bit, a register is written at its operand size, zero-extended. */
function storeSel(c: Cpu, ins: Insn, sel: number): boolean {
  if (ins.k0 === K.Mem) {
    const a = c.ea(ins, 2, true);
    c.wr(a, 2, sel, 0);
    c.cache.access(a, 2);
  } else c.sr(ins.r0, ins.size, sel, 0);
  c.rip += ins.len;
  return true;
}

/** MOV Sreg, r/m16: CS is #UD; the load and its checks are descriptors.ts loadDataSeg. */
export function movToSeg(c: Cpu, ins: Insn): boolean {
  if (ins.r0 > Seg.GS || ins.r0 === Seg.CS) c.fault(Vec.UD, -1);
  c.ld(ins, ins.k1, ins.r1, 2, false);
  c.loadDataSeg(ins.r0, c.aLo & 0xffff);
  // A MOV to SS holds off interrupts until the next instruction has run (SDM MOV).
  if (ins.r0 === Seg.SS) c.inhibit = true;
  c.rip += ins.len;
  return true;
}

/** LGDT/LIDT (sub 2/3): limit and base from memory, 10 bytes in 64-bit mode, else 6 (a 16-bit operand
 *  size keeps 24 bits of the base). */
export function loadDtr(c: Cpu, ins: Insn): boolean {
  if (c.cpl > 0) c.fault(Vec.GP, 0);
  const n = ins.mode === 64 ? 10 : 6;
  const a = c.ea(ins, n, false);
  c.cache.access(a, n);
  const limit = c.dv.getUint16(a, true);
  let lo = c.dv.getUint32(a + 2, true);
  const hi = n === 10 ? c.dv.getUint32(a + 6, true) : 0;
  if (n === 6 && ins.size === 2) lo &= 0xffffff;
  if (ins.mnemonic === "lgdt") {
    c.gdtLimit = limit;
    c.gdtBaseLo = lo;
    c.gdtBaseHi = hi;
  } else {
    c.idtLimit = limit;
    c.idtBaseLo = lo;
    c.idtBaseHi = hi;
  }
  c.rip += ins.len;
  return true;
}

/** SGDT/SIDT: store limit and base (10 bytes in 64-bit mode, else 6). Not privileged (no UMIP here). */
export function storeDtr(c: Cpu, ins: Insn): boolean {
  const n = ins.mode === 64 ? 10 : 6;
  const a = c.ea(ins, n, true);
  const g = ins.mnemonic === "sgdt";
  c.wr(a, 2, g ? c.gdtLimit : c.idtLimit, 0);
  c.wr(a + 2, 4, g ? c.gdtBaseLo : c.idtBaseLo, 0);
  if (n === 10) c.wr(a + 6, 4, g ? c.gdtBaseHi : c.idtBaseHi, 0);
  c.cache.access(a, n);
  c.rip += ins.len;
  return true;
}

/** SLDT/STR: the LDTR/TR selector to r/m (memory: 16 bits; a register: zero-extended). */
export function storeSystemSel(c: Cpu, ins: Insn): boolean {
  return storeSel(c, ins, ins.mnemonic === "str" ? c.trSel : c.ldtSel);
}

/** LLDT/LTR: CPL 0; descriptors.ts checks and loads. */
export function loadSystemSel(c: Cpu, ins: Insn): boolean {
  if (c.cpl > 0) c.fault(Vec.GP, 0);
  c.ld(ins, ins.k0, ins.r0, 2, false);
  if (ins.mnemonic === "ltr") c.loadTr(c.aLo & 0xffff);
  else c.loadLdt(c.aLo & 0xffff);
  c.rip += ins.len;
  return true;
}

/** JMP/CALL far: the selector and offset from the instruction (ptr16:16/32) or from memory (m16:16/32/64,
 *  offset first). */
export function farJmpCall(c: Cpu, ins: Insn): boolean {
  let offLo: number, offHi: number, sel: number;
  const s = ins.size;
  if (ins.k0 === K.Mem) {
    const a = c.ea(ins, s + 2, false);
    c.rd(a, s);
    offLo = c.aLo;
    offHi = c.aHi;
    sel = c.dv.getUint16(a + s, true);
    c.cache.access(a, s + 2);
  } else {
    offLo = ins.immLo;
    offHi = 0;
    sel = ins.immHi & 0xffff;
  }
  const next = c.rip + ins.len;
  const from = c.rip,
    cpl = c.cpl;
  c.farTransfer(sel, offLo, offHi, ins.mnemonic === "call" ? s : 0, next >>> 0, Math.floor(next / TWO32));
  if (c.lbr.on) c.lbr.record(LBR_SEL_FAR_BRANCH, from, c.rip, false, cpl);
  c.events.branches++;
  return true;
}

/** RET far (RETF, REX.W: RETFQ): pop the offset and CS (and, to an outer ring, RSP and SS). */
export function retFar(c: Cpu, ins: Insn): boolean {
  const from = c.rip,
    cpl = c.cpl;
  c.farReturn(ins.size, ins.k0 === K.Imm ? ins.immLo : 0);
  if (c.lbr.on) c.lbr.record(LBR_SEL_FAR_BRANCH, from, c.rip, false, cpl);
  c.events.branches++;
  return true;
}

/** PUSH Sreg: the selector, zero-extended to the stack operand size (SDM PUSH; some CPUs write only
 *  the low 16 bits of a 32/64-bit slot — here the whole slot is written). */
export function pushSeg(c: Cpu, ins: Insn): boolean {
  c.push(ins.size, c.segSel[ins.r0], 0);
  c.rip += ins.len;
  return true;
}

/** POP Sreg: the low 16 bits of the stack slot loaded as MOV Sreg loads them (descriptors.ts
 *  loadDataSeg); RSP moves only once the load succeeded. POP SS holds off interrupts for one instruction. */
export function popSeg(c: Cpu, ins: Insn): boolean {
  c.peek(ins.size, 0);
  c.loadDataSeg(ins.r0, c.aLo & 0xffff);
  c.addRsp(ins.size);
  if (ins.r0 === Seg.SS) c.inhibit = true;
  c.rip += ins.len;
  return true;
}

/** The rows of this family (semantics.ts). */
export const ROWS: readonly SemRow[] = [
  {
    op: Op.MovFromSeg,
    mnemonics: { mov: KEEP },
    form: (r) => r.operands[1] === "sreg",
    cycles: 1,
    reads: 0,
    writes: 0,
    faults: true,
    exec: movFromSeg,
  },
  {
    op: Op.MovToSeg,
    mnemonics: { mov: KEEP },
    form: (r) => r.operands[0] === "sreg",
    cycles: 10,
    reads: 0,
    writes: 0,
    faults: true,
    exec: movToSeg,
  },
  { op: Op.LoadDtr, mnemonics: { lgdt: KEEP }, cycles: 10, reads: 0, writes: 0, priv: Priv.Cpl0, exec: loadDtr },
  {
    op: Op.StoreDtr,
    mnemonics: { sgdt: KEEP, sidt: KEEP },
    cycles: 5,
    reads: 0,
    writes: 0,
    faults: true,
    exec: storeDtr,
  },
  {
    op: Op.StoreSystemSel,
    mnemonics: { sldt: KEEP, str: KEEP },
    cycles: 2,
    reads: 0,
    writes: 0,
    faults: true,
    exec: storeSystemSel,
  },
  {
    op: Op.LoadSystemSel,
    mnemonics: { lldt: KEEP, ltr: KEEP },
    cycles: 20,
    reads: 0,
    writes: 0,
    priv: Priv.Cpl0,
    exec: loadSystemSel,
  },
  {
    op: Op.FarJmpCall,
    mnemonics: { jmp: KEEP, call: KEEP },
    form: (r) => r.operands[0] === "mfar" || r.operands[0] === "ptr16:16/32",
    cycles: 20,
    reads: 0,
    writes: 0,
    branch: true,
    faults: true,
    exec: farJmpCall,
  },
  {
    op: Op.PushSeg,
    mnemonics: { push: KEEP },
    form: (r) => SREG_KIND[r.operands[0]] !== undefined,
    cycles: 2,
    reads: 0,
    writes: 0,
    faults: true,
    exec: pushSeg,
  },
  {
    op: Op.PopSeg,
    mnemonics: { pop: KEEP },
    form: (r) => SREG_KIND[r.operands[0]] !== undefined,
    cycles: 10,
    reads: 0,
    writes: 0,
    faults: true,
    exec: popSeg,
  },
  {
    op: Op.RetFar,
    mnemonics: { retf: KEEP, retfq: KEEP },
    cycles: 20,
    reads: 0,
    writes: 0,
    branch: true,
    faults: true,
    exec: retFar,
  },
];
