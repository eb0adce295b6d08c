/**
 * The block compiler's form of each operation it compiles (the `compile` of a row in semantics.ts): JS
 * for one decoded instruction, specialising the row's semantic function (sem/*.ts) to its operands and
 * sizes, and calling the same ALU functions (alu.ts) where it does not inline them. Returns null where
 * the instruction must be left to the interpreter.
 */
import { MSR_FS_BASE } from "../arch/msr-index.js";
import { AluOp } from "./alu.js";
import { type Insn, K } from "./insn.js";
import {
  CL,
  RSP_HI,
  RSP_LO,
  addressTerms,
  aluJs,
  cacheJs,
  condJs,
  cpuField,
  type Gen,
  loadJs,
  operandJs,
  regRead,
  regWrite,
  shiftConstJs,
  storeJs,
  xlateJs,
} from "./jit-gen.js";
import { CF, ZF } from "./flags.js";
import { MISPREDICT_CYCLES } from "./uarch.js";

/** What an emitter knows besides the instruction. */
export interface EmitCtx {
  /** The flags this one writes that a later instruction of the block (or an exit) may observe (0: none). */
  readonly live: number;
  /** The instruction is the block's last (branches compile only there). */
  readonly last: boolean;
  /** For a final jcc: its condition decided from the previous result (deferred flags), or null. */
  readonly deferred: string | null;
  /** The final jcc decides from this instruction's result (r, rh): it is the deferred writer. */
  readonly decides: boolean;
  /** Store r/rh to operand 0 (register or `ea`). */
  writeDst(): string;
  /** Call an alu.ts function on `o` with the flags in and out. */
  helper(call: string): string;
}

/** JS for instruction k of the block (after its memory operand's address is in `ea`), or null. */
export type Emit = (g: Gen, ins: Insn, k: number, x: EmitCtx) => string[] | null;

const opA = (ins: Insn, s = ins.size) => operandJs(ins, ins.k0, ins.r0, s, "a", "ah");

export const alu: Emit = (_g, ins, _k, x) => {
  const s = ins.size;
  // CMP whose flags nothing observes does nothing (its memory operand's cache access is made before).
  if (ins.sub === AluOp.Cmp && x.live === 0 && !x.decides) return [];
  const lines = [opA(ins), operandJs(ins, ins.k1, ins.r1, s, "b", "bh")];
  lines.push(aluJs(ins.sub, s, x.live) ?? x.helper(`aluBin(o, ${ins.sub}, ${s}, a, ah, b, bh)`));
  if (ins.sub !== AluOp.Cmp) lines.push(x.writeDst());
  return lines;
};

export const test: Emit = (_g, ins, _k, x) => {
  const s = ins.size;
  if (x.live === 0 && !x.decides) return [];
  return [
    opA(ins),
    operandJs(ins, ins.k1, ins.r1, s, "b", "bh"),
    aluJs(AluOp.And, s, x.live) ?? x.helper(`aluBin(o, ${AluOp.And}, ${s}, a, ah, b, bh)`),
  ];
};

export const incDec: Emit = (_g, ins, _k, x) => [
  opA(ins),
  "b = 1; bh = 0;",
  aluJs(ins.sub === 1 ? AluOp.Sub : AluOp.Add, ins.size, x.live, true) ??
    x.helper(`aluIncDec(o, ${ins.sub === 1}, ${ins.size}, a, ah)`),
  x.writeDst(),
];

export const not: Emit = (_g, ins, _k, x) => {
  const s = ins.size;
  return [
    opA(ins),
    s === 8 ? "r = ~a; rh = ~ah;" : `r = (~a & ${s === 4 ? 4294967295 : (1 << (8 * s)) - 1}) >>> 0; rh = 0;`,
    x.writeDst(),
  ];
};

