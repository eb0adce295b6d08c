/**
 * Instruction encoding from the shared opcode table (src/isa/opcodes.ts): match operands against
 * every row of the mnemonic, encode each match (SDM Vol. 2 ch. 2: legacy prefixes, REX, opcode,
 * ModRM, SIB, displacement, immediate) and keep the shortest, first row winning ties — which is how
 * NASM's -Ox optimiser chooses (checked byte-for-byte against nasm in test/asm/nasm-crosscheck).
 */
import { ROWS_BY_MNEMONIC, type OpcodeRow, type OperandKind } from "../isa/opcodes.js";
import type { Token } from "./lexer.js";
import { REGISTERS, type RegInfo } from "./registers.js";
import { UNSUPPORTED_MNEMONICS } from "./unsupported.js";

/** An operand after its expression is evaluated. */
export type ROp =
  | { t: "reg"; reg: RegInfo; tok: Token }
  | {
      t: "imm";
      v: bigint;
      reloc: boolean;
      unknown: boolean;
      /** Size keyword (0 = none) and `strict`. */
      size: number;
      strict: boolean;
      jump?: "short" | "near";
      tok: Token;
    }
  | {
      t: "mem";
      size: number;
      base: RegInfo | null;
      index: RegInfo | null;
      scale: number;
      disp: bigint;
      dispReloc: boolean;
      dispUnknown: boolean;
      /** [rel x] / default rel with no registers: RIP-relative, disp = target − next RIP. */
      ripRel: boolean;
      /** Forced displacement width ([byte …] / [dword …]), 0 = choose. */
      dispSize: number;
      addr32: boolean;
      tok: Token;
    };

export interface EncodeEnv {
  /** Address of the instruction. */
  here: bigint;
  /** In late passes: never pick a form shorter than this (guarantees the passes converge). */
  minLen: number;
}

export type EncodeResult = { ok: true; bytes: number[] } | { ok: false; tok: Token; message: string };

type Fail = { rank: number; tok: Token; message: string };
const R_SHAPE = 0;
const R_SIZE = 1;
const R_NOSIZE = 2;
const R_RANGE = 3;

const sizeName = (s: number): string => `${s}-bit`;
const s64 = (v: bigint): bigint => BigInt.asIntN(64, v);

/** 2^n for the field widths used (precomputed: BigInt arithmetic allocates). */
const POW2: Readonly<Record<number, bigint>> = {
  7: 1n << 7n,
  8: 1n << 8n,
  15: 1n << 15n,
  16: 1n << 16n,
  31: 1n << 31n,
  32: 1n << 32n,
  63: 1n << 63n,
  64: 1n << 64n,
};
function fitsSigned(v: bigint, bits: number): boolean {
  const s = s64(v);
  const lim = POW2[bits - 1];
  return s >= -lim && s < lim;
}
/** NASM's bound for an n-bit field: -2^n <= v < 2^n (values outside only warn in NASM,
 *  "-w+number-overflow"; vpmu rejects them). */
function fitsEither(v: bigint, bits: number): boolean {
  const s = s64(v);
  const lim = POW2[bits];
  return s >= -lim && s < lim;
}

interface Match {
  row: OpcodeRow;
  osize: number;
  /** Operand in ModRM.reg (register), ModRM.rm, opcode low bits, immediate, relative target. */
  regOp: RegInfo | null;
  rmOp: ROp | null;
  plusOp: RegInfo | null;
  imm: { op: ROp & { t: "imm" }; width: number } | null;
  rel: { op: ROp & { t: "imm" }; width: number } | null;
  /** The size the row gives the memory operand (-1 for "m": no size). */
  memSize: number;
}

