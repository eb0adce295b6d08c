/**
 * Semantic functions of the control transfers (SDM Vol. 2 CALL, RET, JMP, Jcc, LOOP/LOOPcc, JRCXZ,
 * INT3, IRETQ): each sets RIP, counts the retired branch and tells the branch predictor (uarch.ts); while
 * the LBR stack records (lbr.ts, `c.lbr.on`) a taken branch is recorded with its LBR_SELECT type.
 * Each returns true: the instruction retired.
 */
import type { Cpu } from "../cpu.js";
import { K, type Insn } from "../insn.js";
import { ZF, condition } from "../flags.js";
import { TWO32, Vec, canonical, linearNumber } from "../state.js";
import { STATUS } from "../flags.js";
import * as emit from "../jit-emit.js";
import { Op } from "../ops.js";
import { KEEP, type SemRow, ccNames } from "./row.js";
import {
  LBR_SEL_FAR_BRANCH,
  LBR_SEL_JCC,
  LBR_SEL_NEAR_IND_CALL,
  LBR_SEL_NEAR_IND_JMP,
  LBR_SEL_NEAR_REL_CALL,
  LBR_SEL_NEAR_REL_JMP,
  LBR_SEL_NEAR_RET,
} from "../lbr.js";

/** The size of a near branch's stack slot and target: 8 in 64-bit mode (a 66 prefix is ignored there,
 *  as Intel CPUs do), else the operand size (SDM CALL/RET/JMP "OperandSize"). */
const nearSize = (ins: Insn): number => (ins.mode === 64 ? 8 : ins.size);

/** EIP after a near transfer outside 64-bit mode: a 16-bit operand size clears bits 31:16. */
const legacyTarget = (ins: Insn, lo: number): number => (ins.size === 2 ? lo & 0xffff : lo >>> 0);

export function call(c: Cpu, ins: Insn): boolean {
  const next = c.rip + ins.len;
  c.push(nearSize(ins), next >>> 0, Math.floor(next / TWO32));
  if (c.lbr.on) c.lbr.record(LBR_SEL_NEAR_REL_CALL, c.rip, ins.target, false, c.cpl);
  c.rip = ins.target;
  c.events.branches++;
  c.predictor.call(next);
  return true;
}

export function callInd(c: Cpu, ins: Insn): boolean {
  const next = c.rip + ins.len;
  const s = nearSize(ins);
  c.ld(ins, ins.k0, ins.r0, s, false);
  const tLo = c.aLo,
    tHi = c.aHi;
  if (!canonical(tHi)) c.fault(Vec.GP, 0);
  c.push(s, next >>> 0, Math.floor(next / TWO32));
  const t = s === 8 ? linearNumber(tLo, tHi) : legacyTarget(ins, tLo);
  c.events.branches++;
  const miss = c.predictor.indirectBranch(c.rip, t);
  c.predictor.call(next);
  if (c.lbr.on) c.lbr.record(LBR_SEL_NEAR_IND_CALL, c.rip, t, miss, c.cpl);
  c.rip = t;
  return true;
}

export function ret(c: Cpu, ins: Insn): boolean {
  const s = nearSize(ins);
  c.peek(s, 0);
  if (!canonical(c.aHi)) c.fault(Vec.GP, 0);
  const t = s === 8 ? linearNumber(c.aLo, c.aHi) : legacyTarget(ins, c.aLo);
  c.addRsp(s + (ins.k0 === K.Imm ? ins.immLo : 0));
  c.events.branches++;
  const miss = c.predictor.ret(t);
  if (c.lbr.on) c.lbr.record(LBR_SEL_NEAR_RET, c.rip, t, miss, c.cpl);
  c.rip = t;
  return true;
}

export function jmp(c: Cpu, ins: Insn): boolean {
  if (c.lbr.on) c.lbr.record(LBR_SEL_NEAR_REL_JMP, c.rip, ins.target, false, c.cpl);
  c.rip = ins.target;
  c.events.branches++;
  return true;
}

export function jmpInd(c: Cpu, ins: Insn): boolean {
  const s = nearSize(ins);
  c.ld(ins, ins.k0, ins.r0, s, false);
  if (!canonical(c.aHi)) c.fault(Vec.GP, 0);
  const t = s === 8 ? linearNumber(c.aLo, c.aHi) : legacyTarget(ins, c.aLo);
  c.events.branches++;
  const miss = c.predictor.indirectBranch(c.rip, t);
  if (c.lbr.on) c.lbr.record(LBR_SEL_NEAR_IND_JMP, c.rip, t, miss, c.cpl);
  c.rip = t;
  return true;
}

function conditional(c: Cpu, ins: Insn, taken: boolean): boolean {
  c.events.branches++;
  const miss = c.predictor.conditional(c.rip, taken, ins.target);
  if (taken && c.lbr.on) c.lbr.record(LBR_SEL_JCC, c.rip, ins.target, miss, c.cpl);
  c.rip = taken ? ins.target : c.rip + ins.len;
  return true;
}

