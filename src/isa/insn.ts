/**
 * One decoded instruction (Insn) and the small vocabularies it uses: operand kinds, decode failures, the
 * AH..BH register numbers. Filled by decode.ts; read by the interpreter, the block compiler and the
 * disassembler.
 */
import type { OpcodeRow } from "./opcodes.js";
import type { CodeBits } from "./modes.js";
import { Op } from "./ops.js";

/** Operand kinds after decoding. */
export const K = {
  None: 0,
  Reg: 1,
  Mem: 2,
  Imm: 3,
  Cr: 4,
  /** A segment register (r = ES CS SS DS FS GS = 0..5, or 6/7: #UD when executed). */
  Sreg: 5,
} as const;
export type K = (typeof K)[keyof typeof K];

/** Register numbers for 8-bit operands: 0..15 = AL..R15B (SPL/BPL/SIL/DIL with REX), 16..19 = AH, CH, DH, BH. */
export const AH = 16;

/** Why a decode failed (the CPU raises #UD, or #GP(0) for an over-long instruction, SDM §2.3.11). */
export const DecodeFail = {
  None: 0,
  Invalid: 1,
  TooLong: 2,
  Truncated: 3,
} as const;
export type DecodeFail = (typeof DecodeFail)[keyof typeof DecodeFail];

/** One decoded instruction. Monomorphic: every field is always present. */
export class Insn {
  addr = 0;
  len = 0;
  /** Executor operation (ops.ts) and the row it came from (for the disassembler). */
  op: Op = Op.Invalid;
  row: OpcodeRow | null = null;
  mnemonic = "";
  /** Operation size in bytes (1, 2, 4, 8) and, for movzx/movsx/movsxd, the source size. */
  size = 0;
  srcSize = 0;
  /** ModRM /digit or ALU sub-op; condition code for jcc/setcc/cmovcc. */
  sub = 0;
  cc = 0;
  /** Up to three operands. */
  k0: K = K.None;
  k1: K = K.None;
  k2: K = K.None;
  r0 = 0;
  r1 = 0;
  r2 = 0;
  /** Memory operand (at most one): base/index register (-1 none), scale, displacement halves. */
  base = -1;
  index = -1;
  scale = 1;
  dispLo = 0;
  dispHi = 0;
  /** 0x67: 32-bit address size (asize === 4). */
  addr32 = false;
  /** Address size in bytes: 8, 4 or 2 (modes.ts addressBytes). */
  asize = 8;
  /** Code size it was decoded for (16, 32, 64: modes.ts CodeBits). */
  mode: CodeBits = 64;
  /** Segment-override prefix (ES CS SS DS FS GS = 0..5), -1 for none. In 64-bit mode only FS/GS are
   *  kept (the others are null prefixes there). */
  seg = -1;
  /** RIP-relative (disp already made absolute). */
  ripRel = false;
  /** Displacement width as encoded (0, 1, 4), for the disassembler. */
  dispBytes = 0;
  /** Immediate as unsigned 32-bit halves, already extended to the operation size. Width as encoded. */
  immLo = 0;
  immHi = 0;
  immBytes = 0;
  /** Absolute branch target for rel8/rel32 (a number below 2^53; wraps handled by the CPU). */
  target = 0;
  relBytes = 0;
  /** Prefix bytes seen (for the disassembler): REX byte (0 if none), 66/67/F2/F3 presence. */
  rex = 0;
  pfx66 = false;
  /** LOCK (F0) seen (only on rows that allow it, with a memory destination: otherwise #UD). */
  lock = false;
  /** The last of F2/F3 seen (0 = none): REPNE/REP(E) on string instructions. */
  rep = 0;
  /** A second immediate (ENTER's nesting level, imm8). */
  imm2 = 0;
  /** Set to false when a store overwrites any of this instruction's bytes. */
  valid = true;
  /** Micro-architectural class (uarch.ts) and the decoded successor cache for straight-line runs. */
  next: Insn | null = null;
  taken: Insn | null = null;
  fail: DecodeFail = DecodeFail.None;
  /** Compiled blocks that contain this instruction (invalidated with it), and its execution count. */
  blocks: { valid: boolean; start: number; phys: number }[] | null = null;
  hits = 0;
}

/**
 * Copy what decodeInto fills from `src` into `dst` (a new Insn): every field but the ones that belong to
 * the CPU that runs it — `valid`, the successor links, the compiled blocks and the execution count keep
 * `dst`'s. For shared-decodes.ts; test/isa/shared-decodes checks that no field of Insn is left out.
 */
export function copyDecoded(dst: Insn, src: Insn): Insn {
  dst.addr = src.addr;
  dst.len = src.len;
  dst.op = src.op;
  dst.row = src.row;
  dst.mnemonic = src.mnemonic;
  dst.size = src.size;
  dst.srcSize = src.srcSize;
  dst.sub = src.sub;
  dst.cc = src.cc;
  dst.k0 = src.k0;
  dst.k1 = src.k1;
  dst.k2 = src.k2;
  dst.r0 = src.r0;
  dst.r1 = src.r1;
  dst.r2 = src.r2;
  dst.base = src.base;
  dst.index = src.index;
  dst.scale = src.scale;
  dst.dispLo = src.dispLo;
  dst.dispHi = src.dispHi;
  dst.addr32 = src.addr32;
  dst.asize = src.asize;
  dst.mode = src.mode;
  dst.seg = src.seg;
  dst.ripRel = src.ripRel;
  dst.dispBytes = src.dispBytes;
  dst.immLo = src.immLo;
  dst.immHi = src.immHi;
  dst.immBytes = src.immBytes;
  dst.target = src.target;
  dst.relBytes = src.relBytes;
  dst.rex = src.rex;
  dst.pfx66 = src.pfx66;
  dst.lock = src.lock;
  dst.rep = src.rep;
  dst.imm2 = src.imm2;
  dst.fail = src.fail;
  return dst;
}

/** The fields of Insn that copyDecoded leaves alone (the running CPU's). */
export const PER_CPU_INSN_FIELDS = ["valid", "next", "taken", "blocks", "hits"] as const;
