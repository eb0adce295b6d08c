/**
 * Block compiler: a hot straight-line run of decoded instructions (ending at a branch or at the first
 * instruction it does not compile) becomes one JS function, built once with `new Function` and cached by
 * start address; a block that branches back to its own start runs as a JS loop bounded by the remaining
 * budget. Semantics are the interpreter's (cpu.ts/alu.ts): flags are computed inline only where a later
 * instruction of the block could observe them (static liveness; all flags are live at block exit), and
 * anything unusual — an address outside RAM, a store that invalidated the block — returns to the
 * interpreter *before* the instruction, which then runs (and faults) exactly as it would have.
 * test/isa/jit.test.ts runs programs both ways and requires identical state and events.
 */
import { aluBin, aluDiv, aluIncDec as aluIncDecRef, aluMul, aluShift, type AluOut } from "./alu.js";
import { K, type Insn } from "./decode.js";
import { PARITY } from "./flags.js";
import { Op } from "./ops.js";
import { MISPREDICT_CYCLES } from "./uarch.js";
import { CYCLES } from "./semantics.js";
import type { Cpu } from "./cpu.js";

/** Aligned 32-bit accesses go through a Uint32Array view, which is little-endian only on a little-endian
 *  host; elsewhere the generated code uses the DataView. */
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

export interface Block {
  valid: boolean;
  start: number;
  /** Instructions in one pass of the block. */
  n: number;
  /** Run the block (repeatedly, if it loops on itself) retiring at most `left` instructions; returns how
   *  many retired (0 = the first instruction must be interpreted). Updates RIP, RFLAGS and events. */
  fn: (left: number) => number;
}

export const MAX_BLOCK = 48;
const ALL = 0x8d5;
const CFm = 1;

const COMPILED = new Set<Op>([
  Op.Alu,
  Op.Test,
  Op.Mov,
  Op.Movzx,
  Op.Movsx,
  Op.Lea,
  Op.IncDec,
  Op.Not,
  Op.Neg,
  Op.Shift,
  Op.Nop,
  Op.Pause,
  Op.Lfence,
  Op.Mfence,
  Op.Jcc,
  Op.Jmp,
  Op.Loop,
  Op.Jrcxz,
  Op.Setcc,
  Op.Cmovcc,
  Op.Push,
  Op.Pop,
  Op.Call,
  Op.Ret,
  Op.Imul2,
  Op.Mul1,
  Op.Imul1,
  Op.Div,
  Op.Idiv,
  Op.Rdmsr,
]);
const ENDS = new Set<Op>([Op.Jcc, Op.Jmp, Op.Loop, Op.Jrcxz, Op.Call, Op.Ret]);
/** Privileged instructions a block runs by calling the platform (cpu.ts exec does the same). */
const PLATFORM = new Set<Op>([Op.Rdmsr]);

function writes(ins: Insn): number {
  switch (ins.op) {
    case Op.Alu:
    case Op.Test:
    case Op.Neg:
    case Op.Imul2:
    case Op.Mul1:
    case Op.Imul1:
      return ALL;
    case Op.IncDec:
      return ALL & ~CFm;
    case Op.Shift: {
      if (ins.k1 !== K.Imm) return 0; // count in CL may be 0: flags pass through
      const c = ins.immLo & (ins.size === 8 ? 63 : 31);
      if (c === 0) return 0;
      return ins.sub <= 1 ? CFm | 0x800 : ALL;
    }
    default:
      return 0;
  }
}
function reads(ins: Insn): number {
  switch (ins.op) {
    case Op.Alu:
      return ins.sub === 2 || ins.sub === 3 ? CFm : 0;
    case Op.Jcc:
    case Op.Setcc:
    case Op.Cmovcc:
    case Op.Loop:
      return ALL;
    // A platform call sees RFLAGS exact (an injected #GP pushes them).
    case Op.Rdmsr:
      return ALL;
    case Op.Shift:
      return ins.k1 === K.Imm ? 0 : ALL;
    default:
      return 0;
  }
}

/** JS condition for cc on `fl` (SDM Table B-1). */
function condJs(cc: number): string {
  const base = [
    "(fl & 2048) !== 0",
    "(fl & 1) !== 0",
    "(fl & 64) !== 0",
    "(fl & 65) !== 0",
    "(fl & 128) !== 0",
    "(fl & 4) !== 0",
    "(((fl >>> 7) ^ (fl >>> 11)) & 1) !== 0",
    "((fl & 64) !== 0 || (((fl >>> 7) ^ (fl >>> 11)) & 1) !== 0)",
  ][cc >> 1];
  return cc & 1 ? `!(${base})` : base;
}

const SZP8 = "((r | rh) === 0 ? 64 : 0) | ((rh >>> 24) & 128) | PAR[r & 255]";
const SZP4 = "(r === 0 ? 64 : 0) | ((r >>> 24) & 128) | PAR[r & 255]";

