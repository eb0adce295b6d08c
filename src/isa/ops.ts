/**
 * Execution operations: the CPU keys semantics by mnemonic (opcodes.ts keeps semantics out of the table),
 * and this table maps each mnemonic to one executor operation plus its sub-operation.
 */
import type { OpcodeRow } from "./opcodes.js";
import type { Insn } from "./decode.js";

export const enum Op {
  Invalid = 0,
  Alu,
  Test,
  Mov,
  Movzx,
  Movsx,
  Lea,
  IncDec,
  Not,
  Neg,
  Shift,
  Mul1,
  Imul1,
  Div,
  Idiv,
  Imul2,
  Cbw,
  Cwd,
  Xchg,
  Push,
  Pop,
  Pushf,
  Popf,
  Call,
  CallInd,
  Ret,
  Jmp,
  JmpInd,
  Jcc,
  Setcc,
  Cmovcc,
  Loop,
  Jrcxz,
  Nop,
  Pause,
  Hlt,
  Cli,
  Sti,
  Cpuid,
  Rdmsr,
  Wrmsr,
  Rdpmc,
  Rdtsc,
  Rdtscp,
  Lfence,
  Mfence,
  Clflush,
  In,
  Out,
  Int3,
  Ud2,
  Lidt,
  Iretq,
  MovFromCr,
  MovToCr,
  Vmcall,
}

const SIMPLE: Readonly<Record<string, [Op, number]>> = {
  add: [Op.Alu, 0],
  or: [Op.Alu, 1],
  adc: [Op.Alu, 2],
  sbb: [Op.Alu, 3],
  and: [Op.Alu, 4],
  sub: [Op.Alu, 5],
  xor: [Op.Alu, 6],
  cmp: [Op.Alu, 7],
  test: [Op.Test, 0],
  movzx: [Op.Movzx, 0],
  movsx: [Op.Movsx, 0],
  movsxd: [Op.Movsx, 0],
  lea: [Op.Lea, 0],
  inc: [Op.IncDec, 0],
  dec: [Op.IncDec, 1],
  not: [Op.Not, 0],
  neg: [Op.Neg, 0],
  rol: [Op.Shift, 0],
  ror: [Op.Shift, 1],
  shl: [Op.Shift, 4],
  shr: [Op.Shift, 5],
  sar: [Op.Shift, 7],
  mul: [Op.Mul1, 0],
  div: [Op.Div, 0],
  idiv: [Op.Idiv, 0],
  cbw: [Op.Cbw, 0],
  cwde: [Op.Cbw, 0],
  cdqe: [Op.Cbw, 0],
  cwd: [Op.Cwd, 0],
  cdq: [Op.Cwd, 0],
  cqo: [Op.Cwd, 0],
  xchg: [Op.Xchg, 0],
  push: [Op.Push, 0],
  pop: [Op.Pop, 0],
  pushfq: [Op.Pushf, 0],
  popfq: [Op.Popf, 0],
  ret: [Op.Ret, 0],
  loop: [Op.Loop, 0],
  loope: [Op.Loop, 1],
  loopne: [Op.Loop, 2],
  jrcxz: [Op.Jrcxz, 0],
  nop: [Op.Nop, 0],
  pause: [Op.Pause, 0],
  hlt: [Op.Hlt, 0],
  cli: [Op.Cli, 0],
  sti: [Op.Sti, 0],
  cpuid: [Op.Cpuid, 0],
  rdmsr: [Op.Rdmsr, 0],
  wrmsr: [Op.Wrmsr, 0],
  rdpmc: [Op.Rdpmc, 0],
  rdtsc: [Op.Rdtsc, 0],
  rdtscp: [Op.Rdtscp, 0],
  lfence: [Op.Lfence, 0],
  mfence: [Op.Mfence, 0],
  clflush: [Op.Clflush, 0],
  in: [Op.In, 0],
  out: [Op.Out, 0],
  int3: [Op.Int3, 0],
  ud2: [Op.Ud2, 0],
  lidt: [Op.Lidt, 0],
  iretq: [Op.Iretq, 0],
  vmcall: [Op.Vmcall, 0],
};

/** The executor operation for a decoded row (sets insn.sub where the operation needs it). */
export function opFor(row: OpcodeRow, insn: Insn): Op {
  const m = row.mnemonic;
  const s = SIMPLE[m];
  if (s) {
    insn.sub = s[1];
    return s[0];
  }
  if (m === "mov") {
    if (row.operands[0] === "cr") return Op.MovToCr;
    if (row.operands[1] === "cr") return Op.MovFromCr;
    return Op.Mov;
  }
  if (m === "imul") return row.operands.length === 1 ? Op.Imul1 : Op.Imul2;
  if (m === "call") return row.operands[0] === "rel32" ? Op.Call : Op.CallInd;
  if (m === "jmp") return row.operands[0] === "rm64" ? Op.JmpInd : Op.Jmp;
  if (m.startsWith("cmov")) return Op.Cmovcc;
  if (m.startsWith("set")) return Op.Setcc;
  if (m.startsWith("j")) return Op.Jcc;
  return Op.Invalid;
}