export function encodeInstruction(mnemonic: string, opsIn: ROp[], mnTok: Token, env: EncodeEnv): EncodeResult {
  const rows = ROWS_BY_MNEMONIC.get(mnemonic);
  if (!rows) {
    const why = UNSUPPORTED_MNEMONICS.has(mnemonic)
      ? `'${mnemonic}' is not supported by vpmu (nor by its CPU model); see docs/assembler.md`
      : `unknown mnemonic '${mnemonic}'`;
    return { ok: false, tok: mnTok, message: why };
  }
  let ops = opsIn;
  // NASM: `imul r, imm` is `imul r, r, imm` (insns.dat IMUL reg,imm forms).
  if (mnemonic === "imul" && ops.length === 2 && ops[0].t === "reg" && ops[1].t === "imm")
    ops = [ops[0], ops[0], ops[1]];
  // NASM -Ox: `mov r64, imm` with a known absolute imm in [0, 2^32) is `mov r32, imm32` (zero-extends;
  // checked against nasm 2.16). A label address keeps the imm64 form.
  let movImm64Only = false;
  if (
    mnemonic === "mov" &&
    ops.length === 2 &&
    ops[0].t === "reg" &&
    ops[0].reg.cls === "gpr" &&
    ops[0].reg.size === 64 &&
    ops[1].t === "imm"
  ) {
    const imm = ops[1];
    if (imm.reloc) movImm64Only = true;
    else if (!imm.strict && imm.size === 0 && !imm.unknown && s64(imm.v) >= 0n && imm.v < 1n << 32n) {
      const r32 = [...REGISTERS.values()].find(
        (r) => r.cls === "gpr" && r.size === 32 && r.num === (ops[0] as { reg: RegInfo }).reg.num,
      )!;
      ops = [{ t: "reg", reg: r32, tok: ops[0].tok }, imm];
    }
  }
  let best: Fail | null = null;
  let sawNoSize = false;
  const fail = (f: Fail): void => {
    if (f.rank === R_NOSIZE) sawNoSize = true;
    if (!best || f.rank > best.rank) best = f;
  };
  const memSizes = new Set<number>();
  let chosen: number[] | null = null;
  let chosenLen = Infinity;
  const all: number[][] = [];
  for (const row of rows) {
    if (row.operands.length !== ops.length) continue;
    if (movImm64Only && row.opcode[0] === 0xc7) continue;
    const m = match(row, ops, fail);
    if (!m) continue;
    const bytes = encode(m, env, fail, mnTok);
    if (!bytes) continue;
    all.push(bytes);
    memSizes.add(m.memSize);
  }
  // A memory operand without a size keyword is an error when the forms that fit disagree on its size
  // (add [rax], 5; movzx eax, [rax]) — NASM: "operation size not specified".
  const sizeless = ops.find((o) => o.t === "mem" && o.size === 0);
  if (sizeless && all.length > 0 && (sawNoSize || memSizes.size > 1)) {
    return { ok: false, tok: sizeless.tok, message: "operation size not specified (add byte/word/dword/qword)" };
  }
  if (all.length === 0) {
    // Two general registers of different sizes where the instruction needs one size: name both.
    const regs = ops.filter((o): o is ROp & { t: "reg" } => o.t === "reg" && o.reg.cls === "gpr");
    if (
      SAME_SIZE_PAIR.has(mnemonic) &&
      regs.length >= 2 &&
      ops[0].t === "reg" &&
      ops[1].t === "reg" &&
      regs[0].reg.size !== regs[1].reg.size
    ) {
      const [a, b] = regs;
      return {
        ok: false,
        tok: b.tok,
        message: `operand size mismatch: '${a.reg.name}' is ${sizeName(a.reg.size)}, '${b.reg.name}' is ${sizeName(b.reg.size)}`,
      };
    }
    const b = best as Fail | null;
    if (b) return { ok: false, tok: b.tok, message: b.message };
    const arities = [...new Set(rows.map((r) => r.operands.length))].sort();
    return {
      ok: false,
      tok: mnTok,
      message: `'${mnemonic}' takes ${arities.join(" or ")} operand${arities.length === 1 && arities[0] === 1 ? "" : "s"}, not ${ops.length}`,
    };
  }
  const pool =
    env.minLen > 0 && all.some((b) => b.length >= env.minLen) ? all.filter((b) => b.length >= env.minLen) : all;
  for (const b of pool) {
    if (b.length < chosenLen) {
      chosen = b;
      chosenLen = b.length;
    }
  }
  return { ok: true, bytes: chosen! };
}

