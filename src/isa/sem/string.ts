/**
 * Semantic functions of the string instructions (SDM Vol. 2 MOVS, CMPS, STOS, LODS, SCAS, INS, OUTS and
 * "REP/REPE/REPZ/REPNE/REPNZ"): one element per iteration at RSI/RDI (ESI/EDI with 0x67), stepping by the
 * element size up or down by RFLAGS.DF, counted in RCX (ECX) under a REP prefix.
 *
 * A REP instruction retires once, when it completes (SDM Vol. 3 §18 / perf: INST_RETIRED counts
 * instructions, not iterations). Between iterations it is interruptible (SDM "REP" and Vol. 1 §7.3.9.4
 * "... can be suspended by an exception or interrupt ... the registers are preserved to allow the
 * string operation to be resumed"): when an interrupt is pending and IF = 1 the iteration loop stops with
 * RIP still on the instruction, so the interrupt is delivered there and IRET re-executes the instruction
 * with the remaining count. A fault in an iteration likewise leaves the completed iterations' registers.
 * So that a long REP does not hide cycles from the PMU (uarch.ts MAX_CYCLES_PER_INSTRUCTION), the loop
 * also stops after REP_CHUNK_CYCLES cycles and returns to the caller (StopReason.Budget), which resumes
 * it. Cycles: the row's base cost when the instruction retires, plus 1 per iteration after the first,
 * plus the cache penalties of every element access.
 */
import { aluBin, AluOp } from "../alu.js";
import type { Cpu } from "../cpu.js";
import type { Insn } from "../insn.js";
import { DF, IF, STATUS, ZF } from "../flags.js";
import { StopReason, TWO32, Vec } from "../state.js";
import { PlatformAction } from "../platform.js";
import { Op } from "../ops.js";
import { Priv, type SemRow } from "./row.js";

/** MOVS (sub 0), CMPS (1), STOS (2), LODS (3), SCAS (4); INS (0) / OUTS (1) in StrIo. */
export const StrOp = { Movs: 0, Cmps: 1, Stos: 2, Lods: 3, Scas: 4 } as const;

/** Cycles a REP runs in one go before it returns to the run loop's caller (see the file comment). */
export const REP_CHUNK_CYCLES = 1000;

const RCX = 1,
  RSI = 6,
  RDI = 7;

/** Element size: the even opcode of each pair is the byte form (A4/A6/AA/AC/AE, 6C/6E). */
const elemSize = (ins: Insn): number => ((ins.row!.opcode[0] & 1) === 0 ? 1 : ins.size);

/** The RAM offset of the element at register r (the address size's part of it). */
function at(c: Cpu, ins: Insn, r: number, s: number, write: boolean): number {
  const g = c.regs;
  return c.check(g[2 * r], ins.addr32 ? 0 : g[2 * r + 1], s, write, false);
}

/** r += d (±element size) at the address size (a 32-bit update zero-extends). */
function step(c: Cpu, ins: Insn, r: number, d: number): void {
  const g = c.regs;
  let lo = g[2 * r] + d;
  if (ins.addr32) {
    g[2 * r] = lo >>> 0;
    g[2 * r + 1] = 0;
    return;
  }
  let hi = g[2 * r + 1];
  if (lo < 0) {
    lo += TWO32;
    hi = (hi - 1) >>> 0;
  } else if (lo > 0xffffffff) {
    lo -= TWO32;
    hi = (hi + 1) >>> 0;
  }
  g[2 * r] = lo;
  g[2 * r + 1] = hi;
}

/** Read the element at register r into aLo/aHi (one cache access). */
function readAt(c: Cpu, ins: Insn, r: number, s: number): void {
  const a = at(c, ins, r, s, false);
  c.rd(a, s);
  c.cache.access(a, s);
}

/** One element of MOVS/CMPS/STOS/LODS/SCAS. */
function element(c: Cpu, ins: Insn, s: number, d: number): void {
  const o = c.o;
  switch (ins.sub) {
    case StrOp.Movs: {
      readAt(c, ins, RSI, s);
      const a = at(c, ins, RDI, s, true);
      c.wr(a, s, c.aLo, c.aHi);
      c.cache.access(a, s);
      step(c, ins, RSI, d);
      step(c, ins, RDI, d);
      return;
    }
    case StrOp.Cmps: {
      // SDM CMPS: temp := SRC1 ([RSI]) − SRC2 ([RDI]).
      readAt(c, ins, RSI, s);
      const lo = c.aLo,
        hi = c.aHi;
      readAt(c, ins, RDI, s);
      o.fl = c.rflags;
      aluBin(o, AluOp.Sub, s, lo, hi, c.aLo, c.aHi);
      c.rflags = o.fl;
      step(c, ins, RSI, d);
      step(c, ins, RDI, d);
      return;
    }
    case StrOp.Stos: {
      const a = at(c, ins, RDI, s, true);
      c.gr(0, s);
      c.wr(a, s, c.aLo, c.aHi);
      c.cache.access(a, s);
      step(c, ins, RDI, d);
      return;
    }
    case StrOp.Lods:
      readAt(c, ins, RSI, s);
      c.sr(0, s, c.aLo, c.aHi);
      step(c, ins, RSI, d);
      return;
    default: {
      // SCAS: temp := rAX − [RDI].
      readAt(c, ins, RDI, s);
      const lo = c.aLo,
        hi = c.aHi;
      c.gr(0, s);
      o.fl = c.rflags;
      aluBin(o, AluOp.Sub, s, c.aLo, c.aHi, lo, hi);
      c.rflags = o.fl;
      step(c, ins, RDI, d);
    }
  }
}

/** The count register is zero (at the address size). */
function countZero(c: Cpu, ins: Insn): boolean {
  const g = c.regs;
  return ins.addr32 ? g[2 * RCX] === 0 : (g[2 * RCX] | g[2 * RCX + 1]) === 0;
}

