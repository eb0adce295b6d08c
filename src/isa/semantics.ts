/**
 * Semantics as data: one row per operation kind, read by the decoder (mnemonic → operation), the
 * interpreter (exec), the block compiler (flags read and written, branch, platform call, privilege
 * rule, and its specialisation `compile`), the cycle model and the docs. Facts: SDM Vol. 2 per-instruction
 * "Flags Affected" and "Protected Mode Exceptions"; the values given to "undefined" flags are this
 * model's (flags.ts lists them once). Cycles are the model's (uarch.ts, docs/cpu.md).
 */
import { AluOp, ShiftOp } from "./alu.js";
import type { Cpu } from "./cpu.js";
import * as control from "./control.js";
import { K, type Insn } from "./decode.js";
import { AF, CF, OF, PF, SF, STATUS, ZF } from "./flags.js";
import { CC_NAMES, type OpcodeRow } from "./opcodes.js";
import { Op } from "./ops.js";
import * as arith from "./sem/arith.js";
import * as branch from "./sem/branch.js";
import * as move from "./sem/move.js";
import * as stack from "./sem/stack.js";
import * as system from "./sem/system.js";

/** Executes `ins` at RIP: sets RIP, returns true if it retired natively (the run loop counts it).
 *  A fault throws (cpu.fault). */
export type Exec = (c: Cpu, ins: Insn) => boolean;

/** A set of RFLAGS status bits, fixed or depending on the decoded instruction. */
export type FlagSet = number | ((ins: Insn) => number);

/** The faults a row raises before anything else — and before any VM exit (SDM Vol. 3 "Relative priority
 *  of faults and VM exits"). */
export const Priv = {
  None: 0,
  /** #GP(0) if CPL > 0. */
  Cpl0: 1,
  /** #GP(0) if CPL > IOPL (no TSS I/O bitmap). */
  Iopl: 2,
  /** #GP(0) if CPL > 0 and CR4.PCE = 0. */
  Pce: 3,
  /** #GP(0) if CPL > 0 and CR4.TSD = 1. */
  Tsd: 4,
} as const;
export type Priv = (typeof Priv)[keyof typeof Priv];

export interface SemRow {
  readonly op: Op;
  /** Canonical opcode-row mnemonics (opcodes.ts) that decode to this operation → `insn.sub` (KEEP:
   *  the decoder's ModRM /digit stays). */
  readonly mnemonics: Readonly<Record<string, number>>;
  /** Which opcode rows of those mnemonics are this operation (default: all). */
  readonly form?: (row: OpcodeRow) => boolean;
  /** Base cycles of one retirement (uarch.ts model: before memory and mispredict penalties). */
  readonly cycles: number;
  /** Status flags the operation reads. */
  readonly reads: FlagSet;
  /** Status flags it defines (SDM "Flags Affected"). */
  readonly writes: FlagSet;
  /** Status flags the SDM leaves undefined, and what this model gives them (flags.ts). */
  readonly undefined?: FlagSet;
  readonly undefinedValue?: string;
  /** Retires as a branch (counts in events.branches; ends a compiled block). */
  readonly branch?: true;
  /** Asks the platform (platform.ts), which sees RFLAGS and the event totals exactly. */
  readonly platform?: true;
  /** The privilege fault checked first. */
  readonly priv?: Priv;
  readonly exec: Exec;
}

/** `insn.sub` stays the ModRM /digit the decoder put there. */
const KEEP = -1;
const ccNames = (prefix: string): Record<string, number> => Object.fromEntries(CC_NAMES.map((n) => [prefix + n, KEEP]));
const LOGIC_AF = (ins: Insn) => (ins.sub === AluOp.Or || ins.sub === AluOp.And || ins.sub === AluOp.Xor ? AF : 0);
/** A shift's count: masked to 0 → no flag changes; in CL → unknown until run time. */
const shiftCount = (ins: Insn) => (ins.k1 === K.Imm ? ins.immLo & (ins.size === 8 ? 63 : 31) : -1);
const isRotate = (ins: Insn) => ins.sub === ShiftOp.Rol || ins.sub === ShiftOp.Ror;