export const neg: Emit = (_g, ins, _k, x) => [
  opA(ins),
  "b = a; bh = ah; a = 0; ah = 0;",
  aluJs(AluOp.Sub, ins.size, x.live) ?? x.helper(`aluBin(o, ${AluOp.Sub}, ${ins.size}, 0, 0, b, bh)`),
  x.writeDst(),
];

export const shift: Emit = (_g, ins, _k, x) => {
  const imm = ins.k1 === K.Imm;
  const inl = x.live === 0 && imm ? shiftConstJs(ins.sub, ins.size, ins.immLo) : null;
  return [
    opA(ins),
    inl ?? x.helper(`aluShift(o, ${ins.sub}, ${ins.size}, a, ah, ${imm ? ins.immLo : CL})`),
    x.writeDst(),
  ];
};

export const mov: Emit = (_g, ins, _k, x) => [operandJs(ins, ins.k1, ins.r1, ins.size, "r", "rh"), x.writeDst()];

export const movzx: Emit = (_g, ins) => [
  operandJs(ins, ins.k1, ins.r1, ins.srcSize, "r", "rh"),
  regWrite(ins.r0, ins.size, "r", "0"),
];

export const movsx: Emit = (_g, ins) => {
  const ss = ins.srcSize;
  return [
    operandJs(ins, ins.k1, ins.r1, ss, "t", "u"),
    ss === 1 ? "t = (t << 24) >> 24;" : ss === 2 ? "t = (t << 16) >> 16;" : "t = t | 0;",
    "r = t >>> 0; rh = t < 0 ? 4294967295 : 0;",
    regWrite(ins.r0, ins.size, "r", "rh"),
  ];
};

export const lea: Emit = (_g, ins) => {
  const { lo, hi } = addressTerms(ins);
  return [
    `ea = ${lo.join(" + ")}; t = ${hi.join(" + ")}; if (ea > 4294967295) { u = Math.floor(ea / 4294967296); ea -= u * 4294967296; t += u; }`,
    `r = ea >>> 0; rh = ${ins.addr32 ? "0" : "t >>> 0"};`,
    regWrite(ins.r0, ins.size, "r", "rh"),
  ];
};

export const setcc: Emit = (g, ins, k) => [
  `r = ${condJs(ins.cc)} ? 1 : 0;`,
  ins.k0 === K.Mem ? storeJs(g, ins, k, 1, "r", "0") : regWrite(ins.r0, 1, "r", "0"),
];

export const cmovcc: Emit = (_g, ins) => [
  operandJs(ins, ins.k1, ins.r1, ins.size, "r", "rh"),
  `if (${condJs(ins.cc)}) { ${regWrite(ins.r0, ins.size, "r", "rh")} }${ins.size === 4 ? ` else R[${2 * ins.r0 + 1}] = 0;` : ""}`,
];

export const nop: Emit = () => [];

export const imul2: Emit = (_g, ins, _k, x) => {
  const s = ins.size;
  return [
    operandJs(ins, ins.k1, ins.r1, s, "b", "bh"),
    ins.k2 === K.Imm ? `a = ${ins.immLo}; ah = ${ins.immHi};` : regRead(ins.r0, s, "a", "ah"),
    x.helper(`aluMul(o, true, ${s}, a, ah, b, bh)`),
    regWrite(ins.r0, s, "r", "rh"),
  ];
};

const mulAcc =
  (signed: boolean): Emit =>
  (_g, ins, _k, x) => {
    const s = ins.size;
    return [
      operandJs(ins, ins.k0, ins.r0, s, "b", "bh"),
      regRead(0, s, "a", "ah"),
      x.helper(`aluMul(o, ${signed}, ${s}, a, ah, b, bh)`),
      s === 1
        ? regWrite(0, 2, "(o.lo2 << 8) | r", "0")
        : `${regWrite(0, s, "r", "rh")} ${regWrite(2, s, "o.lo2", "o.hi2")}`,
    ];
  };
export const mul = mulAcc(false);
export const imul1 = mulAcc(true);

