/**
 * The one x86-64 opcode table, read by the assembler's encoder (src/asm) and the CPU's decoder
 * (src/isa). Facts from the Intel SDM Vol. 2 opcode maps (Appendix A) and NASM's insns.dat forms.
 *
 * ROW FORMAT — one row per encoding form:
 *   mnemonic  the NASM mnemonic (lower case). Condition-code families are expanded: one row per cc
 *             with the canonical name (jz, setnz, cmovnc …) and `cc` = the condition number 0..15
 *             (SDM Table B-1: o no c nc z nz na a s ns pe po l nl ng g). Other spellings (je, jb,
 *             setae, loopz …) are in ALIASES, which maps them to the canonical row mnemonic.
 *   opcode    the opcode bytes after all prefixes and REX, escape included: [0x01], [0x0F, 0xAF].
 *             A third byte after 0F xx (0F 01 C1 vmcall, 0F AE E8 lfence) is a whole fixed ModRM byte:
 *             the decoder compares it exactly, and must try such rows before the /digit rows of the
 *             same 0F xx (lidt 0F 01 /3 and clflush 0F AE /7 are memory-only, so mod = 11 never
 *             matches them).
 *   modrm     "r" = a ModRM byte whose reg field holds a register operand (or a control register);
 *             0..7 = /digit: ModRM.reg is that opcode extension. Absent = no ModRM byte.
 *   plusReg   the register operand is in the low 3 bits of the last opcode byte (REX.B extends it);
 *             the row's opcode holds the +0 value (B8 = mov eax..edi, imm32).
 *   operands  NASM order (destination first). Operand kinds:
 *       r8 r16 r32 r64 r16/32/64 r16/32 r16/64    a general register (in ModRM.reg, or in the opcode
 *                                                 with plusReg)
 *       rm8 rm16 rm32 rm64 rm16/32/64 rm16/64     register or memory in ModRM.rm
 *       m                                         memory only, any size (lea, lidt, clflush, invlpg)
 *       r64rm                                     a 64-bit register in ModRM.rm (mov to/from CRn: the
 *                                                 mod bits are ignored and treated as 11, SDM MOV CR)
 *       cr                                        control register number in ModRM.reg (REX.R → cr8..15;
 *                                                 only cr0/2/3/4/8 exist, the others #UD at run time)
 *       imm8        8-bit immediate, not extended (port, shift count, ret's imm16 is imm16)
 *       imm8s       8-bit immediate sign-extended to the operand size
 *       imm16 imm32 imm64                         immediate of that exact width
 *       imm16/32    imm16 when the operand size is 16, else imm32 (sign-extended to 64 when it is 64)
 *       rel8 rel32  branch displacement from the end of the instruction, sign-extended
 *       al cl dx ax eax rax                       that fixed register (no encoding bits)
 *       rAX         ax/eax/rax by operand size (the accumulator short forms)
 *       1           the constant 1 (shift-by-one forms D0/D1)
 *       moffs       a 64-bit absolute address after the opcode (A0–A3; 32-bit with 0x67), written
 *                   `[qword addr]` (NASM); the operand's size is the other operand's
 *   A second immediate (ENTER imm16, imm8) follows the first; the decoder keeps it in insn.imm2.
 *       sreg        a segment register in ModRM.reg (ES CS SS DS FS GS = 0..5; 6 and 7 #UD)
 *       es cs ss ds fs gs  that segment register (PUSH/POP Sreg; no encoding bits)
 *       r16/32/64rm a general register of the operand size in ModRM.rm, mod = 11 only (mov r, Sreg)
 *       mfar        memory holding offset then selector: m16:16, m16:32, m16:64 by operand size,
 *                   written `far [mem]` (NASM; 64-bit code defaults to m16:64)
 *       ptr16:16/32 an offset (2 or 4 bytes by operand size) then a 16-bit selector after the opcode,
 *                   written `sel:offset`; decoded into immLo (offset) and immHi (selector)
 *   Operand size of a row (what "16/32/64" resolves to):
 *       default:        66 prefix → 16, REX.W → 64, otherwise 32 (SDM Vol. 1 §3.6.1 Table 3-4).
 *       default64:      near branches / push / pop: 64 without REX.W, 66 → 16; no 32-bit form
 *                       (SDM Vol. 1 §3.6.1 "default 64-bit operand size").
 *       osize:          a fixed size for the row: 16 needs 66, 64 needs REX.W (cbw/cwde/cdqe,
 *                       cwd/cdq/cqo, in/out ax/eax, movsxd, iretq, mov r64 imm64). Rows whose
 *                       size is 8 (rm8 …) ignore 66/REX.W.
 *       A row with "…/32" kinds but no 64 (r16/32) never matches with REX.W; the 64-bit form is
 *       the separate osize:64 row (B8+r: imm32 without REX.W, imm64 with it). Likewise a row with
 *       fixed kinds and osize:64 (movzx r64, rm16) is the REX.W form of the row before it.
 *       push imm (6A/68) is default64: imm8s/imm32 are sign-extended to 64 bits (66 → 16).
 *   prefix    a mandatory prefix byte before REX/opcode (pause = F3 90).
 *   only64    the row exists only in 64-bit code (swapgs: #UD elsewhere).
 *   no64      the row exists only in 16/32-bit code (SDM Appendix A "i64"); which rows exist in which
 *             code size, and what default64 and r64rm mean in 16/32-bit code, is src/isa/modes.ts.
 *   lock      the LOCK prefix is allowed (SDM Vol. 2 "LOCK": only these forms, and only with a memory
 *             destination; anything else with F0 is #UD). The assembler warns like NASM otherwise.
 *   decode    false = an encoder-only spelling of another row's bytes (test r, rm = 85 /r with the
 *             operands swapped; xchg r, rAX = 90+r). The decoder must skip these rows.
 *
 * Nothing here says what an instruction does: the CPU keys execution semantics by mnemonic (and cc).
 * PRIMARY_INDEX / MAP_0F_INDEX list the decodable rows by their opcode byte (plusReg rows appear under
 * all eight bytes) for the decoder.
 */