/** One row per operation (SEMANTICS below is this sorted by op; each op must have exactly one row). */
const ROWS: SemRow[] = [
  { op: Op.Invalid, mnemonics: {}, cycles: 0, reads: 0, writes: 0, exec: system.invalid },
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
    exec: arith.alu,
  },
  {
    op: Op.Test,
    mnemonics: { test: 0 },
    cycles: 1,
    reads: 0,
    writes: STATUS & ~AF,
    undefined: AF,
    undefinedValue: "AF = 0",
    exec: arith.test,
  },
  {
    op: Op.Mov,
    mnemonics: { mov: KEEP },
    form: (r) => !r.operands.includes("cr"),
    cycles: 1,
    reads: 0,
    writes: 0,
    exec: move.mov,
  },
  { op: Op.Movzx, mnemonics: { movzx: 0 }, cycles: 1, reads: 0, writes: 0, exec: move.movzx },
  { op: Op.Movsx, mnemonics: { movsx: 0, movsxd: 0 }, cycles: 1, reads: 0, writes: 0, exec: move.movsx },
  { op: Op.Lea, mnemonics: { lea: 0 }, cycles: 1, reads: 0, writes: 0, exec: move.lea },
  { op: Op.IncDec, mnemonics: { inc: 0, dec: 1 }, cycles: 1, reads: 0, writes: STATUS & ~CF, exec: arith.incDec },
  { op: Op.Not, mnemonics: { not: 0 }, cycles: 1, reads: 0, writes: 0, exec: arith.not },
  { op: Op.Neg, mnemonics: { neg: 0 }, cycles: 1, reads: 0, writes: STATUS, exec: arith.neg },
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
    exec: arith.shift,
  },
  ...(
    [
      { op: Op.Mul1, mnemonics: { mul: 0 }, exec: arith.mul },
      { op: Op.Imul1, mnemonics: { imul: KEEP }, form: (r: OpcodeRow) => r.operands.length === 1, exec: arith.imul1 },
      { op: Op.Div, mnemonics: { div: 0 }, exec: arith.div },
      { op: Op.Idiv, mnemonics: { idiv: 0 }, exec: arith.idiv },
      { op: Op.Imul2, mnemonics: { imul: KEEP }, form: (r: OpcodeRow) => r.operands.length > 1, exec: arith.imul2 },
    ] as Pick<SemRow, "op" | "mnemonics" | "form" | "exec">[]
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
  { op: Op.Cbw, mnemonics: { cbw: 0, cwde: 0, cdqe: 0 }, cycles: 1, reads: 0, writes: 0, exec: arith.cbw },
  { op: Op.Cwd, mnemonics: { cwd: 0, cdq: 0, cqo: 0 }, cycles: 1, reads: 0, writes: 0, exec: arith.cwd },
  { op: Op.Xchg, mnemonics: { xchg: 0 }, cycles: 1, reads: 0, writes: 0, exec: move.xchg },
  { op: Op.Push, mnemonics: { push: 0 }, cycles: 1, reads: 0, writes: 0, exec: stack.push },
  { op: Op.Pop, mnemonics: { pop: 0 }, cycles: 1, reads: 0, writes: 0, exec: stack.pop },
  { op: Op.Pushf, mnemonics: { pushfq: 0 }, cycles: 1, reads: STATUS, writes: 0, exec: stack.pushf },
  { op: Op.Popf, mnemonics: { popfq: 0 }, cycles: 9, reads: 0, writes: STATUS, exec: stack.popf },
  {
    op: Op.Call,
    mnemonics: { call: KEEP },
    form: (r) => r.operands[0] === "rel32",
    cycles: 1,
    reads: 0,
    writes: 0,
    branch: true,
    exec: branch.call,
  },
  {
    op: Op.CallInd,
    mnemonics: { call: KEEP },
    form: (r) => r.operands[0] !== "rel32",
    cycles: 1,
    reads: 0,
    writes: 0,
    branch: true,
    exec: branch.callInd,
  },
  { op: Op.Ret, mnemonics: { ret: 0 }, cycles: 1, reads: 0, writes: 0, branch: true, exec: branch.ret },
  {
    op: Op.Jmp,
    mnemonics: { jmp: KEEP },
    form: (r) => r.operands[0] !== "rm64",
    cycles: 1,
    reads: 0,
    writes: 0,
    branch: true,
    exec: branch.jmp,
  },
  {
    op: Op.JmpInd,
    mnemonics: { jmp: KEEP },
    form: (r) => r.operands[0] === "rm64",
    cycles: 1,
    reads: 0,
    writes: 0,
    branch: true,
    exec: branch.jmpInd,
  },
  { op: Op.Jcc, mnemonics: ccNames("j"), cycles: 1, reads: STATUS, writes: 0, branch: true, exec: branch.jcc },
  { op: Op.Setcc, mnemonics: ccNames("set"), cycles: 1, reads: STATUS, writes: 0, exec: move.setcc },
  { op: Op.Cmovcc, mnemonics: ccNames("cmov"), cycles: 1, reads: STATUS, writes: 0, exec: move.cmovcc },
  {
    op: Op.Loop,
    mnemonics: { loop: 0, loope: 1, loopne: 2 },
    cycles: 1,
    reads: STATUS,
    writes: 0,
    branch: true,
    exec: branch.loop,
  },
  { op: Op.Jrcxz, mnemonics: { jrcxz: 0 }, cycles: 1, reads: 0, writes: 0, branch: true, exec: branch.jrcxz },
  { op: Op.Nop, mnemonics: { nop: 0 }, cycles: 1, reads: 0, writes: 0, exec: system.nop },
  { op: Op.Pause, mnemonics: { pause: 0 }, cycles: 10, reads: 0, writes: 0, exec: system.nop },
  {
    op: Op.Hlt,
    mnemonics: { hlt: 0 },
    cycles: 1,
    reads: STATUS,
    writes: 0,
    platform: true,
    priv: Priv.Cpl0,
    exec: system.hlt,
  },
  { op: Op.Cli, mnemonics: { cli: 0 }, cycles: 2, reads: 0, writes: 0, priv: Priv.Iopl, exec: system.cli },
  { op: Op.Sti, mnemonics: { sti: 0 }, cycles: 2, reads: 0, writes: 0, priv: Priv.Iopl, exec: system.sti },
  { op: Op.Cpuid, mnemonics: { cpuid: 0 }, cycles: 100, reads: STATUS, writes: 0, platform: true, exec: system.cpuid },
  {
    op: Op.Rdmsr,
    mnemonics: { rdmsr: 0 },
    cycles: 50,
    reads: STATUS,
    writes: 0,
    platform: true,
    priv: Priv.Cpl0,
    exec: system.rdmsr,
  },
  {
    op: Op.Wrmsr,
    mnemonics: { wrmsr: 0 },
    cycles: 50,
    reads: STATUS,
    writes: 0,
    platform: true,
    priv: Priv.Cpl0,
    exec: system.wrmsr,
  },
  {
    op: Op.Rdpmc,
    mnemonics: { rdpmc: 0 },
    cycles: 30,
    reads: STATUS,
    writes: 0,
    platform: true,
    priv: Priv.Pce,
    exec: system.rdpmc,
  },
  {
    op: Op.Rdtsc,
    mnemonics: { rdtsc: 0 },
    cycles: 20,
    reads: STATUS,
    writes: 0,
    platform: true,
    priv: Priv.Tsd,
    exec: system.rdtsc,
  },
  {
    op: Op.Rdtscp,
    mnemonics: { rdtscp: 0 },
    cycles: 25,
    reads: STATUS,
    writes: 0,
    platform: true,
    priv: Priv.Tsd,
    exec: system.rdtscp,
  },
  { op: Op.Lfence, mnemonics: { lfence: 0 }, cycles: 4, reads: 0, writes: 0, exec: system.nop },
  { op: Op.Mfence, mnemonics: { mfence: 0 }, cycles: 10, reads: 0, writes: 0, exec: system.nop },
  { op: Op.Clflush, mnemonics: { clflush: 0 }, cycles: 5, reads: 0, writes: 0, exec: system.clflush },
  {
    op: Op.In,
    mnemonics: { in: 0 },
    cycles: 50,
    reads: STATUS,
    writes: 0,
    platform: true,
    priv: Priv.Iopl,
    exec: system.portIn,
  },
  {
    op: Op.Out,
    mnemonics: { out: 0 },
    cycles: 50,
    reads: STATUS,
    writes: 0,
    platform: true,
    priv: Priv.Iopl,
    exec: system.portOut,
  },
  { op: Op.Int3, mnemonics: { int3: 0 }, cycles: 20, reads: STATUS, writes: 0, branch: true, exec: branch.int3 },
  { op: Op.Ud2, mnemonics: { ud2: 0 }, cycles: 0, reads: STATUS, writes: 0, exec: system.ud2 },
  { op: Op.Lidt, mnemonics: { lidt: 0 }, cycles: 10, reads: 0, writes: 0, priv: Priv.Cpl0, exec: system.lidt },
  { op: Op.Iretq, mnemonics: { iretq: 0 }, cycles: 30, reads: 0, writes: STATUS, branch: true, exec: branch.iretq },
  {
    op: Op.MovFromCr,
    mnemonics: { mov: KEEP },
    form: (r) => r.operands[1] === "cr",
    cycles: 10,
    reads: 0,
    writes: 0,
    priv: Priv.Cpl0,
    exec: control.movFromCr,
  },
  {
    op: Op.MovToCr,
    mnemonics: { mov: KEEP },
    form: (r) => r.operands[0] === "cr",
    cycles: 10,
    reads: STATUS,
    writes: 0,
    platform: true,
    priv: Priv.Cpl0,
    exec: control.movToCr,
  },
  {
    op: Op.Vmcall,
    mnemonics: { vmcall: 0 },
    cycles: 50,
    reads: STATUS,
    writes: 0,
    platform: true,
    exec: system.vmcall,
  },
];
/** Every operation, indexed by Op. */
export const SEMANTICS: readonly SemRow[] = ROWS.sort((a, b) => a.op - b.op);