/** Inline ALU for sizes 4 and 8: a,ah op b,bh → r,rh; flags only when `live`. */
function aluJs(op: number, size: number, live: boolean, keepCF = false): string | null {
  if (size !== 4 && size !== 8) return null;
  const mask = keepCF ? "~2260" : "~2261";
  const logic = op === 1 || op === 4 || op === 6;
  const sym = op === 1 ? "|" : op === 4 ? "&" : "^";
  if (logic) {
    const res = size === 8 ? `r = (a ${sym} b) >>> 0; rh = (ah ${sym} bh) >>> 0;` : `r = (a ${sym} b) >>> 0; rh = 0;`;
    return live ? `${res} fl = (fl & ${mask}) | ${size === 8 ? SZP8 : SZP4};` : res;
  }
  const add = op === 0 || op === 2;
  const cin = op === 2 || op === 3 ? " + (fl & 1)" : "";
  if (size === 4) {
    const res = add
      ? `s = a + b${cin}; r = s >>> 0; rh = 0;`
      : `s = a - b${cin.replace("+", "-")}; r = s >>> 0; rh = 0;`;
    if (!live) return res;
    const cf = keepCF ? "" : add ? "(s > 4294967295 ? 1 : 0) | " : "(s < 0 ? 1 : 0) | ";
    const of = add ? "((((a ^ r) & (b ^ r)) >>> 31) << 11)" : "((((a ^ b) & (a ^ r)) >>> 31) << 11)";
    return `${res} fl = (fl & ${mask}) | ${cf}${of} | ((a ^ b ^ r) & 16) | ${SZP4};`;
  }
  const res = add
    ? `s = a + b${cin}; r = s >>> 0; t = ah + bh + (s > 4294967295 ? 1 : 0); rh = t >>> 0;`
    : `s = a - b${cin.replace("+", "-")}; r = s >>> 0; t = ah - bh - (s < 0 ? 1 : 0); rh = t >>> 0;`;
  if (!live) return res;
  const cf = keepCF ? "" : add ? "(t > 4294967295 ? 1 : 0) | " : "(t < 0 ? 1 : 0) | ";
  const of = add ? "((((ah ^ rh) & (bh ^ rh)) >>> 31) << 11)" : "((((ah ^ bh) & (ah ^ rh)) >>> 31) << 11)";
  return `${res} fl = (fl & ${mask}) | ${cf}${of} | ((a ^ b ^ r) & 16) | ${SZP8};`;
}

class Gen {
  code: string[] = [];
  /** Prefix sums of retired instructions, cycles and branches over the block's instructions. A platform
   *  call that exits is not retired by the CPU (platform.ts Skip; R-CNT-4), so it adds nothing. */
  pi: number[] = [0];
  pc: number[] = [0];
  pb: number[] = [0];
  /** The block calls the platform: counts are flushed to `ev` before each call (platform.ts contract), so
   *  every exit adds only what was not flushed yet (locals fi/fc/fb). */
  readonly calls: boolean;
  constructor(readonly insns: Insn[]) {
    this.calls = insns.some((i) => PLATFORM.has(i.op));
    for (const i of insns) {
      const call = PLATFORM.has(i.op);
      this.pi.push(this.pi[this.pi.length - 1] + (call ? 0 : 1));
      this.pc.push(this.pc[this.pc.length - 1] + (call ? 0 : CYCLES[i.op]));
      this.pb.push(this.pb[this.pb.length - 1] + (ENDS.has(i.op) ? 1 : 0));
    }
  }
  /** Leave the block before instruction k (which the interpreter then runs), or after the last one. */
  /** Code run at every exit (predictor state write-back, deferred flags). */
  onExit = "";
  exit(k: number, ripJs: string): string {
    const n = this.insns.length;
    if (this.calls) {
      // -1: nothing retired, but a platform call completed an instruction (0 would re-run it).
      return `{ ${this.onExit} c.rflags = fl; c.rip = ${ripJs}; const d = iters * ${this.pi[n]} + ${this.pi[k]}; ev.instructions += d - fi; ev.cycles += iters * ${this.pc[n]} + ${this.pc[k]} - fc; ev.branches += iters * ${this.pb[n]} + ${this.pb[k]} - fb; return d === 0 && called ? -1 : d; }`;
    }
    return `{ ${this.onExit} c.rflags = fl; c.rip = ${ripJs}; const d = iters * ${n} + ${k}; ev.instructions += d; ev.cycles += iters * ${this.pc[n]} + ${this.pc[k]}; ev.branches += iters * ${this.pb[n]} + ${this.pb[k]}; return d; }`;
  }
  /** Exact totals into `ev` before instruction k calls the platform. */
  flush(k: number): string {
    const n = this.insns.length;
    return `t = iters * ${this.pi[n]} + ${this.pi[k]}; ev.instructions += t - fi; fi = t; t = iters * ${this.pc[n]} + ${this.pc[k]}; ev.cycles += t - fc; fc = t; t = iters * ${this.pb[n]} + ${this.pb[k]}; ev.branches += t - fb; fb = t;`;
  }
}

