/**
 * Instruction encoding from the shared opcode table (src/isa/opcodes.ts): match operands against
 * every row of the mnemonic, encode each match (SDM Vol. 2 ch. 2: legacy prefixes, REX, opcode,
 * ModRM, SIB, displacement, immediate) and keep the shortest, first row winning ties — which is how
 * NASM's -Ox optimiser chooses (checked byte-for-byte against nasm in test/asm/nasm-crosscheck).
 */
import { ROWS_BY_MNEMONIC, type OperandKind } from "../isa/opcodes.js";
import { encode } from "./instruction-bytes.js";
import type { Token } from "./lexer.js";
import type { ROp } from "./operand.js";
import { type Fail, GPR_KINDS, match, R_NOSIZE, R_SHAPE, RM_KINDS, s64, sizeName } from "./operand-match.js";
import { type CodeBits, rowInMode } from "../isa/modes.js";
import { REGISTERS, type RegInfo } from "./registers.js";
import { UNSUPPORTED_MNEMONICS } from "./unsupported.js";
import { err, ok, type Result } from "../result.js";

export interface EncodeEnv {
  /** Address of the instruction. */
  here: bigint;
  /** In late passes: never pick a form shorter than this (guarantees the passes converge). */
  minLen: number;
  /** Code size (`bits`): 64 unless the source says otherwise. */
  bits?: CodeBits;
}

/** Why no row encodes the operands: the token to underline and what to say. */
export interface EncodeError {
  tok: Token;
  message: string;
}

export type EncodeResult = Result<number[], EncodeError>;

export function encodeInstruction(mnemonic: string, opsIn: ROp[], mnTok: Token, env: EncodeEnv): EncodeResult {
  const rows = ROWS_BY_MNEMONIC.get(mnemonic);
  if (!rows) {
    const why = UNSUPPORTED_MNEMONICS.has(mnemonic)
      ? `'${mnemonic}' is not supported by vpmu (nor by its CPU model); see docs/assembler.md`
      : `unknown mnemonic '${mnemonic}'`;
    return err({ tok: mnTok, message: why });
  }
  let ops = opsIn;
  // NASM: `imul r, imm` is `imul r, r, imm` (insns.dat IMUL reg,imm forms).
  if (mnemonic === "imul" && ops.length === 2 && ops[0].t === "reg" && ops[1].t === "imm")
    ops = [ops[0], ops[0], ops[1]];
  // NASM -Ox: `mov r64, imm` with a known absolute imm in [0, 2^32) is `mov r32, imm32` (zero-extends;
  // checked against nasm 2.16). A label address keeps the imm64 form.
  let movImm64Only = false;
  const bits = env.bits ?? 64;
  if (
    bits === 64 &&
    mnemonic === "mov" &&
    ops.length === 2 &&
    ops[0].t === "reg" &&
    ops[0].reg.cls === "gpr" &&
    ops[0].reg.size === 64 &&
    ops[1].t === "imm"
  ) {
    const imm = ops[1];
    // `strict qword` keeps B8+r imm64 for any value; a bare `qword` is only a hint (nasm 2.16 -Ox).
    if (imm.reloc || (imm.strict && imm.size === 64)) movImm64Only = true;
    else if (
      !imm.strict &&
      (imm.size === 0 || imm.size === 64) &&
      !imm.unknown &&
      s64(imm.v) >= 0n &&
      imm.v < 1n << 32n
    ) {
      const r32 = [...REGISTERS.values()].find(
        (r) => r.cls === "gpr" && r.size === 32 && r.num === (ops[0] as { reg: RegInfo }).reg.num,
      )!;
      ops = [
        { t: "reg", reg: r32, tok: ops[0].tok },
        { ...imm, size: 0 },
      ];
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
    if (!rowInMode(row, bits)) {
      fail({ rank: R_SHAPE, tok: mnTok, message: `'${mnemonic}' has no such form in ${bits}-bit code` });
      continue;
    }
    const m = match(row, ops, fail, bits);
    if (!m) continue;
    const bytes = encode(m, env.here, fail, mnTok, bits);
    if (!bytes) continue;
    all.push(bytes);
    memSizes.add(m.memSize);
  }
  // A memory operand without a size keyword is an error when the forms that fit disagree on its size
  // (add [rax], 5; movzx eax, [rax]) — NASM: "operation size not specified".
  const sizeless = ops.find((o) => o.t === "mem" && o.size === 0);
  if (sizeless && all.length > 0 && (sawNoSize || memSizes.size > 1)) {
    return err({ tok: sizeless.tok, message: "operation size not specified (add byte/word/dword/qword)" });
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
      return err({
        tok: b.tok,
        message: `operand size mismatch: '${a.reg.name}' is ${sizeName(a.reg.size)}, '${b.reg.name}' is ${sizeName(b.reg.size)}`,
      });
    }
    const b = best as Fail | null;
    if (b) return err({ tok: b.tok, message: b.message });
    const arities = [...new Set(rows.map((r) => r.operands.length))].sort();
    return err({
      tok: mnTok,
      message: `'${mnemonic}' takes ${arities.join(" or ")} operand${arities.length === 1 && arities[0] === 1 ? "" : "s"}, not ${ops.length}`,
    });
  }
  const pool =
    env.minLen > 0 && all.some((b) => b.length >= env.minLen) ? all.filter((b) => b.length >= env.minLen) : all;
  for (const b of pool) {
    if (b.length < chosenLen) {
      chosen = b;
      chosenLen = b.length;
    }
  }
  return ok(chosen!);
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
