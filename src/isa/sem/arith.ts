/**
 * Semantic functions of the integer arithmetic operations (SDM Vol. 2 ADD…XOR, TEST, INC/DEC, NOT, NEG,
 * shifts and rotates, MUL/IMUL, DIV/IDIV, CBW/CWDE/CDQE, CWD/CDQ/CQO): operands in, alu.ts computes the
 * result and RFLAGS, the result out. Each returns true: the instruction retired (RIP is advanced).
 */
import { aluBin, aluIncDec, aluShift, AluOp, ShiftOp } from "../alu.js";
import { aluDoubleShift, aluRotateCarry } from "../alu-carry.js";
import { aluDiv, aluMul } from "../muldiv.js";
import type { Cpu } from "../cpu.js";
import { K, type Insn } from "../insn.js";
import { Vec } from "../state.js";
import { AF, CF, OF, PF, SF, STATUS, ZF } from "../flags.js";
import * as emit from "../jit-emit.js";
import type { OpcodeRow } from "../opcodes.js";
import { Op } from "../ops.js";
import { KEEP, type SemRow } from "./row.js";

/** ADD OR ADC SBB AND SUB XOR CMP (ins.sub = AluOp); CMP does not write its destination. */
export function alu(c: Cpu, ins: Insn): boolean {
  const s = ins.size,
    o = c.o;
  const a = c.ld(ins, ins.k0, ins.r0, s, ins.sub !== AluOp.Cmp);
  const dLo = c.aLo,
    dHi = c.aHi;
  c.ld(ins, ins.k1, ins.r1, s, false);
  o.fl = c.rflags;
  aluBin(o, ins.sub, s, dLo, dHi, c.aLo, c.aHi);
  c.rflags = o.fl;
  if (ins.sub !== AluOp.Cmp) c.st0(ins, a, s, o.lo, o.hi);
  c.rip += ins.len;
  return true;
}

/** TEST: AND without a destination. */
export function test(c: Cpu, ins: Insn): boolean {
  const s = ins.size,
    o = c.o;
  c.ld(ins, ins.k0, ins.r0, s, false);
  const dLo = c.aLo,
    dHi = c.aHi;
  c.ld(ins, ins.k1, ins.r1, s, false);
  o.fl = c.rflags;
  aluBin(o, AluOp.And, s, dLo, dHi, c.aLo, c.aHi);
  c.rflags = o.fl;
  c.rip += ins.len;
  return true;
}

/** INC (sub 0) / DEC (sub 1): CF unchanged. */
export function incDec(c: Cpu, ins: Insn): boolean {
  const s = ins.size,
    o = c.o;
  const a = c.ld(ins, ins.k0, ins.r0, s, true);
  o.fl = c.rflags;
  aluIncDec(o, ins.sub === 1, s, c.aLo, c.aHi);
  c.rflags = o.fl;
  c.st0(ins, a, s, o.lo, o.hi);
  c.rip += ins.len;
  return true;
}

/** NOT: no flags. */
export function not(c: Cpu, ins: Insn): boolean {
  const s = ins.size;
  const a = c.ld(ins, ins.k0, ins.r0, s, true);
  c.st0(ins, a, s, ~c.aLo >>> 0, ~c.aHi >>> 0);
  c.rip += ins.len;
  return true;
}

/** NEG: SUB 0, operand (CF = operand ≠ 0 falls out of the subtraction). */
export function neg(c: Cpu, ins: Insn): boolean {
  const s = ins.size,
    o = c.o;
  const a = c.ld(ins, ins.k0, ins.r0, s, true);
  o.fl = c.rflags;
  aluBin(o, AluOp.Sub, s, 0, 0, c.aLo, c.aHi);
  c.rflags = o.fl;
  c.st0(ins, a, s, o.lo, o.hi);
  c.rip += ins.len;
  return true;
}

/** ROL ROR SHL SHR SAR (ins.sub = ShiftOp), count from the immediate or CL. */
export function shift(c: Cpu, ins: Insn): boolean {
  const s = ins.size,
    o = c.o;
  const a = c.ld(ins, ins.k0, ins.r0, s, true);
  const dLo = c.aLo,
    dHi = c.aHi;
  const count = ins.k1 === K.Imm ? ins.immLo : c.regs[2] & 0xff;
  o.fl = c.rflags;
  aluShift(o, ins.sub, s, dLo, dHi, count);
  c.rflags = o.fl;
  c.st0(ins, a, s, o.lo, o.hi);
  c.rip += ins.len;
  return true;
}