const GPR_KINDS: Readonly<Record<string, readonly number[]>> = {
  r8: [8],
  r16: [16],
  r32: [32],
  r64: [64],
  "r16/32/64": [16, 32, 64],
  "r16/32": [16, 32],
  "r16/64": [16, 64],
  r64rm: [64],
};
const RM_KINDS: Readonly<Record<string, readonly number[]>> = {
  rm8: [8],
  rm16: [16],
  rm32: [32],
  rm64: [64],
  "rm16/32/64": [16, 32, 64],
  "rm16/64": [16, 64],
};
const FIXED_REG: Readonly<Record<string, [number, number]>> = {
  al: [0, 8],
  cl: [1, 8],
  dx: [2, 16],
  ax: [0, 16],
  eax: [0, 32],
  rax: [0, 64],
};
const HAS_BOTH_REL: ReadonlySet<string> = (() => {
  const s = new Set<string>();
  for (const [name, rows] of ROWS_BY_MNEMONIC) {
    if (rows.some((r) => r.operands[0] === "rel8") && rows.some((r) => r.operands[0] === "rel32")) s.add(name);
  }
  return s;
})();
const VAR_KINDS = new Set<OperandKind>(["r16/32/64", "r16/32", "r16/64", "rm16/32/64", "rm16/64", "rAX"]);

