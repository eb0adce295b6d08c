/**
 * Operand matching against one opcode row (src/isa/opcodes.ts operand kinds, NASM insns.dat rules):
 * the operand size, which operand goes to ModRM.reg / ModRM.rm / the opcode / the immediate / the
 * relative target, and — when a row does not fit — a ranked reason, so the best complaint is reported.
 */
import { ROWS_BY_MNEMONIC, type OpcodeRow, type OperandKind } from "../isa/opcodes.js";
import { SREG_KIND } from "../isa/opcodes-seg.js";
import type { Token } from "./lexer.js";
import type { ROp } from "./operand.js";
import type { RegInfo } from "./registers.js";
import { type CodeBits, kindInMode } from "../isa/modes.js";

const R32_ONLY: readonly number[] = [32];

/** Why a row did not fit; the highest rank over all rows is what the user sees. */
export type Fail = { rank: number; tok: Token; message: string };
export const R_SHAPE = 0;
export const R_SIZE = 1;
export const R_NOSIZE = 2;
export const R_RANGE = 3;

export const sizeName = (s: number): string => `${s}-bit`;
export const s64 = (v: bigint): bigint => BigInt.asIntN(64, v);

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
export function fitsSigned(v: bigint, bits: number): boolean {
  const s = s64(v);
  const lim = POW2[bits - 1];
  return s >= -lim && s < lim;
}
/** NASM's bound for an n-bit field: -2^n <= v < 2^n (values outside only warn in NASM,
 *  "-w+number-overflow"; vpmu rejects them). */
export function fitsEither(v: bigint, bits: number): boolean {
  const s = s64(v);
  const lim = POW2[bits];
  return s >= -lim && s < lim;
}

export interface Match {
  row: OpcodeRow;
  osize: number;
  /** Operand in ModRM.reg (register), ModRM.rm, opcode low bits, immediate, relative target. */
  regOp: RegInfo | null;
  rmOp: ROp | null;
  plusOp: RegInfo | null;
  imm: { op: ROp & { t: "imm" }; width: number } | null;
  rel: { op: ROp & { t: "imm" }; width: number } | null;
  /** A moffs operand (MOV A0–A3): its address (of the operand's address size) follows the opcode. */
  moffs: (ROp & { t: "mem" }) | null;
  /** A second immediate (ENTER's nesting level). */
  imm2: (ROp & { t: "imm" }) | null;
  /** A `sel:offset` far pointer (ptr16:16/32). */
  ptr: (ROp & { t: "ptr" }) | null;
  /** The size the row gives the memory operand (-1 for "m": no size). */
  memSize: number;
}