function decCount(c: Cpu, ins: Insn): void {
  step(c, ins, RCX, -1);
}

/** Leave a REP between iterations (RIP stays on it): a deliverable interrupt is pending, or the chunk's
 *  cycles are spent (then the run loop returns to its caller, which resumes it). */
function mustPause(c: Cpu, spent: number): boolean {
  if (c.irqCount > 0 && (c.rflags & IF) !== 0) return true;
  if (spent >= REP_CHUNK_CYCLES) {
    c.stopReq = StopReason.Budget;
    return true;
  }
  return false;
}

/** MOVS CMPS STOS LODS SCAS, with REP (F3: REPE for CMPS/SCAS) or REPNE (F2). */
export function stringOp(c: Cpu, ins: Insn): boolean {
  const s = elemSize(ins);
  const d = (c.rflags & DF) !== 0 ? -s : s;
  if (ins.rep === 0) {
    element(c, ins, s, d);
    c.rip += ins.len;
    return true;
  }
  // F2 on MOVS/STOS/LODS repeats like F3 (only CMPS/SCAS test ZF).
  const cmp = ins.sub === StrOp.Cmps || ins.sub === StrOp.Scas;
  const ev = c.events;
  const start = ev.cycles;
  let first = true;
  while (!countZero(c, ins)) {
    if (!first) {
      ev.cycles++;
      ev.uops++; // uops.ts: one µop per further iteration
    }
    first = false;
    element(c, ins, s, d);
    decCount(c, ins);
    if (cmp && ((c.rflags & ZF) !== 0) !== (ins.rep === 0xf3)) break;
    if (countZero(c, ins)) break;
    if (mustPause(c, ev.cycles - start)) return false;
  }
  c.rip += ins.len;
  return true;
}

/** A platform action other than Retire/Skip for an INS/OUTS element that is not the last: the stop it
 *  asks for (the instruction resumes from RIP with the remaining count). */
function ioStop(a: PlatformAction): number {
  if (a === PlatformAction.Exit) return StopReason.Exit;
  if (a === PlatformAction.Halt) return StopReason.Halted;
  if (a === PlatformAction.RetireAndStop) return StopReason.Budget;
  return -1;
}

/**
 * INS (sub 0) / OUTS (sub 1) through the platform's port interface, port DX, with or without REP. SDM
 * INS/OUTS: #GP(0) if CPL > IOPL (no TSS I/O bitmap here). The platform is asked once per element; an
 * injected fault leaves that element undone; the last element's answer completes the instruction as for
 * IN/OUT; an exit on an earlier one completes that element and stops with RIP on the instruction.
 */
export function stringIo(c: Cpu, ins: Insn): boolean {
  if (c.cpl > c.iopl) c.fault(Vec.GP, 0);
  const s = elemSize(ins) as 1 | 2 | 4;
  const d = (c.rflags & DF) !== 0 ? -s : s;
  const g = c.regs;
  const port = g[4] & 0xffff;
  const rep = ins.rep !== 0;
  if (rep && countZero(c, ins)) {
    c.rip += ins.len;
    return true;
  }
  const ev = c.events;
  const start = ev.cycles;
  for (let first = true; ; first = false) {
    if (!first) {
      ev.cycles++;
      ev.uops++;
    }
    let act: PlatformAction;
    if (ins.sub === 0) {
      // The platform returns IN's value in AL/AX/EAX (platform.ts); RAX is restored after the store.
      const a = at(c, ins, RDI, s, true);
      const raxLo = g[0],
        raxHi = g[1];
      act = c.platform.portIn(c, port, s, ins.len);
      const v = s === 1 ? g[0] & 0xff : s === 2 ? g[0] & 0xffff : g[0];
      g[0] = raxLo;
      g[1] = raxHi;
      if (act === PlatformAction.InjectGP || act === PlatformAction.InjectUD) return c.act(act, ins);
      c.wr(a, s, v, 0);
      c.cache.access(a, s);
    } else {
      readAt(c, ins, RSI, s);
      act = c.platform.portOut(c, port, s, c.aLo, ins.len);
      if (act === PlatformAction.InjectGP || act === PlatformAction.InjectUD) return c.act(act, ins);
    }
    step(c, ins, ins.sub === 0 ? RDI : RSI, d);
    if (rep) decCount(c, ins);
    if (!rep || countZero(c, ins)) return c.act(act, ins);
    if (act !== PlatformAction.Retire && act !== PlatformAction.Skip) {
      c.stopReq = ioStop(act);
      return false;
    }
    if (mustPause(c, ev.cycles - start)) return false;
  }
}

/** The rows of this family (semantics.ts). */
export const ROWS: readonly SemRow[] = [
  {
    op: Op.Str,
    mnemonics: Object.fromEntries(
      ["movs", "cmps", "stos", "lods", "scas"].flatMap((m, i) => ["b", "w", "d", "q"].map((x) => [m + x, i])),
    ),
    cycles: 1,
    reads: (ins) => (ins.sub === StrOp.Cmps || ins.sub === StrOp.Scas ? (ins.rep !== 0 ? STATUS : 0) : 0),
    writes: (ins) => (ins.sub === StrOp.Cmps || ins.sub === StrOp.Scas ? STATUS : 0),
    faults: true,
    exec: stringOp,
  },
  {
    op: Op.StrIo,
    mnemonics: Object.fromEntries(["ins", "outs"].flatMap((m, i) => ["b", "w", "d"].map((x) => [m + x, i]))),
    cycles: 50,
    reads: STATUS,
    writes: 0,
    platform: true,
    priv: Priv.Iopl,
    faults: true,
    exec: stringIo,
  },
];