function match(row: OpcodeRow, ops: ROp[], fail: (f: Fail) => void): Match | null {
  let osize = row.osize ?? 0;
  const m: Match = { row, osize: 0, regOp: null, rmOp: null, plusOp: null, imm: null, rel: null, memSize: -1 };
  let sizeTok: Token | null = null;
  let sizeFrom = "";
  const setSize = (s: number, op: ROp): boolean => {
    if (osize === 0 || osize === s) {
      if (osize === 0) {
        sizeTok = op.tok;
        sizeFrom = op.t === "reg" ? `'${op.reg.name}' is ${sizeName(s)}` : `the operand is ${sizeName(s)}`;
      }
      osize = s;
      return true;
    }
    const what = op.t === "reg" ? `'${op.reg.name}' is ${sizeName(s)}` : `the operand is ${sizeName(s)}`;
    fail({
      rank: R_SIZE,
      tok: op.tok,
      message: `operand size mismatch: ${sizeFrom || `the instruction is ${sizeName(osize)}`}, ${what}`,
    });
    return false;
  };
  const variable = row.operands.some((k) => VAR_KINDS.has(k));
  // Operand classes first (register / memory / immediate / control register), so a row of another
  // shape never produces a size complaint.
  for (let i = 0; i < ops.length; i++) {
    if (!classFits(row.operands[i], ops[i], row.mnemonic)) {
      fail({ rank: R_SHAPE, tok: ops[i].tok, message: "invalid combination of opcode and operands" });
      return null;
    }
  }
  for (let i = 0; i < ops.length; i++) {
    const kind = row.operands[i];
    const op = ops[i];
    const shape = (): null => {
      fail({ rank: R_SHAPE, tok: op.tok, message: `invalid combination of opcode and operands` });
      return null;
    };
    const gpr = GPR_KINDS[kind];
    const rm = RM_KINDS[kind];
    if (gpr) {
      if (op.t !== "reg" || op.reg.cls !== "gpr") return shape();
      if (!gpr.includes(op.reg.size)) {
        if (gpr.length > 1 || kind === "r64rm") return shape();
        fail({
          rank: R_SIZE,
          tok: op.tok,
          message: `operand size mismatch: '${op.reg.name}' is ${sizeName(op.reg.size)}, expected a ${sizeName(gpr[0])} register`,
        });
        return null;
      }
      if (gpr.length > 1 && !setSize(op.reg.size, op)) return null;
      if (kind === "r64rm") m.rmOp = op;
      else if (row.plusReg) m.plusOp = op.reg;
      else m.regOp = op.reg;
    } else if (rm) {
      if (op.t === "reg") {
        if (op.reg.cls !== "gpr") return shape();
        if (!rm.includes(op.reg.size)) {
          if (rm.length === 1) {
            fail({
              rank: R_SIZE,
              tok: op.tok,
              message: `operand size mismatch: '${op.reg.name}' is ${sizeName(op.reg.size)}, expected ${sizeName(rm[0])}`,
            });
            return null;
          }
          return shape();
        }
        if (rm.length > 1 && !setSize(op.reg.size, op)) return null;
      } else if (op.t === "mem") {
        if (op.size !== 0) {
          if (!rm.includes(op.size)) {
            fail({
              rank: rm.length === 1 ? R_SIZE : R_SHAPE,
              tok: op.tok,
              message: `operand size mismatch: the memory operand is ${sizeName(op.size)}`,
            });
            return null;
          }
          if (rm.length > 1 && !setSize(op.size, op)) return null;
        }
      } else return shape();
      m.rmOp = op;
    } else if (kind === "m") {
      // NASM: lea takes a memory operand of any size; lidt/clflush take none ("mismatch in operand sizes").
      if (op.t === "imm" && !op.jump && op.size === 0 && row.mnemonic === "lea") {
        m.rmOp = {
          t: "mem",
          size: 0,
          base: null,
          index: null,
          scale: 1,
          disp: op.v,
          dispReloc: op.reloc,
          dispUnknown: op.unknown,
          ripRel: false,
          dispSize: 0,
          addr32: false,
          tok: op.tok,
        };
        continue;
      }
      if (op.t !== "mem") return shape();
      if (op.size !== 0 && row.mnemonic !== "lea") {
        fail({
          rank: R_SIZE,
          tok: op.tok,
          message: `operand size mismatch: '${row.mnemonic}' takes a memory operand without a size`,
        });
        return null;
      }
      m.rmOp = op;
    } else if (kind === "cr") {
      if (op.t !== "reg" || op.reg.cls !== "cr") return shape();
      m.regOp = op.reg;
    } else if (kind === "rAX") {
      if (op.t !== "reg" || op.reg.cls !== "gpr" || op.reg.num !== 0 || op.reg.size === 8) return shape();
      if (!setSize(op.reg.size, op)) return null;
    } else if (FIXED_REG[kind]) {
      const [num, size] = FIXED_REG[kind];
      if (op.t !== "reg" || op.reg.cls !== "gpr" || op.reg.num !== num || op.reg.size !== size || op.reg.highByte)
        return shape();
    } else if (kind === "1") {
      if (op.t !== "imm" || op.reloc || op.unknown || op.v !== 1n || op.strict || op.jump) return shape();
    } else if (kind === "rel8" || kind === "rel32") {
      if (op.t !== "imm" || op.size !== 0) return shape();
      if (kind === "rel8" && op.jump === "near") return shape();
      if (kind === "rel32" && op.jump === "short") return shape();
      // NASM takes `short`/`near` only where both forms exist (jmp, jcc), not on loop/jrcxz/call short.
      if (op.jump && !HAS_BOTH_REL.has(row.mnemonic)) return shape();
      // NASM shortens a jump only to a label ($-relative) target: `jmp 0x1000` / `jmp K` (a constant)
      // keep rel32 unless `short` is written (checked against nasm 2.16).
      if (kind === "rel8" && !op.reloc && !op.unknown && op.jump !== "short" && HAS_BOTH_REL.has(row.mnemonic))
        return shape();
      m.rel = { op, width: kind === "rel8" ? 1 : 4 };
    } else {
      // Immediates.
      if (op.t !== "imm" || op.jump) return shape();
      m.imm = { op, width: 0 };
    }
  }
  if (osize === 0 && row.default64) {
    // Default 64-bit operand size (push/pop/call/jmp/ret); `push word 5` is the 66 form; a memory
    // operand without a size is ambiguous for push/pop (16 or 64), as NASM says.
    const imm = m.imm?.op;
    if (imm && imm.size === 16) osize = 16;
    else if (variable && m.rmOp?.t === "mem") {
      fail({ rank: R_NOSIZE, tok: m.rmOp.tok, message: "operation size not specified (add word or qword)" });
      return null;
    } else osize = 64;
  }
  if (variable && osize === 0) {
    // A size keyword on the immediate can give the size (`mov [rax], dword 5`).
    const imm = m.imm?.op;
    if (imm && imm.size >= 16) osize = imm.size;
    else {
      fail({
        rank: R_NOSIZE,
        tok: (m.rmOp ?? ops[0]).tok,
        message: "operation size not specified (add byte/word/dword/qword)",
      });
      return null;
    }
  }
  if (row.osize && osize !== row.osize) {
    fail({ rank: R_SIZE, tok: sizeTok ?? ops[0]?.tok, message: `operand size mismatch` });
    return null;
  }
  m.osize = osize;
  if (m.rmOp?.t === "mem") {
    const kind = row.operands[ops.indexOf(m.rmOp)];
    const rk = RM_KINDS[kind];
    m.memSize = !rk ? -1 : rk.length === 1 ? rk[0] : osize;
  }
  // Immediate width and range, now that the operand size is known.
  if (m.imm) {
    const kind = row.operands[ops.indexOf(m.imm.op)];
    const op = m.imm.op;
    // A size keyword on an immediate must be the operand size; only mov r/m64, imm32 and push imm32
    // take a dword immediate for a 64-bit operation (NASM insns.dat).
    if (op.size !== 0 && kind !== "imm8" && op.size !== (osize || 8)) {
      const dwordFor64 = osize === 64 && op.size === 32 && (row.mnemonic === "mov" || row.default64 === true);
      const byteFor8s = kind === "imm8s" && op.size === 8;
      if (!dwordFor64 && !byteFor8s) {
        fail({
          rank: R_SIZE,
          tok: op.tok,
          message: `operand size mismatch: the immediate is ${sizeName(op.size)}, the operation ${sizeName(osize || 8)}`,
        });
        return null;
      }
    }
    if (kind === "imm8" && op.size !== 0 && op.size !== 8) {
      fail({
        rank: R_SIZE,
        tok: op.tok,
        message: `operand size mismatch: the immediate is ${sizeName(op.size)}, expected 8-bit`,
      });
      return null;
    }
    let width: number;
    let ok: boolean;
    switch (kind) {
      case "imm8":
        width = 1;
        ok = !op.reloc && (op.size === 0 || op.size === 8 || !op.strict) && fitsEither(op.v, 8);
        if (op.strict && op.size > 8) return shapeFail(fail, op);
        break;
      case "imm8s": {
        width = 1;
        if (op.reloc || (op.strict && op.size !== 8)) return shapeFail(fail, op);
        // push imm8 is sign-extended to 64 bits but NASM checks it as a 32-bit value (push 0xffffffff = 6A FF).
        const bits = row.default64 && osize === 64 ? 32 : osize || 8;
        // The value as the operand-size number must be a sign-extended byte (NASM: sbyte match).
        const asOp = bits === 64 ? s64(op.v) : BigInt.asIntN(bits, op.v);
        ok = fitsEither(op.v, bits) && asOp >= -128n && asOp <= 127n;
        if (!ok) return shapeFail(fail, op);
        break;
      }
      case "imm16":
        width = 2;
        ok = fitsEither(op.v, 16);
        break;
      case "imm32":
        width = 4;
        ok = fitsEither(op.v, 32);
        break;
      case "imm64":
        width = 8;
        ok = true;
        break;
      case "imm16/32":
        width = osize === 16 ? 2 : 4;
        if (op.strict && op.size !== 0 && op.size !== osize && !(osize === 64 && op.size === 32))
          return shapeFail(fail, op);
        ok = osize === 64 ? fitsSigned(op.v, 32) : fitsEither(op.v, width * 8);
        break;
      default:
        return shapeFail(fail, op);
    }
    if (!ok && !op.unknown) {
      const how =
        kind === "imm16/32" && osize === 64 ? "a 32-bit immediate sign-extended to 64 bits" : `${width * 8} bits`;
      fail({ rank: R_RANGE, tok: op.tok, message: `immediate out of range: ${s64(op.v)} does not fit ${how}` });
      return null;
    }
    m.imm.width = width;
  }
  return m;
}