function regRead(r: number, size: number, lo: string, hi: string): string {
  switch (size) {
    case 8:
      return `${lo} = R[${2 * r}]; ${hi} = R[${2 * r + 1}];`;
    case 4:
      return `${lo} = R[${2 * r}]; ${hi} = 0;`;
    case 2:
      return `${lo} = R[${2 * r}] & 65535; ${hi} = 0;`;
    default:
      return r >= 16 ? `${lo} = (R[${2 * (r - 16)}] >>> 8) & 255; ${hi} = 0;` : `${lo} = R[${2 * r}] & 255; ${hi} = 0;`;
  }
}
function regWrite(r: number, size: number, lo: string, hi: string): string {
  switch (size) {
    case 8:
      return `R[${2 * r}] = ${lo}; R[${2 * r + 1}] = ${hi};`;
    case 4:
      return `R[${2 * r}] = ${lo}; R[${2 * r + 1}] = 0;`;
    default:
      return `c.sr(${r}, ${size}, ${lo}, 0);`;
  }
}

/** Code computing the operand address into `ea` (bailing out before instruction k if it is not in RAM). */
function eaJs(g: Gen, ins: Insn, k: number, size: number, memSize: number): string | null {
  if (ins.ripRel) {
    if (ins.dispHi !== 0 || ins.dispLo + size > memSize) return null;
    return `ea = ${ins.dispLo};`;
  }
  const parts = [`${ins.dispLo}`];
  const hparts = [`${ins.dispHi}`];
  if (ins.base >= 0) {
    parts.push(`R[${2 * ins.base}]`);
    hparts.push(`R[${2 * ins.base + 1}]`);
  }
  if (ins.index >= 0) {
    parts.push(`R[${2 * ins.index}] * ${ins.scale}`);
    hparts.push(`R[${2 * ins.index + 1}] * ${ins.scale}`);
  }
  const bail = g.exit(k, String(ins.addr));
  if (ins.addr32) return `ea = (${parts.join(" + ")}) >>> 0; if (ea + ${size} > MEM) ${bail}`;
  if (ins.dispHi === 0 || ins.dispHi === 0xffffffff) {
    // Fast form: with zero high halves the address is exactly the (non-negative) sum; anything else
    // (negative sums, high halves) goes back to the interpreter, which computes the general case.
    const his: string[] = [];
    if (ins.base >= 0) his.push(`R[${2 * ins.base + 1}]`);
    if (ins.index >= 0) his.push(`R[${2 * ins.index + 1}]`);
    const d = ins.dispLo | 0;
    const sum = [...parts.slice(1), ...(d !== 0 || parts.length === 1 ? [String(d)] : [])].join(" + ");
    return `ea = ${sum}; if (${d < 0 ? "ea < 0 || " : ""}${his.length ? `(${his.join(" | ")}) !== 0 || ` : ""}ea + ${size} > MEM) ${bail}`;
  }
  return `ea = ${parts.join(" + ")}; t = ${hparts.join(" + ")}; if (ea > 4294967295) { u = Math.floor(ea / 4294967296); ea -= u * 4294967296; t += u; } if ((t >>> 0) !== 0 || ea + ${size} > MEM) ${bail}`;
}
function cacheJs(size: number): string {
  const one = "u = ea >>> 6; if (l1[u & 511] !== u) cache.line(u);";
  return size > 1
    ? `${one} if ((ea & 63) + ${size} > 64) { u = (ea + ${size - 1}) >>> 6; if (l1[u & 511] !== u) cache.line(u); }`
    : one;
}
function loadJs(size: number, lo: string, hi: string): string {
  switch (size) {
    case 8:
      if (!LITTLE_ENDIAN) return `${lo} = dv.getUint32(ea, true); ${hi} = dv.getUint32(ea + 4, true);`;
      return `if ((ea & 3) === 0) { ${lo} = M32[ea >>> 2]; ${hi} = M32[(ea >>> 2) + 1]; } else { ${lo} = dv.getUint32(ea, true); ${hi} = dv.getUint32(ea + 4, true); }`;
    case 4:
      if (!LITTLE_ENDIAN) return `${lo} = dv.getUint32(ea, true); ${hi} = 0;`;
      return `${lo} = (ea & 3) === 0 ? M32[ea >>> 2] : dv.getUint32(ea, true); ${hi} = 0;`;
    case 2:
      return `${lo} = dv.getUint16(ea, true); ${hi} = 0;`;
    default:
      return `${lo} = mem[ea]; ${hi} = 0;`;
  }
}
function storeJs(g: Gen, ins: Insn, k: number, size: number, lo: string, hi: string): string {
  const w =
    !LITTLE_ENDIAN && size >= 4
      ? size === 8
        ? `dv.setUint32(ea, ${lo}, true); dv.setUint32(ea + 4, ${hi}, true);`
        : `dv.setUint32(ea, ${lo}, true);`
      : size === 8
        ? `if ((ea & 3) === 0) { M32[ea >>> 2] = ${lo}; M32[(ea >>> 2) + 1] = ${hi}; } else { dv.setUint32(ea, ${lo}, true); dv.setUint32(ea + 4, ${hi}, true); }`
        : size === 4
          ? `if ((ea & 3) === 0) M32[ea >>> 2] = ${lo}; else dv.setUint32(ea, ${lo}, true);`
          : size === 2
            ? `dv.setUint16(ea, ${lo}, true);`
            : `mem[ea] = ${lo};`;
  // A store into decoded code: invalidate exactly what it overwrote; leave if this block was hit.
  const next = ins.addr + ins.len;
  return `${w} if ((cg[ea >>> 3] | cg[(ea + ${size - 1}) >>> 3]) !== 0) { c.invalidate(ea, ${size}); if (!blk.valid) ${g.exit(k + 1, String(next))} }`;
}