/** RCL (sub 0) / RCR (sub 1), count from the immediate (1 or imm8) or CL. */
export function rotateCarry(c: Cpu, ins: Insn): boolean {
  const s = ins.size,
    o = c.o;
  const a = c.ld(ins, ins.k0, ins.r0, s, true);
  const count = ins.k1 === K.Imm ? ins.immLo : c.regs[2] & 0xff;
  o.fl = c.rflags;
  aluRotateCarry(o, ins.sub === 1, s, c.aLo, c.aHi, count);
  c.rflags = o.fl;
  c.st0(ins, a, s, o.lo, o.hi);
  c.rip += ins.len;
  return true;
}

/** SHLD (sub 0) / SHRD (sub 1): destination, source register, count from imm8 or CL. */
export function doubleShift(c: Cpu, ins: Insn): boolean {
  const s = ins.size,
    o = c.o;
  const a = c.ld(ins, ins.k0, ins.r0, s, true);
  const dLo = c.aLo,
    dHi = c.aHi;
  c.gr(ins.r1, s);
  const count = ins.k2 === K.Imm ? ins.immLo : c.regs[2] & 0xff;
  o.fl = c.rflags;
  aluDoubleShift(o, ins.sub === 1, s, dLo, dHi, c.aLo, c.aHi, count);
  c.rflags = o.fl;
  c.st0(ins, a, s, o.lo, o.hi);
  c.rip += ins.len;
  return true;
}

/** MUL / one-operand IMUL: rDX:rAX (AX for bytes) := rAX × operand. */
function mulAcc(c: Cpu, ins: Insn, signed: boolean): boolean {
  const s = ins.size,
    o = c.o;
  c.ld(ins, ins.k0, ins.r0, s, false);
  const bLo = c.aLo,
    bHi = c.aHi;
  c.gr(0, s);
  o.fl = c.rflags;
  aluMul(o, signed, s, c.aLo, c.aHi, bLo, bHi);
  c.rflags = o.fl;
  if (s === 1) c.sr(0, 2, (o.lo2 << 8) | o.lo, 0);
  else {
    c.sr(0, s, o.lo, o.hi);
    c.sr(2, s, o.lo2, o.hi2);
  }
  c.rip += ins.len;
  return true;
}
export const mul = (c: Cpu, ins: Insn): boolean => mulAcc(c, ins, false);
export const imul1 = (c: Cpu, ins: Insn): boolean => mulAcc(c, ins, true);

/** Two/three-operand IMUL: the destination register := (it, or the immediate) × the source. */
export function imul2(c: Cpu, ins: Insn): boolean {
  const s = ins.size,
    o = c.o;
  c.ld(ins, ins.k1, ins.r1, s, false);
  const bLo = c.aLo,
    bHi = c.aHi;
  if (ins.k2 === K.Imm) {
    c.aLo = ins.immLo;
    c.aHi = ins.immHi;
  } else c.gr(ins.r0, s);
  o.fl = c.rflags;
  aluMul(o, true, s, c.aLo, c.aHi, bLo, bHi);
  c.rflags = o.fl;
  c.sr(ins.r0, s, o.lo, o.hi);
  c.rip += ins.len;
  return true;
}

/** DIV / IDIV of rDX:rAX (AX for bytes); #DE on a zero divisor or quotient overflow (SDM DIV/IDIV). */
function divAcc(c: Cpu, ins: Insn, signed: boolean): boolean {
  const s = ins.size,
    o = c.o;
  c.ld(ins, ins.k0, ins.r0, s, false);
  const bLo = c.aLo,
    bHi = c.aHi;
  let ok: boolean;
  if (s === 1) ok = aluDiv(o, signed, 1, c.regs[0] & 0xffff, 0, 0, 0, bLo, 0);
  else {
    c.gr(0, s);
    const nLo = c.aLo,
      nHi = c.aHi;
    c.gr(2, s);
    ok = aluDiv(o, signed, s, nLo, nHi, c.aLo, c.aHi, bLo, bHi);
  }
  if (!ok) c.fault(Vec.DE, -1);
  if (s === 1) c.sr(0, 2, (o.lo2 << 8) | o.lo, 0);
  else {
    c.sr(0, s, o.lo, o.hi);
    c.sr(2, s, o.lo2, o.hi2);
  }
  c.rip += ins.len;
  return true;
}
export const div = (c: Cpu, ins: Insn): boolean => divAcc(c, ins, false);
export const idiv = (c: Cpu, ins: Insn): boolean => divAcc(c, ins, true);