function classFits(kind: OperandKind, op: ROp, mnemonic: string): boolean {
  if (GPR_KINDS[kind] || FIXED_REG[kind] || kind === "rAX") return op.t === "reg" && op.reg.cls === "gpr";
  if (RM_KINDS[kind]) return op.t === "mem" || (op.t === "reg" && op.reg.cls === "gpr");
  if (kind === "m") return op.t === "mem" || (mnemonic === "lea" && op.t === "imm");
  if (kind === "cr") return op.t === "reg" && op.reg.cls === "cr";
  return op.t === "imm";
}

/** Mnemonics with a row whose first two operands must have the same size (mov, add, xchg, test …). */
const SAME_SIZE_PAIR: ReadonlySet<string> = (() => {
  const s = new Set<string>();
  const sizes = (k: OperandKind): string | null => {
    const l = GPR_KINDS[k] ?? RM_KINDS[k];
    return l && k !== "r64rm" ? l.join("/") : null;
  };
  for (const [name, rows] of ROWS_BY_MNEMONIC) {
    for (const r of rows) {
      if (r.operands.length < 2) continue;
      const a = sizes(r.operands[0]);
      if (a !== null && a === sizes(r.operands[1])) s.add(name);
    }
  }
  return s;
})();

function shapeFail(fail: (f: Fail) => void, op: ROp): null {
  fail({ rank: R_SHAPE, tok: op.tok, message: "invalid combination of opcode and operands" });
  return null;
}