for (let i = 0; i < SEMANTICS.length; i++)
  if (SEMANTICS[i].op !== i) throw new Error(`semantics.ts: no row for operation ${i}`);

/** The interpreter's dispatch table (SEMANTICS[op].exec as a flat array). */
export const EXEC: readonly Exec[] = SEMANTICS.map((r) => r.exec);

/** Base cycles by operation (uarch.ts model), flat for the hot loop. */
export const CYCLES: Uint16Array = Uint16Array.from(SEMANTICS, (r) => r.cycles);

/** Base cycles of each retired instruction by operation (library export). */
export const BASE_CYCLES: Readonly<Record<number, number>> = Object.fromEntries(SEMANTICS.map((r) => [r.op, r.cycles]));

/** The value of a FlagSet for one instruction. */
export function flagsOf(f: FlagSet | undefined, ins: Insn): number {
  return f === undefined ? 0 : typeof f === "number" ? f : f(ins);
}

/** Status flags an instruction sets (defined ones, and the undefined ones this model writes). */
export function flagsWritten(ins: Insn): number {
  const row = SEMANTICS[ins.op];
  const undef = row.undefinedValue === "unchanged" ? 0 : flagsOf(row.undefined, ins);
  return flagsOf(row.writes, ins) | undef;
}

/** Status flags an instruction reads. */
export function flagsRead(ins: Insn): number {
  return flagsOf(SEMANTICS[ins.op].reads, ins);
}

/** Canonical mnemonic → the rows that can decode it (usually one). */
const BY_MNEMONIC: ReadonlyMap<string, readonly SemRow[]> = (() => {
  const m = new Map<string, SemRow[]>();
  for (const r of SEMANTICS)
    for (const name of Object.keys(r.mnemonics)) {
      let list = m.get(name);
      if (!list) m.set(name, (list = []));
      list.push(r);
    }
  return m;
})();

/** The operation for a decoded opcode row (sets insn.sub where the operation needs it). */
export function opFor(row: OpcodeRow, insn: Insn): Op {
  const list = BY_MNEMONIC.get(row.mnemonic);
  if (list)
    for (const r of list)
      if (r.form === undefined || r.form(row)) {
        const sub = r.mnemonics[row.mnemonic];
        if (sub !== KEEP) insn.sub = sub;
        return r.op;
      }
  return Op.Invalid;
}

/** Is `mnemonic` (canonical) executed by some operation? */
export function hasSemantics(mnemonic: string): boolean {
  return BY_MNEMONIC.has(mnemonic);
}