/** Operand i (0/1/2) of `ins` into lo/hi variables; memory via ea (already computed). */
function operandJs(ins: Insn, kind: K, r: number, size: number, lo: string, hi: string): string {
  if (kind === K.Reg) return regRead(r, size, lo, hi);
  if (kind === K.Imm) return `${lo} = ${ins.immLo}; ${hi} = ${ins.immHi};`;
  return loadJs(size, lo, hi);
}

function shiftConstJs(sub: number, size: number, count: number): string | null {
  const c = count & (size === 8 ? 63 : 31);
  if (c === 0) return "r = a; rh = ah;";
  if (size === 4) {
    if (sub === 4) return `r = (a << ${c}) >>> 0; rh = 0;`;
    if (sub === 5) return `r = a >>> ${c}; rh = 0;`;
    if (sub === 7) return `r = ((a | 0) >> ${c}) >>> 0; rh = 0;`;
    return null;
  }
  if (size !== 8) return null;
  if (sub === 4)
    return c < 32
      ? `rh = ((ah << ${c}) | (a >>> ${32 - c})) >>> 0; r = (a << ${c}) >>> 0;`
      : `rh = (a << ${c - 32}) >>> 0; r = 0;`;
  if (sub === 5)
    return c < 32 ? `r = ((a >>> ${c}) | (ah << ${32 - c})) >>> 0; rh = ah >>> ${c};` : `r = ah >>> ${c - 32}; rh = 0;`;
  if (sub === 7)
    return c < 32
      ? `r = ((a >>> ${c}) | (ah << ${32 - c})) >>> 0; rh = ((ah | 0) >> ${c}) >>> 0;`
      : `r = ((ah | 0) >> ${c - 32}) >>> 0; rh = ((ah | 0) >> 31) >>> 0;`;
  return null;
}

/**
 * Deferred flags: when the instruction just before the block's final jcc is a 4/8-byte ALU/inc/dec/test
 * whose flags nothing in the loop reads except that jcc, and the jcc tests only ZF or SF, the jcc is
 * decided from the result and the full flags are computed only when the block exits.
 */
function deferredCond(ins: Insn, jcc: Insn): string | null {
  if (jcc.op !== Op.Jcc || (jcc.cc >> 1 !== 2 && jcc.cc >> 1 !== 4)) return null;
  if (ins.size !== 4 && ins.size !== 8) return null;
  if (ins.op !== Op.Alu && ins.op !== Op.IncDec && ins.op !== Op.Test) return null;
  const z = ins.size === 8 ? "(r | rh) === 0" : "r === 0";
  const sgn = ins.size === 8 ? "(rh >>> 31) === 1" : "(r >>> 31) === 1";
  const base = jcc.cc >> 1 === 2 ? z : sgn;
  return jcc.cc & 1 ? `!(${base})` : base;
}

