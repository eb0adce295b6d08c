/**
 * Which opcode row the bytes are (the row-matching half of the decoder, src/isa/decode.ts): the rows
 * under an opcode byte are tried in table order against the mandatory prefix, the code size
 * (src/isa/modes.ts), the operand size (opcodes.ts ROW FORMAT) and the ModRM byte's reg field and mod.
 */
import type { Prefixes } from "./decode-bytes.js";
import { type CodeBits, r64rmBytes, rowInMode } from "./modes.js";
import type { OperandKind, OpcodeRow } from "./opcodes.js";

/** The byte size of an operand kind at operand size `osz` (0: the kind has no size of its own). */
export function kindSize(k: OperandKind, osz: number, bits: CodeBits): number {
  switch (k) {
    case "r8":
    case "rm8":
    case "al":
      return 1;
    case "r16":
    case "rm16":
    case "ax":
    case "sreg":
      return 2;
    case "r32":
    case "rm32":
    case "eax":
      return 4;
    case "r64":
    case "rm64":
    case "rax":
      return 8;
    case "r64rm":
      return r64rmBytes(bits);
    case "r16/32/64rm":
    case "mfar":
    case "r16/32/64":
    case "rm16/32/64":
    case "r16/32":
    case "r16/64":
    case "rm16/64":
    case "rAX":
      return osz;
    default:
      return 0;
  }
}

/** Does the row accept this operand size? (opcodes.ts ROW FORMAT: osize, r16/32, default64.) */
function sizeOk(row: OpcodeRow, osz: number, bits: CodeBits): boolean {
  if (row.osize !== undefined && row.osize / 8 !== osz) {
    // Rows whose operation is 8-bit ignore 66/REX.W, as do rows with only fixed 8-bit/no-size operands.
    return false;
  }
  for (const k of row.operands)
    if ((k === "r16/32" && osz === 8) || ((k === "r16/64" || k === "rm16/64") && osz === 4 && bits === 64))
      return false;
  // A row whose destination is a fixed-size register and has no osize (movzx r32, rm16) is only the
  // form of that size; its REX.W twin is the separate osize:64 row (opcodes.ts ROW FORMAT).
  const k0 = row.operands[0];
  if (
    row.osize === undefined &&
    !row.default64 &&
    (k0 === "r16" || k0 === "r32" || k0 === "r64") &&
    kindSize(k0, osz, bits) !== osz
  )
    return false;
  return true;
}

/** Does the ModRM byte's mod field rule the row out (a memory-only operand with mod = 11, or the reverse)? */
function modMismatch(r: OpcodeRow, modrm: number): boolean {
  return modrm >> 6 === 3
    ? r.operands.includes("m") || r.operands.includes("mfar")
    : r.operands.includes("r16/32/64rm");
}

/** What findRow found: the row and its operand size, or why none matched. */
export class RowMatch {
  row: OpcodeRow | null = null;
  osz = 4;
  /** A row was passed over only because its ModRM / third byte is past the end of the readable bytes. */
  wantedPeek = false;
}

/**
 * The first row of `rows` (those under the opcode byte; `opByte` the last opcode byte, `map0F` for 0F xx)
 * that the prefixes, code size and the next byte `peek` (-1 past the end) fit.
 */
export function findRow(
  m: RowMatch,
  rows: readonly OpcodeRow[],
  pf: Prefixes,
  opByte: number,
  map0F: boolean,
  peek: number,
  osz64: number,
  bits: CodeBits,
): RowMatch {
  m.row = null;
  m.osz = 4;
  m.wantedPeek = false;
  const rexB = (pf.rex & 1) << 3;
  for (const r of rows) {
    // A mandatory 66 (clflushopt) is the operand-size prefix byte; F2/F3 are the REP-group byte.
    if (r.prefix !== undefined ? (r.prefix === 0x66 ? !pf.opsize : pf.rep !== r.prefix) : false) continue;
    if (!rowInMode(r, bits)) continue;
    const s = r.default64 && bits === 64 ? (pf.opsize ? 2 : 8) : osz64;
    if (!sizeOk(r, s, bits)) continue;
    const oplen = r.opcode.length;
    if (oplen === (map0F ? 3 : 2)) {
      if (peek < 0) m.wantedPeek = true;
      if (peek !== r.opcode[oplen - 1]) continue;
    } else if (typeof r.modrm === "number") {
      if (peek < 0) m.wantedPeek = true;
      if (peek < 0 || ((peek >> 3) & 7) !== r.modrm) continue;
      if (modMismatch(r, peek)) continue;
    } else if (r.modrm === "r") {
      if (peek < 0) {
        m.wantedPeek = true;
        continue;
      }
      if (modMismatch(r, peek)) continue;
    }
    if (r.mnemonic === "nop" && r.opcode[0] === 0x90 && (rexB || pf.rep === 0xf3)) continue; // 90 + REX.B = xchg r8, rax
    if (r.mnemonic === "xchg" && r.plusReg && !rexB && (opByte & 7) === 0 && !map0F) continue;
    m.row = r;
    m.osz = s;
    return m;
  }
  return m;
}