/** #DE leaves the block before the instruction; the interpreter then raises it. */
const divAcc =
  (signed: boolean): Emit =>
  (g, ins, k) => {
    const s = ins.size;
    const expr = (js: string) => js.replace(/;\s*$/, "").replace(/; /g, ", ");
    const call =
      s === 1
        ? `aluDiv(o, ${signed}, 1, R[0] & 65535, 0, 0, 0, b, 0)`
        : `(${expr(regRead(0, s, "a", "ah"))}, ${expr(regRead(2, s, "s", "t"))}, aluDiv(o, ${signed}, ${s}, a, ah, s, t, b, bh))`;
    return [
      operandJs(ins, ins.k0, ins.r0, s, "b", "bh"),
      `if (!${call}) ${g.exit(k, String(ins.addr))}`,
      s === 1
        ? regWrite(0, 2, "(o.lo2 << 8) | o.lo", "0")
        : `${regWrite(0, s, "o.lo", "o.hi")} ${regWrite(2, s, "o.lo2", "o.hi2")}`,
    ];
  };
export const div = divAcc(false);
export const idiv = divAcc(true);

/** RSP -= 8 into `ea` (the new RSP), leaving before instruction k if the slot is not wholly in RAM. With
 *  paging the new RSP stays in `a`/`ah` and `ea` becomes the slot's RAM offset. */
const pushSlot = (g: Gen, ins: Insn, k: number) =>
  g.paged
    ? `a = ${RSP_LO} - 8; ah = ${RSP_HI}; if (a < 0) { a += 4294967296; ah = (ah - 1) >>> 0; } ea = a; t = ah; ${xlateJs(g, ins, k, 8, true)}`
    : `ea = ${RSP_LO} - 8; t = ${RSP_HI}; if (ea < 0) { ea += 4294967296; t = (t - 1) >>> 0; } if (t !== 0 || ea + 8 > MEM) ${g.exit(k, String(ins.addr))}`;
/** RSP := the slot pushSlot chose. */
const setRspPushed = (g: Gen) => (g.paged ? `${RSP_LO} = a; ${RSP_HI} = ah;` : `${RSP_LO} = ea; ${RSP_HI} = 0;`);
/** The stack top into `ea` (a RAM offset), leaving before instruction k if it is not wholly in RAM. */
const popSlot = (g: Gen, ins: Insn, k: number) =>
  g.paged
    ? `ea = ${RSP_LO}; t = ${RSP_HI}; ${xlateJs(g, ins, k, 8, false)}`
    : `ea = ${RSP_LO}; if (${RSP_HI} !== 0 || ea + 8 > MEM) ${g.exit(k, String(ins.addr))}`;
/** RSP += n after a pop (from RSP itself: with paging `ea` is not the linear address). */
const addRsp = (g: Gen, n: number, flatHi: string) =>
  g.paged
    ? `s = ${RSP_LO} + ${n}; ${RSP_LO} = s >>> 0; if (s > 4294967295) ${RSP_HI} = (${RSP_HI} + 1) >>> 0;`
    : `s = ea + ${n}; ${RSP_LO} = s >>> 0; ${flatHi}`;

/** 64-bit PUSH of a register or immediate. SDM PUSH: the value is read first (push rsp pushes the old
 *  RSP), then RSP -= 8 and the store. */
export const push: Emit = (g, ins, k) => {
  if (ins.k0 === K.Mem || ins.size !== 8) return null;
  return [
    operandJs(ins, ins.k0, ins.r0, 8, "r", "rh"),
    pushSlot(g, ins, k),
    cacheJs(8),
    setRspPushed(g),
    storeJs(g, ins, k, 8, "r", "rh"),
  ];
};

