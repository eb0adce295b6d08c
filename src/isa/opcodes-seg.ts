/**
 * Opcode rows of the segment and descriptor-table instructions (SDM Vol. 2 MOV Sreg, LGDT/LIDT,
 * SGDT/SIDT, LLDT/SLDT, LTR/STR, JMP/CALL far, RET far), in the ROW FORMAT of opcodes.ts.
 */
import type { OpcodeRow } from "./opcodes.js";

/** The fixed segment-register operand kinds (PUSH/POP Sreg) → Sreg number (SDM §3.1.1.3). */
export const SREG_KIND: Readonly<Record<string, number>> = { es: 0, cs: 1, ss: 2, ds: 3, fs: 4, gs: 5 };

export const SEG_ROWS: readonly OpcodeRow[] = [
  // MOV r/m, Sreg: memory is always 16 bits (no prefix); a register takes the operand size, and NASM
  // never adds REX.W (mov rax, ds = 8C D8).
  { mnemonic: "mov", opcode: [0x8c], modrm: "r", operands: ["m", "sreg"] },
  { mnemonic: "mov", opcode: [0x8c], modrm: "r", operands: ["r16/32/64rm", "sreg"], noRexW: true },
  { mnemonic: "mov", opcode: [0x8e], modrm: "r", operands: ["sreg", "rm16"] },
  { mnemonic: "lgdt", opcode: [0x0f, 0x01], modrm: 2, operands: ["m"] },
  { mnemonic: "sgdt", opcode: [0x0f, 0x01], modrm: 0, operands: ["m"] },
  { mnemonic: "sidt", opcode: [0x0f, 0x01], modrm: 1, operands: ["m"] },
  { mnemonic: "sldt", opcode: [0x0f, 0x00], modrm: 0, operands: ["m"] },
  { mnemonic: "sldt", opcode: [0x0f, 0x00], modrm: 0, operands: ["r16/32/64rm"], noRexW: true },
  { mnemonic: "str", opcode: [0x0f, 0x00], modrm: 1, operands: ["m"] },
  { mnemonic: "str", opcode: [0x0f, 0x00], modrm: 1, operands: ["r16/32/64rm"] },
  { mnemonic: "lldt", opcode: [0x0f, 0x00], modrm: 2, operands: ["rm16"] },
  { mnemonic: "ltr", opcode: [0x0f, 0x00], modrm: 3, operands: ["rm16"] },
  // Far transfers through memory: m16:16 (66), m16:32, m16:64 (REX.W; NASM's default in 64-bit code).
  { mnemonic: "jmp", opcode: [0xff], modrm: 5, operands: ["mfar"] },
  { mnemonic: "call", opcode: [0xff], modrm: 3, operands: ["mfar"] },
  // Direct far transfers (ptr16:16 / ptr16:32), not in 64-bit mode.
  { mnemonic: "jmp", opcode: [0xea], operands: ["ptr16:16/32"], no64: true },
  { mnemonic: "call", opcode: [0x9a], operands: ["ptr16:16/32"], no64: true },
  // RET far: the operand size is 32 by default even in 64-bit mode; retfq is the REX.W form (NASM).
  { mnemonic: "retfq", opcode: [0xcb], operands: [], osize: 64 },
  { mnemonic: "retfq", opcode: [0xca], operands: ["imm16"], osize: 64 },
  { mnemonic: "retf", opcode: [0xcb], operands: [] },
  { mnemonic: "retf", opcode: [0xca], operands: ["imm16"] },
  // IRET by operand size (iretq, the REX.W form, is in opcodes.ts); NASM's iretd/iretw add 66 as needed.
  { mnemonic: "iretd", opcode: [0xcf], operands: [], osize: 32 },
  { mnemonic: "iretw", opcode: [0xcf], operands: [], osize: 16 },
  { mnemonic: "iret", opcode: [0xcf], operands: [] },
  // PUSH/POP Sreg (SDM PUSH, POP): ES CS SS DS only outside 64-bit mode (#UD there); FS/GS in every
  // mode, with the stack operand size (default64 in 64-bit code). There is no POP CS.
  { mnemonic: "push", opcode: [0x06], operands: ["es"], no64: true },
  { mnemonic: "pop", opcode: [0x07], operands: ["es"], no64: true },
  { mnemonic: "push", opcode: [0x0e], operands: ["cs"], no64: true },
  { mnemonic: "push", opcode: [0x16], operands: ["ss"], no64: true },
  { mnemonic: "pop", opcode: [0x17], operands: ["ss"], no64: true },
  { mnemonic: "push", opcode: [0x1e], operands: ["ds"], no64: true },
  { mnemonic: "pop", opcode: [0x1f], operands: ["ds"], no64: true },
  { mnemonic: "push", opcode: [0x0f, 0xa0], operands: ["fs"], default64: true },
  { mnemonic: "pop", opcode: [0x0f, 0xa1], operands: ["fs"], default64: true },
  { mnemonic: "push", opcode: [0x0f, 0xa8], operands: ["gs"], default64: true },
  { mnemonic: "pop", opcode: [0x0f, 0xa9], operands: ["gs"], default64: true },
];