/** Code for instruction k, or null if it cannot be compiled here. */
function insnJs(
  g: Gen,
  ins: Insn,
  k: number,
  live: boolean,
  memSize: number,
  start: number,
  last: boolean,
  deferred: string | null = null,
): string | null {
  const s = ins.size;
  const lines: string[] = [];
  const mem0 = ins.k0 === K.Mem,
    mem1 = ins.k1 === K.Mem;
  const memSize0 = ins.op === Op.Movzx || ins.op === Op.Movsx ? ins.srcSize : ins.op === Op.Setcc ? 1 : s;
  if (
    (ins.op === Op.Push || ins.op === Op.Pop || ins.op === Op.Call || ins.op === Op.Ret) &&
    (mem0 || mem1 || (ins.op !== Op.Call && ins.op !== Op.Ret && s !== 8))
  )
    return null;
  if ((mem0 || mem1) && ins.op !== Op.Lea && ins.op !== Op.Nop) {
    // NOP r/m does not access memory
    const e = eaJs(g, ins, k, memSize0, memSize);
    if (e === null) return null;
    lines.push(e, cacheJs(memSize0));
  }
  const helper = (fn: string) => `o.fl = fl; ${fn}; fl = o.fl; r = o.lo; rh = o.hi;`;
  const writeDst = () => (mem0 ? storeJs(g, ins, k, s, "r", "rh") : regWrite(ins.r0, s, "r", "rh"));
  switch (ins.op) {
    case Op.Alu:
    case Op.Test: {
      const op = ins.op === Op.Test ? 4 : ins.sub;
      lines.push(operandJs(ins, ins.k0, ins.r0, s, "a", "ah"), operandJs(ins, ins.k1, ins.r1, s, "b", "bh"));
      lines.push(aluJs(op, s, live) ?? helper(`aluBin(o, ${op}, ${s}, a, ah, b, bh)`));
      if (ins.op === Op.Alu && op !== 7) lines.push(writeDst());
      break;
    }
    case Op.IncDec:
    case Op.Neg:
    case Op.Not: {
      lines.push(operandJs(ins, ins.k0, ins.r0, s, "a", "ah"));
      if (ins.op === Op.Not)
        lines.push(
          s === 8
            ? "r = ~a >>> 0; rh = ~ah >>> 0;"
            : `r = (~a & ${s === 4 ? 4294967295 : (1 << (8 * s)) - 1}) >>> 0; rh = 0;`,
        );
      else if (ins.op === Op.Neg)
        lines.push(`b = a; bh = ah; a = 0; ah = 0;`, aluJs(5, s, live) ?? helper(`aluBin(o, 5, ${s}, 0, 0, b, bh)`));
      else
        lines.push(
          "b = 1; bh = 0;",
          aluJs(ins.sub === 1 ? 5 : 0, s, live, true) ?? helper(`aluIncDec(o, ${ins.sub === 1}, ${s}, a, ah)`),
        );
      lines.push(writeDst());
      break;
    }
    case Op.Shift: {
      lines.push(operandJs(ins, ins.k0, ins.r0, s, "a", "ah"));
      const inl = !live && ins.k1 === K.Imm ? shiftConstJs(ins.sub, s, ins.immLo) : null;
      lines.push(inl ?? helper(`aluShift(o, ${ins.sub}, ${s}, a, ah, ${ins.k1 === K.Imm ? ins.immLo : "R[2] & 255"})`));
      lines.push(writeDst());
      break;
    }
    case Op.Mov:
      lines.push(operandJs(ins, ins.k1, ins.r1, s, "r", "rh"), writeDst());
      break;
    case Op.Movzx:
      lines.push(operandJs(ins, ins.k1, ins.r1, ins.srcSize, "r", "rh"), regWrite(ins.r0, s, "r", "0"));
      break;
    case Op.Movsx: {
      const ss = ins.srcSize;
      lines.push(operandJs(ins, ins.k1, ins.r1, ss, "t", "u"));
      lines.push(ss === 1 ? "t = (t << 24) >> 24;" : ss === 2 ? "t = (t << 16) >> 16;" : "t = t | 0;");
      lines.push("r = t >>> 0; rh = t < 0 ? 4294967295 : 0;", regWrite(ins.r0, s, "r", "rh"));
      break;
    }
    case Op.Lea: {
      const parts = [`${ins.dispLo}`],
        hp = [`${ins.dispHi}`];
      if (ins.base >= 0) {
        parts.push(`R[${2 * ins.base}]`);
        hp.push(`R[${2 * ins.base + 1}]`);
      }
      if (ins.index >= 0) {
        parts.push(`R[${2 * ins.index}] * ${ins.scale}`);
        hp.push(`R[${2 * ins.index + 1}] * ${ins.scale}`);
      }
      lines.push(
        `ea = ${parts.join(" + ")}; t = ${hp.join(" + ")}; if (ea > 4294967295) { u = Math.floor(ea / 4294967296); ea -= u * 4294967296; t += u; }`,
      );
      lines.push(`r = ea >>> 0; rh = ${ins.addr32 ? "0" : "t >>> 0"};`, regWrite(ins.r0, s, "r", "rh"));
      break;
    }
    case Op.Setcc:
      lines.push(
        `r = ${condJs(ins.cc)} ? 1 : 0;`,
        mem0 ? storeJs(g, ins, k, 1, "r", "0") : regWrite(ins.r0, 1, "r", "0"),
      );
      break;
    case Op.Cmovcc:
      lines.push(operandJs(ins, ins.k1, ins.r1, s, "r", "rh"));
      lines.push(
        `if (${condJs(ins.cc)}) { ${regWrite(ins.r0, s, "r", "rh")} }${s === 4 ? ` else R[${2 * ins.r0 + 1}] = 0;` : ""}`,
      );
      break;
    case Op.Nop:
    case Op.Pause:
    case Op.Lfence:
    case Op.Mfence:
      break;
    case Op.Imul2:
      lines.push(operandJs(ins, ins.k1, ins.r1, s, "b", "bh"));
      lines.push(ins.k2 === K.Imm ? `a = ${ins.immLo}; ah = ${ins.immHi};` : regRead(ins.r0, s, "a", "ah"));
      lines.push(helper(`aluMul(o, true, ${s}, a, ah, b, bh)`), regWrite(ins.r0, s, "r", "rh"));
      break;
    case Op.Mul1:
    case Op.Imul1:
      lines.push(operandJs(ins, ins.k0, ins.r0, s, "b", "bh"), regRead(0, s, "a", "ah"));
      lines.push(helper(`aluMul(o, ${ins.op === Op.Imul1}, ${s}, a, ah, b, bh)`));
      lines.push(
        s === 1
          ? "c.sr(0, 2, (o.lo2 << 8) | r, 0);"
          : `${regWrite(0, s, "r", "rh")} ${regWrite(2, s, "o.lo2", "o.hi2")}`,
      );
      break;
    case Op.Div:
    case Op.Idiv: {
      lines.push(operandJs(ins, ins.k0, ins.r0, s, "b", "bh"));
      const sg = ins.op === Op.Idiv;
      // #DE leaves the block before the instruction; the interpreter then raises it.
      const call =
        s === 1
          ? `aluDiv(o, ${sg}, 1, R[0] & 65535, 0, 0, 0, b, 0)`
          : `(${regRead(0, s, "a", "ah").replace(/;\s*$/, "").replace(/; /g, ", ")}, ${regRead(2, s, "s", "t").replace(/;\s*$/, "").replace(/; /g, ", ")}, aluDiv(o, ${sg}, ${s}, a, ah, s, t, b, bh))`;
      lines.push(`if (!${call}) ${g.exit(k, String(ins.addr))}`);
      lines.push(
        s === 1
          ? "c.sr(0, 2, (o.lo2 << 8) | o.lo, 0);"
          : `${regWrite(0, s, "o.lo", "o.hi")} ${regWrite(2, s, "o.lo2", "o.hi2")}`,
      );
      break;
    }
    case Op.Push: {
      // SDM PUSH: the value is read first (push rsp pushes the old RSP), then RSP -= 8 and the store.
      lines.push(operandJs(ins, ins.k0, ins.r0, 8, "r", "rh"));
      lines.push(
        `ea = R[8] - 8; t = R[9]; if (ea < 0) { ea += 4294967296; t = (t - 1) >>> 0; } if (t !== 0 || ea + 8 > MEM) ${g.exit(k, String(ins.addr))}`,
      );
      lines.push(cacheJs(8), "R[8] = ea; R[9] = 0;", storeJs(g, ins, k, 8, "r", "rh"));
      break;
    }
    case Op.Rdmsr: {
      // CPL > 0 raises #GP(0) ahead of any VM exit (platform.ts): the interpreter does that. Otherwise the
      // platform is asked with exact counts; Skip (KVM emulated and skipped it: the exit fast path) is
      // completed here, any other action by the run loop exactly as the interpreter's exec would.
      const next = ins.addr + ins.len;
      lines.push(`if (c.cpl !== 0) ${g.exit(k, String(ins.addr))}`);
      lines.push(`${g.flush(k)} ${g.onExit} c.rflags = fl; c.rip = ${ins.addr}; called = true;`);
      lines.push(`u = c.platform.rdmsr(c, ${ins.len});`);
      lines.push(`if (u !== 1) { c.jitAct = u; c.jitIns = I[${k}]; ${g.exit(k, String(ins.addr))} }`);
      // Skip leaves RIP past the instruction; an interrupt or stop request is handled between blocks.
      lines.push(`if (c.irqCount !== 0 || c.stopReq >= 0) ${g.exit(k + 1, String(next))}`);
      break;
    }
    case Op.Pop: {
      lines.push(`ea = R[8]; if (R[9] !== 0 || ea + 8 > MEM) ${g.exit(k, String(ins.addr))}`);
      lines.push(
        cacheJs(8),
        loadJs(8, "r", "rh"),
        "s = ea + 8; R[8] = s >>> 0; R[9] = s > 4294967295 ? 1 : 0;",
        regWrite(ins.r0, 8, "r", "rh"),
      );
      break;
    }
    case Op.Call:
    case Op.Ret: {
      if (!last) return null;
      const next = ins.addr + ins.len;
      if (ins.op === Op.Call) {
        if (ins.target < 0 || ins.target >= memSize) return null;
        lines.push(
          `ea = R[8] - 8; t = R[9]; if (ea < 0) { ea += 4294967296; t = (t - 1) >>> 0; } if (t !== 0 || ea + 8 > MEM) ${g.exit(k, String(ins.addr))}`,
        );
        lines.push(
          cacheJs(8),
          "R[8] = ea; R[9] = 0;",
          `dv.setUint32(ea, ${next >>> 0}, true); dv.setUint32(ea + 4, ${Math.floor(next / 4294967296)}, true);`,
        );
        lines.push(`pred.call(${next});`, "iters++;");
        // A store into code (the return address landing on decoded bytes) invalidates before leaving.
        lines.push(`if ((cg[ea >>> 3] | cg[(ea + 7) >>> 3]) !== 0) c.invalidate(ea, 8);`);
        lines.push(g.exit(0, `${ins.target}`));
      } else {
        // A target outside RAM (or non-canonical) is left to the interpreter: #GP, or #PF on the fetch.
        const pop = 8 + (ins.k0 === K.Imm ? ins.immLo : 0);
        lines.push(`ea = R[8]; if (R[9] !== 0 || ea + 8 > MEM) ${g.exit(k, String(ins.addr))}`);
        lines.push(loadJs(8, "r", "rh"), `if (rh !== 0 || r >= MEM) ${g.exit(k, String(ins.addr))}`);
        lines.push(
          cacheJs(8),
          `s = ea + ${pop}; R[8] = s >>> 0; if (s > 4294967295) R[9] = 1;`,
          "pred.ret(r);",
          "iters++;",
        );
        lines.push(g.exit(0, `r`));
      }
      break;
    }
    case Op.Jmp:
    case Op.Jcc:
    case Op.Loop:
    case Op.Jrcxz: {
      if (!last) return null;
      const target = ins.target,
        next = ins.addr + ins.len;
      if (target < 0 || target >= memSize) return null;
      let cond: string;
      if (ins.op === Op.Jmp) cond = "true";
      else if (ins.op === Op.Jcc) cond = deferred ?? condJs(ins.cc);
      else {
        const z = ins.addr32 ? "R[2] === 0" : "(R[2] | R[3]) === 0";
        if (ins.op === Op.Loop) {
          lines.push(
            ins.addr32
              ? "R[2] = (R[2] - 1) >>> 0; R[3] = 0;"
              : "if (R[2] === 0) R[3] = (R[3] - 1) >>> 0; R[2] = (R[2] - 1) >>> 0;",
          );
          cond =
            ins.sub === 0 ? `!(${z})` : ins.sub === 1 ? `!(${z}) && (fl & 64) !== 0` : `!(${z}) && (fl & 64) === 0`;
        } else cond = z;
      }
      lines.push(`taken = ${cond};`);
      if (ins.op !== Op.Jmp) {
        // Predictor (uarch.ts BranchPredictor.conditional), inline.
        const backward = target <= ins.addr;
        lines.push(
          `if ((p0 === 0 ? ${backward} : p0 === 2) !== taken) { ev.branchMispredicts++; ev.cycles += ${MISPREDICT_CYCLES}; ev.mispredictCycles += ${MISPREDICT_CYCLES}; } p0 = taken ? 2 : 1;`,
        );
      }
      lines.push("iters++;");
      if (target === start) lines.push("if (taken && iters < maxIters) continue;");
      lines.push(g.exit(0, `taken ? ${target} : ${next}`));
      break;
    }
    default:
      return null;
  }
  return lines.join("\n");
}