function encode(m: Match, env: EncodeEnv, fail: (f: Fail) => void, mnTok: Token): number[] | null {
  const row = m.row;
  const out: number[] = [];
  let rex = 0;
  let forceRex = false;
  let highByte: Token | null = null;
  const noteByteReg = (r: RegInfo, tok: Token | null): void => {
    if (r.needsRex) forceRex = true;
    if (r.highByte) highByte = tok ?? highByte ?? mnTok;
  };
  if (row.prefix) out.push(row.prefix);
  const sized =
    row.operands.some((k) => VAR_KINDS.has(k)) || row.osize !== undefined || (row.default64 === true && m.osize === 16);
  if (sized && m.osize === 16) out.push(0x66);
  if (sized && m.osize === 64 && !row.default64) rex |= 0x48;
  // ModRM.
  let modrm = -1;
  let sib = -1;
  let disp: number[] = [];
  let ripTarget: bigint | null = null;
  let ripAt = -1;
  const regField = row.modrm === undefined ? 0 : row.modrm === "r" ? (m.regOp ? m.regOp.num : 0) : row.modrm;
  if (m.regOp && row.modrm === "r") {
    if (m.regOp.num >= 8) rex |= 0x44;
    if (m.regOp.cls === "gpr") noteByteReg(m.regOp, null);
  }
  const rmTok = m.rmOp?.tok ?? null;
  if (row.modrm !== undefined) {
    const rmOp = m.rmOp;
    if (!rmOp) return null;
    if (rmOp.t === "reg") {
      modrm = 0xc0 | ((regField & 7) << 3) | (rmOp.reg.num & 7);
      if (rmOp.reg.num >= 8) rex |= 0x41;
      noteByteReg(rmOp.reg, rmTok);
    } else if (rmOp.t === "mem") {
      const ea = encodeEa(rmOp, regField, fail);
      if (!ea) return null;
      if (ea.addr32) out.push(0x67);
      modrm = ea.modrm;
      sib = ea.sib;
      disp = ea.disp;
      rex |= ea.rex;
      ripTarget = ea.ripTarget;
    } else return null;
  }
  if (m.plusOp) {
    if (m.plusOp.num >= 8) rex |= 0x41;
    noteByteReg(m.plusOp, null);
    // SDM XCHG: 90 without REX.B is NOP, so `xchg eax, eax` must use 87 /r (as NASM does).
    if (row.opcode[0] === 0x90 && m.plusOp.num === 0 && m.osize === 32) return null;
  }
  if (forceRex && rex === 0) rex = 0x40;
  if (rex !== 0 && highByte !== null) {
    fail({
      rank: R_SHAPE,
      tok: highByte,
      message: "ah/bh/ch/dh cannot be used in an instruction that needs a REX prefix",
    });
    return null;
  }
  if (rex !== 0 && m.regOp?.highByte) {
    fail({
      rank: R_SHAPE,
      tok: rmTok ?? mnTok,
      message: "ah/bh/ch/dh cannot be used in an instruction that needs a REX prefix",
    });
    return null;
  }
  if (rex !== 0) out.push(rex);
  for (let i = 0; i < row.opcode.length; i++) {
    let b = row.opcode[i];
    if (i === row.opcode.length - 1 && m.plusOp) b += m.plusOp.num & 7;
    out.push(b);
  }
  if (modrm >= 0) out.push(modrm);
  if (sib >= 0) out.push(sib);
  if (ripTarget !== null) ripAt = out.length;
  out.push(...disp);
  if (m.imm) pushLE(out, m.imm.op.v, m.imm.width);
  if (m.rel) {
    const end = env.here + BigInt(out.length + m.rel.width);
    const d = s64(BigInt.asUintN(64, m.rel.op.v - end));
    const w = m.rel.width;
    const lim = w === 1 ? 128n : 1n << 31n;
    if (!m.rel.op.unknown && (d < -lim || d >= lim)) {
      const short =
        w === 1 &&
        (m.rel.op.jump === "short" || !ROWS_BY_MNEMONIC.get(row.mnemonic)!.some((r) => r.operands[0] === "rel32"));
      fail({
        rank: short ? R_RANGE : R_SHAPE,
        tok: m.rel.op.tok,
        message: `jump out of range: target is ${d} bytes away, ${w === 1 ? "a short jump reaches -128..127" : "rel32 reaches ±2 GiB"}`,
      });
      return null;
    }
    pushLE(out, BigInt.asUintN(64, d), w);
  }
  if (ripTarget !== null) {
    const d = s64(BigInt.asUintN(64, ripTarget - (env.here + BigInt(out.length))));
    if (d < -(1n << 31n) || d >= 1n << 31n) {
      fail({ rank: R_RANGE, tok: rmTok!, message: "RIP-relative address out of range" });
      return null;
    }
    const bytes: number[] = [];
    pushLE(bytes, BigInt.asUintN(64, d), 4);
    for (let i = 0; i < 4; i++) out[ripAt + i] = bytes[i];
  }
  return out;
}