export const GPR_KINDS: Readonly<Record<string, readonly number[]>> = {
  r8: [8],
  r16: [16],
  r32: [32],
  r64: [64],
  "r16/32/64": [16, 32, 64],
  "r16/32": [16, 32],
  "r16/64": [16, 64],
  r64rm: [64],
  "r16/32/64rm": [16, 32, 64],
};
export const RM_KINDS: Readonly<Record<string, readonly number[]>> = {
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
export const VAR_KINDS = new Set<OperandKind>([
  "r16/32/64",
  "r16/32",
  "r16/64",
  "rm16/32/64",
  "rm16/64",
  "rAX",
  "r16/32/64rm",
  "mfar",
]);

export function match(row: OpcodeRow, ops: ROp[], fail: (f: Fail) => void, bits: CodeBits = 64): Match | null {
  let osize = row.osize ?? 0;
  const m: Match = {
    row,
    osize: 0,
    regOp: null,
    rmOp: null,
    plusOp: null,
    imm: null,
    rel: null,
    moffs: null,
    imm2: null,
    ptr: null,
    memSize: -1,
  };
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
  // In 16/32-bit code the stack and branch rows take the mode's sizes (src/isa/modes.ts).
  const kinds = row.operands.map((k) => kindInMode(row, k, bits));
  const variable = kinds.some((k) => VAR_KINDS.has(k));
  // Operand classes first (register / memory / immediate / control register), so a row of another
  // shape never produces a size complaint.
  for (let i = 0; i < ops.length; i++) {
    if (!classFits(kinds[i], ops[i], row.mnemonic)) {
      fail({ rank: R_SHAPE, tok: ops[i].tok, message: "invalid combination of opcode and operands" });
      return null;
    }
  }
  for (let i = 0; i < ops.length; i++) {
    const kind = kinds[i];
    const op = ops[i];
    const shape = (): null => {
      fail({ rank: R_SHAPE, tok: op.tok, message: `invalid combination of opcode and operands` });
      return null;
    };
    const gpr = kind === "r64rm" && bits !== 64 ? R32_ONLY : GPR_KINDS[kind];
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
      if (kind === "r64rm" || kind === "r16/32/64rm") m.rmOp = op;
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
          asize: bits,
          addr32: false,
          seg: -1,
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
    } else if (SREG_KIND[kind] !== undefined) {
      if (op.t !== "reg" || op.reg.cls !== "sreg" || op.reg.num !== SREG_KIND[kind]) return shape();
    } else if (kind === "sreg") {
      if (op.t !== "reg" || op.reg.cls !== "sreg") return shape();
      m.regOp = op.reg;
    } else if (kind === "mfar") {
      // far [mem]: the size keyword is the offset's (m16:16/32/64); default 64 in 64-bit code (NASM).
      if (op.t !== "mem" || !op.far) return shape();
      const s = op.size || (bits === 64 ? 64 : bits);
      if (s === 8 || (s === 64 && bits !== 64)) return shape();
      if (!setSize(s, op)) return null;
      m.rmOp = op;
    } else if (kind === "ptr16:16/32") {
      if (op.t !== "ptr") return shape();
      const s = op.size || (bits === 16 ? 16 : 32);
      if (s !== 16 && s !== 32) return shape();
      osize = s;
      m.ptr = op;
    } else if (kind === "cr") {
      if (op.t !== "reg" || op.reg.cls !== "cr") return shape();
      m.regOp = op.reg;
    } else if (kind === "moffs") {
      // SDM "MOV" A0–A3: an absolute address of the address size. NASM picks it for any register-free
      // address outside 64-bit code (16 or 32 bits, the mode's or the one `[word …]`/`[dword …]` forces:
      // 0x67) and, in 64-bit code, only for `[qword addr]` (a 64-bit address).
      if (op.t !== "mem" || op.base || op.index || op.ripRel) return shape();
      if (bits === 64 ? op.dispSize !== 64 || op.addr32 : op.dispSize === 8 || op.dispSize === 64) return shape();
      if (op.size !== 0 && row.operands.includes("al") && op.size !== 8) {
        fail({
          rank: R_SIZE,
          tok: op.tok,
          message: `operand size mismatch: the memory operand is ${sizeName(op.size)}`,
        });
        return null;
      }
      if (op.size !== 0 && !row.operands.includes("al") && !setSize(op.size, op)) return null;
      m.moffs = op;
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
      if (m.imm) {
        // ENTER imm16, imm8: the second immediate is a byte.
        if (kind !== "imm8" || op.reloc || (op.size !== 0 && op.size !== 8)) return shape();
        if (!op.unknown && !fitsEither(op.v, 8)) {
          fail({ rank: R_RANGE, tok: op.tok, message: `immediate out of range: ${s64(op.v)} does not fit 8 bits` });
          return null;
        }
        m.imm2 = op;
      } else m.imm = { op, width: 0 };
    }
  }
  if (osize === 0 && row.default64) {
    // Default 64-bit operand size (push/pop/call/jmp/ret); `push word 5` is the 66 form; a memory
    // operand without a size is ambiguous for push/pop (16 or 64), as NASM says. In 16/32-bit code the
    // default is the code size, and call/jmp [mem] take it without a size (NASM).
    const imm = m.imm?.op;
    const def = bits === 64 ? 64 : bits;
    if (imm && imm.size === 16) osize = 16;
    else if (imm && imm.size === 32 && bits !== 64) osize = 32;
    else if (variable && m.rmOp?.t === "mem" && (bits === 64 || row.operands[ops.indexOf(m.rmOp)] !== "rm64")) {
      fail({ rank: R_NOSIZE, tok: m.rmOp.tok, message: "operation size not specified (add word or qword)" });
      return null;
    } else osize = def;
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
    const kind = kinds[ops.indexOf(m.rmOp)];
    const rk = RM_KINDS[kind];
    m.memSize = !rk ? -1 : rk.length === 1 ? rk[0] : osize;
  } else if (m.moffs) m.memSize = row.operands.includes("al") ? 8 : osize;
  // Immediate width and range, now that the operand size is known.
  if (m.imm) {
    const kind = kinds[ops.indexOf(m.imm.op)];
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
  if (op.t === "mem" && op.far) return kind === "mfar";
  if (RM_KINDS[kind]) return op.t === "mem" || (op.t === "reg" && op.reg.cls === "gpr");
  if (kind === "m") return op.t === "mem" || (mnemonic === "lea" && op.t === "imm");
  if (kind === "sreg" || SREG_KIND[kind] !== undefined) return op.t === "reg" && op.reg.cls === "sreg";
  if (kind === "mfar") return false;
  if (kind === "ptr16:16/32") return op.t === "ptr";
  if (kind === "cr") return op.t === "reg" && op.reg.cls === "cr";
  if (kind === "moffs") return op.t === "mem";
  return op.t === "imm";
}

function shapeFail(fail: (f: Fail) => void, op: ROp): null {
  fail({ rank: R_SHAPE, tok: op.tok, message: "invalid combination of opcode and operands" });
  return null;
}