import { EXT_ROWS } from "./opcodes-ext.js";

import { SEG_ROWS } from "./opcodes-seg.js";

export type OperandKind =
  | "r8"
  | "r16"
  | "r32"
  | "r64"
  | "r16/32/64"
  | "r16/32"
  | "r16/64"
  | "rm8"
  | "rm16"
  | "rm32"
  | "rm64"
  | "rm16/32/64"
  | "rm16/64"
  | "m"
  | "r64rm"
  | "cr"
  | "imm8"
  | "imm8s"
  | "imm16"
  | "imm32"
  | "imm64"
  | "imm16/32"
  | "rel8"
  | "rel32"
  | "al"
  | "cl"
  | "dx"
  | "ax"
  | "eax"
  | "rax"
  | "rAX"
  | "moffs"
  | "sreg"
  | "es"
  | "cs"
  | "ss"
  | "ds"
  | "fs"
  | "gs"
  | "r16/32/64rm"
  | "mfar"
  | "ptr16:16/32"
  | "1";

export interface OpcodeRow {
  readonly mnemonic: string;
  readonly opcode: readonly number[];
  readonly modrm?: "r" | 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7;
  readonly plusReg?: boolean;
  readonly operands: readonly OperandKind[];
  readonly osize?: 16 | 32 | 64;
  readonly default64?: boolean;
  readonly prefix?: number;
  readonly cc?: number;
  readonly lock?: true;
  readonly decode?: false;
  /** Only outside 64-bit mode (SDM Appendix A "i64": 40+r inc/dec, push/pop of ES/CS/SS/DS);
   *  src/isa/modes.ts says which other rows exist in 16/32-bit code. */
  readonly no64?: true;
  /** Only in 64-bit mode (SDM Appendix A "o64"/"#UD outside 64-bit mode": swapgs). */
  readonly only64?: true;
  /** NASM never writes REX.W for it (mov rax, ds = 8C D8; sldt rax = 0F 00 C0): a 64-bit register
   *  operand is encoded as the 32-bit one. */
  readonly noRexW?: true;
}