function pushLE(out: number[], v: bigint, width: number): void {
  // Two 32-bit halves as numbers, then bytes with integer ops (one BigInt step instead of eight).
  const lo = Number(BigInt.asUintN(32, v));
  const hi = width > 4 ? Number(BigInt.asUintN(32, v >> 32n)) : 0;
  for (let i = 0; i < width; i++) out.push(i < 4 ? (lo >>> (8 * i)) & 0xff : (hi >>> (8 * (i - 4))) & 0xff);
}

interface Ea {
  modrm: number;
  sib: number;
  disp: number[];
  rex: number;
  addr32: boolean;
  ripTarget: bigint | null;
}

/** ModRM/SIB/displacement for a memory operand (SDM Vol. 2 §2.1.5 Tables 2-2, 2-3; §2.2.1.6 RIP-relative). */
function encodeEa(op: ROp & { t: "mem" }, regField: number, fail: (f: Fail) => void): Ea | null {
  const reg3 = (regField & 7) << 3;
  const base = op.base;
  const index = op.index;
  if (!base && !index) {
    if (op.ripRel)
      return { modrm: 0x05 | reg3, sib: -1, disp: [0, 0, 0, 0], rex: 0, addr32: false, ripTarget: op.disp };
    // Absolute [disp32]: ModRM rm=100 + SIB base=101 index=100 (no RIP-relative without `rel`).
    if (!fitsSigned(op.disp, 32) && !op.dispUnknown) {
      fail({
        rank: R_RANGE,
        tok: op.tok,
        message: "absolute address does not fit a sign-extended 32-bit displacement",
      });
      return null;
    }
    const d: number[] = [];
    pushLE(d, op.disp, 4);
    return { modrm: 0x04 | reg3, sib: 0x25, disp: d, rex: 0, addr32: false, ripTarget: null };
  }
  let rex = 0;
  let mod: number;
  let dispW: number;
  const dv = s64(op.disp);
  if (op.dispSize === 8) {
    if (!fitsSigned(op.disp, 8)) {
      fail({ rank: R_RANGE, tok: op.tok, message: "displacement does not fit a byte" });
      return null;
    }
    mod = 1;
    dispW = 1;
  } else if (op.dispSize === 32 || op.dispReloc) {
    mod = 2;
    dispW = 4;
  } else if (dv === 0n && !(base && (base.num & 7) === 5)) {
    mod = 0;
    dispW = 0;
  } else if (dv >= -128n && dv <= 127n) {
    mod = 1;
    dispW = 1;
  } else {
    mod = 2;
    dispW = 4;
  }
  if (dispW === 4 && !fitsSigned(op.disp, 32) && !op.dispUnknown) {
    fail({ rank: R_RANGE, tok: op.tok, message: "displacement does not fit 32 bits" });
    return null;
  }
  let modrm: number;
  let sib = -1;
  if (!base) {
    // [index*scale + disp32]: SIB with base=101 and mod=00.
    mod = 0;
    dispW = 4;
    modrm = reg3 | 0x04;
    sib = (scaleBits(op.scale) << 6) | ((index!.num & 7) << 3) | 5;
    if (index!.num >= 8) rex |= 0x42;
  } else if (index || (base.num & 7) === 4) {
    modrm = (mod << 6) | reg3 | 0x04;
    const idx = index ? index.num & 7 : 4;
    sib = (scaleBits(op.scale) << 6) | (idx << 3) | (base.num & 7);
    if (index && index.num >= 8) rex |= 0x42;
    if (base.num >= 8) rex |= 0x41;
  } else {
    modrm = (mod << 6) | reg3 | (base.num & 7);
    if (base.num >= 8) rex |= 0x41;
  }
  const d: number[] = [];
  pushLE(d, op.disp, dispW);
  return { modrm, sib, disp: d, rex, addr32: op.addr32, ripTarget: null };
}

function scaleBits(s: number): number {
  return s === 8 ? 3 : s === 4 ? 2 : s === 2 ? 1 : 0;
}