/** 64-bit POP into a register. */
export const pop: Emit = (g, ins, k) => {
  if (ins.k0 === K.Mem || ins.size !== 8) return null;
  return [
    popSlot(g, ins, k),
    cacheJs(8),
    loadJs(8, "r", "rh"),
    addRsp(g, 8, `${RSP_HI} = s > 4294967295 ? 1 : 0;`),
    regWrite(ins.r0, 8, "r", "rh"),
  ];
};

/** RDMSR at CPL 0 (the row's privilege check leaves the block first otherwise): the platform is asked
 *  with exact counts; Skip (KVM emulated and skipped it: the exit fast path) is completed here, any other
 *  action by the run loop exactly as the interpreter's exec would. */
export const rdmsr: Emit = (g, ins, k) => {
  const next = ins.addr + ins.len;
  return [
    // The FS/GS base MSRs never reach the platform (descriptors.ts readBaseMsr): the interpreter runs them.
    `if (((R[2] - ${MSR_FS_BASE}) >>> 0) < 3) ${g.exit(k, String(ins.addr))}`,
    `${g.flush(k)} ${g.onExit} ${cpuField("rflags")} = fl; ${cpuField("rip")} = ${ins.addr}; called = true;`,
    `u = ${cpuField("platform")}.rdmsr(c, ${ins.len});`,
    `if (u !== 1) { ${cpuField("jitAct")} = u; ${cpuField("jitIns")} = I[${k}]; ${g.exit(k, String(ins.addr))} }`,
    // Skip leaves RIP past the instruction; an interrupt or stop request is handled between blocks.
    `if (${cpuField("irqCount")} !== 0 || ${cpuField("stopReq")} >= 0) ${g.exit(k + 1, String(next))}`,
  ];
};

/** CALL rel32 (last in a block): push the return address, tell the predictor, leave for the target. */
export const call: Emit = (g, ins, k, x) => {
  if (!x.last || ins.target < 0 || ins.target >= g.memSize) return null;
  const next = ins.addr + ins.len;
  return [
    pushSlot(g, ins, k),
    cacheJs(8),
    setRspPushed(g),
    `dv.setUint32(ea, ${next >>> 0}, true); dv.setUint32(ea + 4, ${Math.floor(next / 4294967296)}, true);`,
    `pred.call(${next});`,
    "iters++;",
    // A store into code (the return address landing on decoded bytes) invalidates before leaving.
    `if ((cg[ea >>> 3] | cg[(ea + 7) >>> 3]) !== 0) ${cpuField("invalidate")}(ea, 8);`,
    g.exit(0, `${ins.target}`),
  ];
};

/** RET (last in a block). A target outside RAM (or non-canonical) is left to the interpreter: #GP, or
 *  #PF on the fetch. */
export const ret: Emit = (g, ins, k, x) => {
  if (!x.last) return null;
  const pop = 8 + (ins.k0 === K.Imm ? ins.immLo : 0);
  return [
    popSlot(g, ins, k),
    loadJs(8, "r", "rh"),
    `if (rh !== 0 || r >= MEM) ${g.exit(k, String(ins.addr))}`,
    cacheJs(8),
    addRsp(g, pop, `if (s > 4294967295) ${RSP_HI} = 1;`),
    "pred.ret(r);",
    "iters++;",
    g.exit(0, "r"),
  ];
};

const MISS = `{ ev.branchMispredicts++; ev.cycles += ${MISPREDICT_CYCLES}; ev.mispredictCycles += ${MISPREDICT_CYCLES}; }`;
/** A taken conditional branch's predictor update (uarch.ts BranchPredictor.conditional, state in `p0`):
 *  it mispredicts iff p0 is 1, or 0 with a forward target. */
export const predictTaken = (backward: boolean): string =>
  `if (p0 !== 2) { ${backward ? "if (p0 === 1)" : ""} ${MISS} p0 = 2; }`;
/** A not-taken conditional branch's: it mispredicts iff p0 is 2, or 0 with a backward target. */
const predictNotTaken = (backward: boolean): string =>
  `if (p0 !== 1) { ${backward ? "" : "if (p0 === 2)"} ${MISS} p0 = 1; }`;