/** Condition-code names by number (SDM Vol. 2 Table B-1), the spellings ndisasm prints. */
export const CC_NAMES: readonly string[] = [
  "o",
  "no",
  "c",
  "nc",
  "z",
  "nz",
  "na",
  "a",
  "s",
  "ns",
  "pe",
  "po",
  "l",
  "nl",
  "ng",
  "g",
];

/** Other NASM spellings of the condition codes → cc number. */
const CC_ALIASES: Readonly<Record<string, number>> = {
  b: 2,
  nae: 2,
  nb: 3,
  ae: 3,
  e: 4,
  ne: 5,
  be: 6,
  nbe: 7,
  p: 10,
  np: 11,
  nge: 12,
  ge: 13,
  le: 14,
  nle: 15,
};

type Row = OpcodeRow;
const ALU_OPS: readonly [string, number][] = [
  ["add", 0],
  ["or", 1],
  ["adc", 2],
  ["sbb", 3],
  ["and", 4],
  ["sub", 5],
  ["xor", 6],
  ["cmp", 7],
];
const SHIFT_OPS: readonly [string, number][] = [
  ["rol", 0],
  ["ror", 1],
  ["rcl", 2],
  ["rcr", 3],
  ["shl", 4],
  ["shr", 5],
  ["sar", 7],
];
const GROUP3_OPS: readonly [string, number][] = [
  ["not", 2],
  ["neg", 3],
  ["mul", 4],
  ["imul", 5],
  ["div", 6],
  ["idiv", 7],
];

function aluRows(): Row[] {
  const rows: Row[] = [];
  for (const [m, n] of ALU_OPS) {
    const b = n * 8;
    // SDM LOCK: every group-1 operation but CMP may be locked with a memory destination.
    const lk = m === "cmp" ? {} : { lock: true as const };
    rows.push(
      { mnemonic: m, opcode: [b + 0], modrm: "r", operands: ["rm8", "r8"], ...lk },
      { mnemonic: m, opcode: [b + 1], modrm: "r", operands: ["rm16/32/64", "r16/32/64"], ...lk },
      { mnemonic: m, opcode: [b + 2], modrm: "r", operands: ["r8", "rm8"] },
      { mnemonic: m, opcode: [b + 3], modrm: "r", operands: ["r16/32/64", "rm16/32/64"] },
      // 83 /n before the accumulator form: on a tie (add ax, 5: 66 83 C0 05 vs 66 05 05 00) NASM picks 83.
      { mnemonic: m, opcode: [0x83], modrm: n as 0, operands: ["rm16/32/64", "imm8s"], ...lk },
      { mnemonic: m, opcode: [b + 4], operands: ["al", "imm8"] },
      { mnemonic: m, opcode: [b + 5], operands: ["rAX", "imm16/32"] },
      { mnemonic: m, opcode: [0x80], modrm: n as 0, operands: ["rm8", "imm8"], ...lk },
      { mnemonic: m, opcode: [0x81], modrm: n as 0, operands: ["rm16/32/64", "imm16/32"], ...lk },
    );
  }
  return rows;
}

function shiftRows(): Row[] {
  const rows: Row[] = [];
  for (const [m, n] of SHIFT_OPS) {
    const d = n as 0;
    rows.push(
      { mnemonic: m, opcode: [0xd0], modrm: d, operands: ["rm8", "1"] },
      { mnemonic: m, opcode: [0xd2], modrm: d, operands: ["rm8", "cl"] },
      { mnemonic: m, opcode: [0xc0], modrm: d, operands: ["rm8", "imm8"] },
      { mnemonic: m, opcode: [0xd1], modrm: d, operands: ["rm16/32/64", "1"] },
      { mnemonic: m, opcode: [0xd3], modrm: d, operands: ["rm16/32/64", "cl"] },
      { mnemonic: m, opcode: [0xc1], modrm: d, operands: ["rm16/32/64", "imm8"] },
    );
  }
  return rows;
}