const HELPERS = { aluBin, aluShift, PARITY, aluMul, aluDiv };

/**
 * Compile the block starting at `first` (whose successors come from `next(addr)`), or null if its first
 * instruction cannot be compiled.
 */
export function compileBlock(cpu: Cpu, first: Insn, next: (addr: number) => Insn | null): Block | null {
  const insns: Insn[] = [];
  let ins: Insn | null = first;
  while (ins !== null && insns.length < MAX_BLOCK && COMPILED.has(ins.op) && ins.valid) {
    insns.push(ins);
    if (ENDS.has(ins.op)) break;
    ins = next(ins.addr + ins.len);
  }
  // Trim until every instruction compiles.
  for (;;) {
    if (insns.length === 0) return null;
    const g = new Gen(insns);
    let live = ALL;
    const need: boolean[] = new Array(insns.length);
    for (let i = insns.length - 1; i >= 0; i--) {
      const w = writes(insns[i]);
      need[i] = (w & live) !== 0 || (insns[i].op === Op.Shift && insns[i].k1 !== K.Imm);
      live = (live & ~w) | reads(insns[i]);
    }
    const start = insns[0].addr;
    const body: string[] = [];
    let bad = -1;
    const nn = insns.length;
    const lastIns = insns[nn - 1];
    let defer: string | null = null;
    // Only where no instruction can leave the block early (no memory operands): an early exit in a later
    // pass would otherwise see the previous pass's deferred flags unmaterialised.
    const canBail = insns.some((i) => PLATFORM.has(i.op) || (i.op !== Op.Lea && (i.k0 === K.Mem || i.k1 === K.Mem)));
    if (nn >= 2 && lastIns.op === Op.Jcc && !canBail) {
      // Live-in of the block start (what a next pass reads before writing) must not need the writer's flags.
      let liveIn = 0,
        killed = 0;
      for (const i of insns) {
        liveIn |= reads(i) & ~killed;
        killed |= writes(i);
      }
      const w = insns[nn - 2];
      const c = deferredCond(w, lastIns);
      if (c !== null && (lastIns.target !== start || (liveIn & writes(w)) === 0)) {
        defer = c;
        need[nn - 2] = false;
        const full =
          w.op === Op.IncDec
            ? aluJs(w.sub === 1 ? 5 : 0, w.size, true, true)
            : aluJs(w.op === Op.Test ? 4 : w.sub, w.size, true);
        if (full === null) defer = null;
        else g.onExit = full.slice(full.indexOf("fl = "));
      }
    }
    g.onExit =
      (defer ? g.onExit : "") +
      (lastIns.op === Op.Jcc || lastIns.op === Op.Loop || lastIns.op === Op.Jrcxz ? ` bpc[${lastIns.addr}] = p0;` : "");
    for (let k = 0; k < insns.length; k++) {
      const last = k === insns.length - 1;
      const js = insnJs(
        g,
        insns[k],
        k,
        need[k],
        cpu.memSize,
        start,
        last && ENDS.has(insns[k].op),
        last ? defer : null,
      );
      if (js === null) {
        bad = k;
        break;
      }
      body.push(`// ${insns[k].addr.toString(16)}: ${insns[k].mnemonic}\n${js}`);
    }
    if (bad >= 0) {
      insns.length = bad;
      continue;
    }
    const n = insns.length;
    const tail = ENDS.has(insns[n - 1].op) ? "" : `iters++; ${g.exit(0, String(insns[n - 1].addr + insns[n - 1].len))}`;
    const src = `"use strict";
return function block(left) {
  let fl = c.rflags, a = 0, ah = 0, b = 0, bh = 0, r = 0, rh = 0, s = 0, t = 0, u = 0, ea = 0, taken = false, iters = 0;${g.calls ? "\n  let fi = 0, fc = 0, fb = 0, called = false;" : ""}
  let p0 = ${lastIns.op === Op.Jcc || lastIns.op === Op.Loop || lastIns.op === Op.Jrcxz ? `bpc[${lastIns.addr}]` : "0"};
  const maxIters = Math.floor(left / ${n});
  for (;;) {
${body.join("\n")}
${tail}
  }
};`;
    const blk: Block = { valid: true, start, n, fn: () => 0 };
    const o: AluOut = { lo: 0, hi: 0, fl: 0, lo2: 0, hi2: 0 };
    // eslint-disable-next-line @typescript-eslint/no-implied-eval
    const factory = new Function(
      "c",
      "R",
      "mem",
      "dv",
      "ev",
      "l1",
      "cache",
      "bpc",
      "cg",
      "MEM",
      "blk",
      "o",
      "aluBin",
      "aluShift",
      "aluIncDec",
      "PAR",
      "aluMul",
      "aluDiv",
      "pred",
      "M32",
      "I",
      src,
    );
    blk.fn = factory(
      cpu,
      cpu.regs,
      cpu.mem,
      cpu.dv,
      cpu.events,
      cpu.cache.l1,
      cpu.cache,
      cpu.predictor.cond,
      cpu.codeGranules,
      cpu.memSize,
      blk,
      o,
      HELPERS.aluBin,
      HELPERS.aluShift,
      aluIncDecRef,
      HELPERS.PARITY,
      HELPERS.aluMul,
      HELPERS.aluDiv,
      cpu.predictor,
      LITTLE_ENDIAN ? new Uint32Array(cpu.mem.buffer, cpu.mem.byteOffset, cpu.mem.byteLength >>> 2) : null,
      insns.slice(),
    ) as (left: number) => number;
    for (const i of insns) (i.blocks ??= []).push(blk);
    return blk;
  }
}