/** CBW / CWDE / CDQE: sign-extend the lower half of rAX into rAX. */
export function cbw(c: Cpu, ins: Insn): boolean {
  const s = ins.size;
  const lo = c.regs[0];
  if (s === 2) c.sr(0, 2, ((lo << 24) >> 24) & 0xffff, 0);
  else if (s === 4) c.sr(0, 4, ((lo << 16) >> 16) >>> 0, 0);
  else c.sr(0, 8, lo, lo & 0x80000000 ? 0xffffffff : 0);
  c.rip += ins.len;
  return true;
}

/** CWD / CDQ / CQO: rDX := the sign of rAX. */
export function cwd(c: Cpu, ins: Insn): boolean {
  const s = ins.size,
    g = c.regs;
  let neg: boolean;
  if (s === 2) neg = (g[0] & 0x8000) !== 0;
  else if (s === 4) neg = (g[0] & 0x80000000) !== 0;
  else neg = (g[1] & 0x80000000) !== 0;
  c.sr(2, s, neg ? 0xffffffff : 0, neg ? 0xffffffff : 0);
  c.rip += ins.len;
  return true;
}

const LOGIC_AF = (ins: Insn) => (ins.sub === AluOp.Or || ins.sub === AluOp.And || ins.sub === AluOp.Xor ? AF : 0);
/** A shift's count: masked to 0 → no flag changes; in CL → unknown until run time (-1). */
const shiftCount = (ins: Insn) => (ins.k1 === K.Imm ? ins.immLo & (ins.size === 8 ? 63 : 31) : -1);
/** RCL/RCR's count after masking and the modulo-9/17 rule (0: nothing changes); -1 for CL. */
const rcxCount = (ins: Insn) => {
  if (ins.k1 !== K.Imm) return -1;
  const n = ins.immLo & (ins.size === 8 ? 63 : 31);
  return ins.size === 1 ? n % 9 : ins.size === 2 ? n % 17 : n;
};
/** SHLD/SHRD's masked count from imm8 (k2); -1 for CL. */
const shxdCount = (ins: Insn) => (ins.k2 === K.Imm ? ins.immLo & (ins.size === 8 ? 63 : 31) : -1);
/** SHLD/SHRD of a word by more than 16: result and flags undefined (SDM "SHLD"). */
const shxdOver = (ins: Insn) => ins.size === 2 && shxdCount(ins) > 16;
const isRotate = (ins: Insn) => ins.sub === ShiftOp.Rol || ins.sub === ShiftOp.Ror;
/** The rows of this family (semantics.ts). */
export const ROWS: readonly SemRow[] = [
  {
    op: Op.Alu,
    mnemonics: {
      add: AluOp.Add,
      or: AluOp.Or,
      adc: AluOp.Adc,
      sbb: AluOp.Sbb,
      and: AluOp.And,
      sub: AluOp.Sub,
      xor: AluOp.Xor,
      cmp: AluOp.Cmp,
    },
    cycles: 1,
    reads: (ins) => (ins.sub === AluOp.Adc || ins.sub === AluOp.Sbb ? CF : 0),
    writes: (ins) => STATUS & ~LOGIC_AF(ins),
    undefined: LOGIC_AF,
    undefinedValue: "AF = 0",
    exec: alu,
    compile: emit.alu,
  },
  {
    op: Op.Test,
    mnemonics: { test: 0 },
    cycles: 1,
    reads: 0,
    writes: STATUS & ~AF,
    undefined: AF,
    undefinedValue: "AF = 0",
    exec: test,
    compile: emit.test,
  },
  {
    op: Op.IncDec,
    mnemonics: { inc: 0, dec: 1 },
    cycles: 1,
    reads: 0,
    writes: STATUS & ~CF,
    exec: incDec,
    compile: emit.incDec,
  },
  { op: Op.Not, mnemonics: { not: 0 }, cycles: 1, reads: 0, writes: 0, exec: not, compile: emit.not },
  { op: Op.Neg, mnemonics: { neg: 0 }, cycles: 1, reads: 0, writes: STATUS, exec: neg, compile: emit.neg },
  {
    op: Op.Shift,
    mnemonics: { rol: ShiftOp.Rol, ror: ShiftOp.Ror, shl: ShiftOp.Shl, shr: ShiftOp.Shr, sar: ShiftOp.Sar },
    cycles: 1,
    // A count in CL may be 0 at run time, and then every flag passes through unchanged.
    reads: (ins) => (shiftCount(ins) < 0 ? STATUS : 0),
    writes: (ins) => {
      const n = shiftCount(ins);
      if (n <= 0) return 0;
      const w = isRotate(ins) ? CF | OF : STATUS & ~AF;
      return n === 1 ? w : w & ~OF;
    },
    undefined: (ins) => {
      const n = shiftCount(ins);
      if (n <= 0) return 0;
      return (isRotate(ins) ? 0 : AF) | (n === 1 ? 0 : OF);
    },
    undefinedValue: "AF = 0; OF by the count-1 formula for every count",
    exec: shift,
    compile: emit.shift,
  },
  {
    op: Op.Rcx,
    mnemonics: { rcl: 0, rcr: 1 },
    cycles: 3,
    // CF rotates in; with a count of 0 at run time (CL, or a multiple of 9/17) CF and OF pass through.
    reads: CF | OF,
    writes: (ins) => {
      const n = rcxCount(ins);
      return n <= 0 ? 0 : n === 1 ? CF | OF : CF;
    },
    undefined: (ins) => (rcxCount(ins) > 1 ? OF : 0),
    undefinedValue: "OF by the count-1 formula (alu-carry.ts)",
    exec: rotateCarry,
    compile: emit.viaExec,
  },
  {
    op: Op.Shxd,
    mnemonics: { shld: 0, shrd: 1 },
    cycles: 3,
    reads: (ins) => (shxdCount(ins) < 0 ? STATUS : 0),
    writes: (ins) => {
      const n = shxdCount(ins);
      if (n <= 0 || shxdOver(ins)) return 0;
      return n === 1 ? STATUS & ~AF : CF | SF | ZF | PF;
    },
    undefined: (ins) => {
      const n = shxdCount(ins);
      if (n <= 0) return 0;
      return shxdOver(ins) ? STATUS : AF | (n === 1 ? 0 : OF);
    },
    undefinedValue: "AF = 0; OF by the count-1 formula; a word shifted by 17..31 shifts dest:src:dest (alu-carry.ts)",
    exec: doubleShift,
    compile: emit.viaExec,
  },
  ...(
    [
      { op: Op.Mul1, mnemonics: { mul: 0 }, exec: mul, compile: emit.mul },
      {
        op: Op.Imul1,
        mnemonics: { imul: KEEP },
        form: (r: OpcodeRow) => r.operands.length === 1,
        exec: imul1,
        compile: emit.imul1,
      },
      { op: Op.Div, mnemonics: { div: 0 }, faults: true, exec: div, compile: emit.div },
      { op: Op.Idiv, mnemonics: { idiv: 0 }, faults: true, exec: idiv, compile: emit.idiv },
      {
        op: Op.Imul2,
        mnemonics: { imul: KEEP },
        form: (r: OpcodeRow) => r.operands.length > 1,
        exec: imul2,
        compile: emit.imul2,
      },
    ] as Pick<SemRow, "op" | "mnemonics" | "form" | "exec" | "compile">[]
  ).map((r): SemRow => {
    const isDiv = r.op === Op.Div || r.op === Op.Idiv;
    return isDiv
      ? { ...r, cycles: 25, reads: 0, writes: 0, undefined: STATUS, undefinedValue: "unchanged" }
      : {
          ...r,
          cycles: 3,
          reads: 0,
          writes: CF | OF,
          undefined: SF | ZF | AF | PF,
          undefinedValue: "SF, ZF, PF of the low half; AF = 0",
        };
  }),
  { op: Op.Cbw, mnemonics: { cbw: 0, cwde: 0, cdqe: 0 }, cycles: 1, reads: 0, writes: 0, exec: cbw },
  { op: Op.Cwd, mnemonics: { cwd: 0, cdq: 0, cqo: 0 }, cycles: 1, reads: 0, writes: 0, exec: cwd },
];
