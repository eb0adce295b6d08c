/**
 * Semantic functions of the cache-control and transactional instructions (SDM Vol. 2 WBINVD, INVD,
 * XBEGIN, XEND, XABORT, XTEST). No transaction ever runs: with RTM advertised (cpu.cpuidFeatures, set
 * from the guest's CPUID), XBEGIN aborts at once — the SDM allows an abort for any reason — so RTM_ACTIVE
 * stays 0: EAX := the abort status (0: not an XABORT, no retry hint, not a conflict, not capacity, not a
 * debug or nested abort) and RIP := the fallback address. Without RTM they are #UD (XTEST without RTM
 * and HLE). Each returns true: the instruction retired.
 */
import type { Cpu } from "../cpu.js";
import type { Insn } from "../insn.js";
import { STATUS, ZF } from "../flags.js";
import { Vec } from "../state.js";
import { Op } from "../ops.js";
import { Priv, type SemRow } from "./row.js";

/** WBINVD (sub 0) / INVD (sub 1): #GP(0) at CPL > 0 (the row's priv); every line leaves the caches. */
export function wbinvd(c: Cpu, ins: Insn): boolean {
  if (c.cpl > 0) c.fault(Vec.GP, 0);
  c.cache.flushAll();
  c.rip += ins.len;
  return true;
}

function needRtm(c: Cpu): void {
  if (!c.cpuidFeatures.rtm) c.fault(Vec.UD, -1);
}

/** XBEGIN rel32: the transaction aborts immediately; EAX := 0 (the abort status), RIP := the fallback. */
export function xbegin(c: Cpu, ins: Insn): boolean {
  needRtm(c);
  c.sr(0, 4, 0, 0);
  c.rip = ins.target;
  return true;
}

/** XEND outside a transaction (always, here): #GP(0) (SDM XEND: "RTM_ACTIVE = 0"). */
export function xend(c: Cpu, _ins: Insn): boolean {
  needRtm(c);
  return c.fault(Vec.GP, 0);
}

/** XABORT imm8 outside a transaction: a NOP (SDM XABORT). */
export function xabort(c: Cpu, ins: Insn): boolean {
  needRtm(c);
  c.rip += ins.len;
  return true;
}

/** XTEST: ZF := 1 (no transaction is active); CF OF SF PF AF := 0. #UD unless RTM or HLE. */
export function xtest(c: Cpu, ins: Insn): boolean {
  if (!c.cpuidFeatures.rtm && !c.cpuidFeatures.hle) c.fault(Vec.UD, -1);
  c.rflags = (c.rflags & ~STATUS) | ZF;
  c.rip += ins.len;
  return true;
}

/** The rows of this family (semantics.ts). */
export const ROWS: readonly SemRow[] = [
  {
    op: Op.Wbinvd,
    mnemonics: { wbinvd: 0, invd: 1 },
    cycles: 100,
    reads: 0,
    writes: 0,
    priv: Priv.Cpl0,
    exec: wbinvd,
    memSize: () => 0,
  },
  { op: Op.Xbegin, mnemonics: { xbegin: 0 }, cycles: 10, reads: 0, writes: 0, faults: true, exec: xbegin },
  { op: Op.Xend, mnemonics: { xend: 0 }, cycles: 10, reads: 0, writes: 0, faults: true, exec: xend },
  { op: Op.Xabort, mnemonics: { xabort: 0 }, cycles: 1, reads: 0, writes: 0, faults: true, exec: xabort },
  { op: Op.Xtest, mnemonics: { xtest: 0 }, cycles: 1, reads: 0, writes: STATUS, faults: true, exec: xtest },
];
