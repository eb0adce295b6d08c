/**
 * What the code size (16-, 32- or 64-bit code: `bits N` in NASM, CS.L/CS.D on the CPU) does to an
 * opcode row of opcodes.ts — the one rule the decoder (decode.ts) and the assembler's matcher
 * (src/asm/operand-match.ts) share. Facts: SDM Vol. 1 §3.6.1 (Table 3-4, operand/address size by mode),
 * Vol. 2 §2.2.1 (REX only in 64-bit mode), Appendix A (rows marked i64 / o64).
 */
import type { OpcodeRow, OperandKind } from "./opcodes.js";

/** The default code size: 64 (64-bit mode), 32 or 16 (protected mode or compatibility mode, by CS.D). */
export type CodeBits = 16 | 32 | 64;

const FIXED_64: ReadonlySet<OperandKind> = new Set<OperandKind>(["r64", "rm64", "rax", "imm64"]);

/**
 * Is the row an encoding in code of this size? Outside 64-bit mode there is no REX.W, so a row whose
 * operand size is 64 (osize: 64, or a fixed 64-bit register, r/m or imm64 operand that is not a
 * default-64 branch/stack row) does not exist; rows marked `no64` (40+r inc/dec, push/pop of ES/CS/SS/DS)
 * exist only there (SDM Appendix A "i64").
 */
export function rowInMode(row: OpcodeRow, bits: CodeBits): boolean {
  if (bits === 64) return row.no64 !== true;
  if (row.osize === 64 || row.only64) return false;
  if (row.default64) return true;
  for (const k of row.operands) if (FIXED_64.has(k)) return false;
  return true;
}

/**
 * The operand kind a row's kind stands for in code of this size. In 16/32-bit code the stack and near
 * branch rows (default64) take the mode's operand size (16 or 32: push eax, call [eax]). (The
 * control-register moves' r64rm is a 32-bit register there: SDM MOV CR "r32"; see r64rmBytes.)
 */
export function kindInMode(row: OpcodeRow, k: OperandKind, bits: CodeBits): OperandKind {
  if (bits === 64) return k;
  if (row.default64) {
    if (k === "rm64" || k === "rm16/64") return "rm16/32/64";
    if (k === "r16/64") return "r16/32/64";
  }
  return k;
}

/** Default operand size in bytes (SDM Vol. 1 Table 3-4): 4 in 64-bit and 32-bit code, 2 in 16-bit code. */
export function defaultOperandBytes(bits: CodeBits): number {
  return bits === 16 ? 2 : 4;
}

/** Default address size in bytes: 8, 4 or 2; the 0x67 prefix selects 4, 2 or 4 (Table 3-4). */
export function addressBytes(bits: CodeBits, pfx67: boolean): number {
  if (bits === 64) return pfx67 ? 4 : 8;
  if (bits === 32) return pfx67 ? 2 : 4;
  return pfx67 ? 4 : 2;
}

/** The register width of an r64rm operand (mov to/from CRn): 64-bit in 64-bit mode, else 32-bit. */
export function r64rmBytes(bits: CodeBits): number {
  return bits === 64 ? 8 : 4;
}