function group3Rows(): Row[] {
  const rows: Row[] = [];
  for (const [m, n] of GROUP3_OPS) {
    const lk = m === "not" || m === "neg" ? { lock: true as const } : {};
    rows.push(
      { mnemonic: m, opcode: [0xf6], modrm: n as 0, operands: ["rm8"], ...lk },
      { mnemonic: m, opcode: [0xf7], modrm: n as 0, operands: ["rm16/32/64"], ...lk },
    );
  }
  return rows;
}

function ccRows(): Row[] {
  const rows: Row[] = [];
  for (let cc = 0; cc < 16; cc++) {
    const n = CC_NAMES[cc];
    rows.push(
      { mnemonic: "j" + n, opcode: [0x70 + cc], operands: ["rel8"], cc },
      { mnemonic: "j" + n, opcode: [0x0f, 0x80 + cc], operands: ["rel32"], cc },
      { mnemonic: "set" + n, opcode: [0x0f, 0x90 + cc], modrm: 0, operands: ["rm8"], cc },
      { mnemonic: "cmov" + n, opcode: [0x0f, 0x40 + cc], modrm: "r", operands: ["r16/32/64", "rm16/32/64"], cc },
    );
  }
  return rows;
}

const FIXED_ROWS: readonly Row[] = [
  // test: 84/85 are MR; NASM also accepts the reg, r/m order with the same bytes.
  { mnemonic: "test", opcode: [0x84], modrm: "r", operands: ["rm8", "r8"] },
  { mnemonic: "test", opcode: [0x85], modrm: "r", operands: ["rm16/32/64", "r16/32/64"] },
  { mnemonic: "test", opcode: [0x84], modrm: "r", operands: ["r8", "rm8"], decode: false },
  { mnemonic: "test", opcode: [0x85], modrm: "r", operands: ["r16/32/64", "rm16/32/64"], decode: false },
  { mnemonic: "test", opcode: [0xa8], operands: ["al", "imm8"] },
  { mnemonic: "test", opcode: [0xa9], operands: ["rAX", "imm16/32"] },
  { mnemonic: "test", opcode: [0xf6], modrm: 0, operands: ["rm8", "imm8"] },
  { mnemonic: "test", opcode: [0xf7], modrm: 0, operands: ["rm16/32/64", "imm16/32"] },

  { mnemonic: "inc", opcode: [0xfe], modrm: 0, operands: ["rm8"], lock: true },
  { mnemonic: "inc", opcode: [0xff], modrm: 0, operands: ["rm16/32/64"], lock: true },
  { mnemonic: "dec", opcode: [0xfe], modrm: 1, operands: ["rm8"], lock: true },
  { mnemonic: "dec", opcode: [0xff], modrm: 1, operands: ["rm16/32/64"], lock: true },
  // 40+r / 48+r: inc/dec r16/32 outside 64-bit mode (there these bytes are REX prefixes).
  { mnemonic: "inc", opcode: [0x40], plusReg: true, operands: ["r16/32"], no64: true },
  { mnemonic: "dec", opcode: [0x48], plusReg: true, operands: ["r16/32"], no64: true },

  { mnemonic: "imul", opcode: [0x0f, 0xaf], modrm: "r", operands: ["r16/32/64", "rm16/32/64"] },
  { mnemonic: "imul", opcode: [0x6b], modrm: "r", operands: ["r16/32/64", "rm16/32/64", "imm8s"] },
  { mnemonic: "imul", opcode: [0x69], modrm: "r", operands: ["r16/32/64", "rm16/32/64", "imm16/32"] },

  { mnemonic: "mov", opcode: [0x88], modrm: "r", operands: ["rm8", "r8"] },
  { mnemonic: "mov", opcode: [0x89], modrm: "r", operands: ["rm16/32/64", "r16/32/64"] },
  { mnemonic: "mov", opcode: [0x8a], modrm: "r", operands: ["r8", "rm8"] },
  { mnemonic: "mov", opcode: [0x8b], modrm: "r", operands: ["r16/32/64", "rm16/32/64"] },
  { mnemonic: "mov", opcode: [0xb0], plusReg: true, operands: ["r8", "imm8"] },
  { mnemonic: "mov", opcode: [0xb8], plusReg: true, operands: ["r16/32", "imm16/32"] },
  { mnemonic: "mov", opcode: [0xb8], plusReg: true, operands: ["r64", "imm64"], osize: 64 },
  { mnemonic: "mov", opcode: [0xc6], modrm: 0, operands: ["rm8", "imm8"] },
  { mnemonic: "mov", opcode: [0xc7], modrm: 0, operands: ["rm16/32/64", "imm16/32"] },
  // MOV from/to control registers (SDM Vol. 2 "MOV—Move to/from Control Registers": 0F 20 /r, 0F 22 /r;
  // CR8 is encoded with REX.R).
  { mnemonic: "mov", opcode: [0x0f, 0x20], modrm: "r", operands: ["r64rm", "cr"] },
  { mnemonic: "mov", opcode: [0x0f, 0x22], modrm: "r", operands: ["cr", "r64rm"] },

  { mnemonic: "movzx", opcode: [0x0f, 0xb6], modrm: "r", operands: ["r16/32/64", "rm8"] },
  { mnemonic: "movzx", opcode: [0x0f, 0xb7], modrm: "r", operands: ["r32", "rm16"] },
  { mnemonic: "movzx", opcode: [0x0f, 0xb7], modrm: "r", operands: ["r64", "rm16"], osize: 64 },
  { mnemonic: "movsx", opcode: [0x0f, 0xbe], modrm: "r", operands: ["r16/32/64", "rm8"] },
  { mnemonic: "movsx", opcode: [0x0f, 0xbf], modrm: "r", operands: ["r32", "rm16"] },
  { mnemonic: "movsx", opcode: [0x0f, 0xbf], modrm: "r", operands: ["r64", "rm16"], osize: 64 },
  { mnemonic: "movsxd", opcode: [0x63], modrm: "r", operands: ["r64", "rm32"], osize: 64 },

  { mnemonic: "lea", opcode: [0x8d], modrm: "r", operands: ["r16/32/64", "m"] },

  { mnemonic: "cbw", opcode: [0x98], operands: [], osize: 16 },
  { mnemonic: "cwde", opcode: [0x98], operands: [], osize: 32 },
  { mnemonic: "cdqe", opcode: [0x98], operands: [], osize: 64 },
  { mnemonic: "cwd", opcode: [0x99], operands: [], osize: 16 },
  { mnemonic: "cdq", opcode: [0x99], operands: [], osize: 32 },
  { mnemonic: "cqo", opcode: [0x99], operands: [], osize: 64 },

  // 90 without REX.B is NOP (SDM XCHG: "90 is NOP"); the decoder must prefer the nop row for a bare 90.
  { mnemonic: "nop", opcode: [0x90], operands: [] },
  { mnemonic: "xchg", opcode: [0x90], plusReg: true, operands: ["rAX", "r16/32/64"] },
  { mnemonic: "xchg", opcode: [0x90], plusReg: true, operands: ["r16/32/64", "rAX"], decode: false },
  // NASM encodes xchg reg, reg with the first operand in ModRM.reg (xchg ecx, edx = 87 CA).
  { mnemonic: "xchg", opcode: [0x86], modrm: "r", operands: ["r8", "rm8"], decode: false, lock: true },
  { mnemonic: "xchg", opcode: [0x86], modrm: "r", operands: ["rm8", "r8"], lock: true },
  { mnemonic: "xchg", opcode: [0x87], modrm: "r", operands: ["r16/32/64", "rm16/32/64"], decode: false, lock: true },
  { mnemonic: "xchg", opcode: [0x87], modrm: "r", operands: ["rm16/32/64", "r16/32/64"], lock: true },
  { mnemonic: "nop", opcode: [0x0f, 0x1f], modrm: 0, operands: ["rm16/32/64"] },

  { mnemonic: "push", opcode: [0x50], plusReg: true, operands: ["r16/64"], default64: true },
  { mnemonic: "push", opcode: [0xff], modrm: 6, operands: ["rm16/64"], default64: true },
  { mnemonic: "push", opcode: [0x6a], operands: ["imm8s"], default64: true },
  { mnemonic: "push", opcode: [0x68], operands: ["imm16/32"], default64: true },
  { mnemonic: "pop", opcode: [0x58], plusReg: true, operands: ["r16/64"], default64: true },
  { mnemonic: "pop", opcode: [0x8f], modrm: 0, operands: ["rm16/64"], default64: true },
  { mnemonic: "pushfq", opcode: [0x9c], operands: [], default64: true, osize: 64 },
  { mnemonic: "popfq", opcode: [0x9d], operands: [], default64: true, osize: 64 },
  { mnemonic: "pushfd", opcode: [0x9c], operands: [], default64: true, osize: 32 },
  { mnemonic: "popfd", opcode: [0x9d], operands: [], default64: true, osize: 32 },

  { mnemonic: "call", opcode: [0xe8], operands: ["rel32"], default64: true },
  { mnemonic: "call", opcode: [0xff], modrm: 2, operands: ["rm64"], default64: true },
  { mnemonic: "jmp", opcode: [0xeb], operands: ["rel8"], default64: true },
  { mnemonic: "jmp", opcode: [0xe9], operands: ["rel32"], default64: true },
  { mnemonic: "jmp", opcode: [0xff], modrm: 4, operands: ["rm64"], default64: true },
  { mnemonic: "ret", opcode: [0xc3], operands: [], default64: true },
  { mnemonic: "ret", opcode: [0xc2], operands: ["imm16"], default64: true },

  // LOOP/LOOPcc/JRCXZ: rel8 only, count in RCX (address size 64).
  { mnemonic: "loopne", opcode: [0xe0], operands: ["rel8"], default64: true },
  { mnemonic: "loope", opcode: [0xe1], operands: ["rel8"], default64: true },
  { mnemonic: "loop", opcode: [0xe2], operands: ["rel8"], default64: true },
  { mnemonic: "jrcxz", opcode: [0xe3], operands: ["rel8"], default64: true },

  { mnemonic: "pause", opcode: [0x90], operands: [], prefix: 0xf3 },
  { mnemonic: "hlt", opcode: [0xf4], operands: [] },
  { mnemonic: "cli", opcode: [0xfa], operands: [] },
  { mnemonic: "sti", opcode: [0xfb], operands: [] },
  { mnemonic: "int3", opcode: [0xcc], operands: [] },
  { mnemonic: "int", opcode: [0xcd], operands: ["imm8"] },
  { mnemonic: "iretq", opcode: [0xcf], operands: [], osize: 64 },
  { mnemonic: "cpuid", opcode: [0x0f, 0xa2], operands: [] },
  { mnemonic: "wrmsr", opcode: [0x0f, 0x30], operands: [] },
  { mnemonic: "rdtsc", opcode: [0x0f, 0x31], operands: [] },
  { mnemonic: "rdmsr", opcode: [0x0f, 0x32], operands: [] },
  { mnemonic: "rdpmc", opcode: [0x0f, 0x33], operands: [] },
  { mnemonic: "ud2", opcode: [0x0f, 0x0b], operands: [] },
  { mnemonic: "vmcall", opcode: [0x0f, 0x01, 0xc1], operands: [] },
  { mnemonic: "rdtscp", opcode: [0x0f, 0x01, 0xf9], operands: [] },
  { mnemonic: "swapgs", opcode: [0x0f, 0x01, 0xf8], operands: [], only64: true },
  { mnemonic: "lidt", opcode: [0x0f, 0x01], modrm: 3, operands: ["m"] },
  { mnemonic: "invlpg", opcode: [0x0f, 0x01], modrm: 7, operands: ["m"] },
  { mnemonic: "lfence", opcode: [0x0f, 0xae, 0xe8], operands: [] },
  { mnemonic: "mfence", opcode: [0x0f, 0xae, 0xf0], operands: [] },
  // CLFLUSHOPT is 66 0F AE /7 with 66 as a mandatory prefix, not an operand size (in 16-bit code 0F AE /7
  // without 66 is still CLFLUSH): sorted before CLFLUSH, which would also decode it.
  { mnemonic: "clflushopt", opcode: [0x0f, 0xae], modrm: 7, operands: ["m"], prefix: 0x66 },
  { mnemonic: "clflush", opcode: [0x0f, 0xae], modrm: 7, operands: ["m"] },

  { mnemonic: "in", opcode: [0xe4], operands: ["al", "imm8"] },
  { mnemonic: "in", opcode: [0xe5], operands: ["ax", "imm8"], osize: 16 },
  { mnemonic: "in", opcode: [0xe5], operands: ["eax", "imm8"], osize: 32 },
  { mnemonic: "in", opcode: [0xec], operands: ["al", "dx"] },
  { mnemonic: "in", opcode: [0xed], operands: ["ax", "dx"], osize: 16 },
  { mnemonic: "in", opcode: [0xed], operands: ["eax", "dx"], osize: 32 },
  { mnemonic: "out", opcode: [0xe6], operands: ["imm8", "al"] },
  { mnemonic: "out", opcode: [0xe7], operands: ["imm8", "ax"], osize: 16 },
  { mnemonic: "out", opcode: [0xe7], operands: ["imm8", "eax"], osize: 32 },
  { mnemonic: "out", opcode: [0xee], operands: ["dx", "al"] },
  { mnemonic: "out", opcode: [0xef], operands: ["dx", "ax"], osize: 16 },
  { mnemonic: "out", opcode: [0xef], operands: ["dx", "eax"], osize: 32 },
];