export function jcc(c: Cpu, ins: Insn): boolean {
  return conditional(c, ins, condition(ins.cc, c.rflags));
}

/** LOOP (sub 0), LOOPE (1), LOOPNE (2): decrement rCX (ECX or CX by the address size) without changing
 *  flags. */
export function loop(c: Cpu, ins: Insn): boolean {
  const g = c.regs;
  let zero: boolean;
  if (ins.asize === 2) {
    const cx = (g[2] - 1) & 0xffff;
    g[2] = (g[2] & 0xffff0000) | cx;
    zero = cx === 0;
  } else if (ins.addr32) {
    g[2] = (g[2] - 1) >>> 0;
    g[3] = 0;
    zero = g[2] === 0;
  } else {
    if (g[2] === 0) g[3] = (g[3] - 1) >>> 0;
    g[2] = (g[2] - 1) >>> 0;
    zero = (g[2] | g[3]) === 0;
  }
  const taken = ins.sub === 0 ? !zero : ins.sub === 1 ? !zero && (c.rflags & ZF) !== 0 : !zero && (c.rflags & ZF) === 0;
  return conditional(c, ins, taken);
}

export function jrcxz(c: Cpu, ins: Insn): boolean {
  const g = c.regs;
  return conditional(c, ins, ins.asize === 2 ? (g[2] & 0xffff) === 0 : ins.addr32 ? g[2] === 0 : (g[2] | g[3]) === 0);
}

/** A trap: INT3 / INT n retires, then #BP / vector n is delivered as a software interrupt with RIP of the
 *  next instruction (SDM "INT n/INTO/INT3/INT1": the gate's DPL is checked against CPL, EXT = 0). */
export function int3(c: Cpu, ins: Insn): boolean {
  c.rip += ins.len;
  c.events.branches++;
  c.trap = ins.sub === 0 ? Vec.BP : ins.immLo & 0xff;
  return true;
}

/** IRETW/IRETD/IRETQ by operand size (interrupts.ts iret). */
export function iretq(c: Cpu, ins: Insn): boolean {
  const from = c.rip,
    cpl = c.cpl;
  c.iret(ins.size);
  if (c.lbr.on) c.lbr.record(LBR_SEL_FAR_BRANCH, from, c.rip, false, cpl);
  c.events.branches++;
  return true;
}

/** The rows of this family (semantics.ts). */
export const ROWS: readonly SemRow[] = [
  {
    op: Op.Call,
    faults: true,
    mnemonics: { call: KEEP },
    form: (r) => r.operands[0] === "rel32",
    cycles: 1,
    reads: 0,
    writes: 0,
    branch: true,
    exec: call,
    compile: emit.call,
  },
  {
    op: Op.CallInd,
    faults: true,
    mnemonics: { call: KEEP },
    form: (r) => r.operands[0] === "rm64",
    cycles: 1,
    reads: 0,
    writes: 0,
    branch: true,
    exec: callInd,
  },
  {
    op: Op.Ret,
    faults: true,
    mnemonics: { ret: 0 },
    cycles: 1,
    reads: 0,
    writes: 0,
    branch: true,
    exec: ret,
    compile: emit.ret,
  },
  {
    op: Op.Jmp,
    mnemonics: { jmp: KEEP },
    form: (r) => r.operands[0] === "rel8" || r.operands[0] === "rel32",
    cycles: 1,
    reads: 0,
    writes: 0,
    branch: true,
    exec: jmp,
    compile: emit.jmp,
  },
  {
    op: Op.JmpInd,
    faults: true,
    mnemonics: { jmp: KEEP },
    form: (r) => r.operands[0] === "rm64",
    cycles: 1,
    reads: 0,
    writes: 0,
    branch: true,
    exec: jmpInd,
  },
  {
    op: Op.Jcc,
    mnemonics: ccNames("j"),
    cycles: 1,
    reads: STATUS,
    writes: 0,
    branch: true,
    exec: jcc,
    compile: emit.jcc,
  },
  {
    op: Op.Loop,
    mnemonics: { loop: 0, loope: 1, loopne: 2 },
    cycles: 1,
    reads: STATUS,
    writes: 0,
    branch: true,
    exec: loop,
    compile: emit.loop,
  },
  {
    op: Op.Jrcxz,
    mnemonics: { jrcxz: 0 },
    cycles: 1,
    reads: 0,
    writes: 0,
    branch: true,
    exec: jrcxz,
    compile: emit.jrcxz,
  },
  { op: Op.Int3, mnemonics: { int3: 0, int: 1 }, cycles: 20, reads: STATUS, writes: 0, branch: true, exec: int3 },
  {
    op: Op.Iretq,
    mnemonics: { iretq: 0, iretd: 0, iretw: 0, iret: 0 },
    cycles: 30,
    reads: 0,
    writes: STATUS,
    branch: true,
    faults: true,
    exec: iretq,
  },
];