/** The direct branches (last in a block): the condition, the predictor (uarch.ts
 *  BranchPredictor.conditional, inline, with its state in `p0`), and a loop back to the block start. */
function direct(cond: (ins: Insn, x: EmitCtx) => { pre: string[]; cond: string }, predicted: boolean): Emit {
  return (g, ins, _k, x) => {
    if (!x.last) return null;
    const target = ins.target,
      next = ins.addr + ins.len;
    if (target < 0 || target >= g.memSize) return null;
    const c = cond(ins, x);
    const lines = [...c.pre, `taken = ${c.cond};`];
    if (predicted) {
      // BranchPredictor.conditional split by outcome: a loop that keeps branching back finds p0 === 2 and
      // does no predictor work (a taken branch mispredicts iff p0 is 1, or 0 with a forward target).
      const backward = target <= ins.addr;
      lines.push(`if (taken) { ${predictTaken(backward)} } else { ${predictNotTaken(backward)} }`);
    }
    lines.push("iters++;");
    if (target === g.start) lines.push("if (taken && iters < maxIters) continue;");
    lines.push(g.exit(0, `taken ? ${target} : ${next}`));
    return lines;
  };
}
const rcxZero = (ins: Insn) => (ins.addr32 ? "R[2] === 0" : "(R[2] | R[3]) === 0");

export const jmp = direct(() => ({ pre: [], cond: "true" }), false);
export const jcc = direct((ins, x) => ({ pre: [], cond: x.deferred ?? condJs(ins.cc) }), true);
export const jrcxz = direct((ins) => ({ pre: [], cond: rcxZero(ins) }), true);
export const loop = direct((ins) => {
  const z = rcxZero(ins);
  const notZero = `!(${z})`;
  return {
    pre: [
      ins.addr32
        ? "R[2] = (R[2] - 1) >>> 0; R[3] = 0;"
        : "if (R[2] === 0) R[3] = (R[3] - 1) >>> 0; R[2] = (R[2] - 1) >>> 0;",
    ],
    cond:
      ins.sub === 0 ? notZero : ins.sub === 1 ? `${notZero} && (fl & ${ZF}) !== 0` : `${notZero} && (fl & ${ZF}) === 0`,
  };
}, true);

/** An instruction with no memory operand and no fault, compiled as a call of its interpreter function
 *  (`X[k]`, the row's exec): RFLAGS go through the CPU around the call. */
export const viaExec: Emit = (_g, ins, k) => {
  if (ins.k0 === K.Mem || ins.k1 === K.Mem) return null;
  return [`${cpuField("rflags")} = fl; X[${k}](c, I[${k}]); fl = ${cpuField("rflags")};`];
};

/** BT/BTS/BTR/BTC on a register (sem/bits.ts bitTest): the offset modulo the width; CF := the bit.
 *  A memory destination (bit-string addressing) is left to the interpreter. */
export const bitTest: Emit = (_g, ins, _k, x) => {
  if (ins.k0 === K.Mem) return null;
  const s = ins.size,
    w = s * 8;
  const lines = [
    regRead(ins.r0, s, "a", "ah"),
    ins.k1 === K.Imm ? `s = ${ins.immLo & (w - 1)};` : `s = R[${2 * ins.r1}] & ${w - 1};`,
    `t = s < 32 ? 1 << s : 1 << (s - 32); u = ((s < 32 ? a : ah) & t) !== 0 ? 1 : 0; fl = (fl & ~${CF}) | u;`,
  ];
  if (ins.sub === 0) return lines;
  const op = ins.sub === 1 ? "| t" : ins.sub === 2 ? "& ~t" : "^ t";
  lines.push(`if (s < 32) a = (a ${op}) >>> 0; else ah = (ah ${op}) >>> 0; r = a; rh = ah;`, x.writeDst());
  return lines;
};