/** Every encoding form. Order matters to the encoder: among equally short forms the first wins (NASM's
 *  insns.dat order: MR before RM for reg,reg). */
export const OPCODES: readonly OpcodeRow[] = [
  ...aluRows(),
  ...FIXED_ROWS,
  ...EXT_ROWS,
  ...SEG_ROWS,
  ...group3Rows(),
  ...shiftRows(),
  ...ccRows(),
];

/** NASM's other spellings → the canonical row mnemonic. */
export const ALIASES: Readonly<Record<string, string>> = (() => {
  const a: Record<string, string> = { sal: "shl", loopz: "loope", loopnz: "loopne" };
  for (const [name, cc] of Object.entries(CC_ALIASES)) {
    a["j" + name] = "j" + CC_NAMES[cc];
    a["set" + name] = "set" + CC_NAMES[cc];
    a["cmov" + name] = "cmov" + CC_NAMES[cc];
  }
  return a;
})();

function buildIndex(map0F: boolean): readonly (readonly OpcodeRow[])[] {
  const idx: OpcodeRow[][] = Array.from({ length: 256 }, () => []);
  for (const row of OPCODES) {
    if (row.decode === false) continue;
    const is0F = row.opcode[0] === 0x0f;
    if (is0F !== map0F) continue;
    const b = map0F ? row.opcode[1] : row.opcode[0];
    if (row.plusReg) for (let r = 0; r < 8; r++) idx[b + r].push(row);
    else idx[b].push(row);
  }
  // Fixed-ModRM rows (0F 01 C1 …) first, so the decoder tries them before /digit rows; then rows with a
  // mandatory prefix (F3 0F BC tzcnt before 0F BC bsf: without the prefix the plain row matches).
  for (const list of idx) list.sort((x, y) => y.opcode.length - x.opcode.length || (y.prefix ?? 0) - (x.prefix ?? 0));
  return idx;
}

/** Decodable rows by first opcode byte (one-byte map). Rows with a mandatory prefix are included; the
 *  decoder checks `prefix`. */
export const PRIMARY_INDEX: readonly (readonly OpcodeRow[])[] = buildIndex(false);
/** Decodable rows by the byte after 0F (two-byte map). */
export const MAP_0F_INDEX: readonly (readonly OpcodeRow[])[] = buildIndex(true);

/** Rows for a mnemonic (aliases resolved), for the encoder. */
export const ROWS_BY_MNEMONIC: ReadonlyMap<string, readonly OpcodeRow[]> = (() => {
  const m = new Map<string, OpcodeRow[]>();
  for (const row of OPCODES) {
    let list = m.get(row.mnemonic);
    if (!list) m.set(row.mnemonic, (list = []));
    list.push(row);
  }
  return m;
})();
