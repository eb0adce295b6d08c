/**
 * Instruction decoder: bytes in guest memory → a decoded instruction (Insn), driven by the shared opcode
 * table (src/isa/opcodes.ts, the same rows the assembler encodes from). Prefix, REX, ModRM/SIB and
 * immediate rules: SDM Vol. 2 §2.1–2.2; 16/32-bit code (no REX, 40–4F are inc/dec, 16-bit ModRM
 * addressing, Table 2-1): §2.1.5 and src/isa/modes.ts. The prefix and ModRM/SIB bytes are read in
 * decode-bytes.ts, the row is chosen in decode-rows.ts; this file fills the operands and immediates.
 */
import { ByteCursor, ModRM, Prefixes, readModrm, readPrefixes } from "./decode-bytes.js";
import { RowMatch, findRow, kindSize } from "./decode-rows.js";
import { AH, DecodeFail, Insn, K } from "./insn.js";
import { type CodeBits, addressBytes, defaultOperandBytes, kindInMode } from "./modes.js";
import { SREG_KIND } from "./opcodes-seg.js";
import { MAP_0F_INDEX, PRIMARY_INDEX, type OperandKind, type OpcodeRow } from "./opcodes.js";
import { Op } from "./ops.js";
import { opFor } from "./semantics.js";

export { AH, DecodeFail, Insn, K } from "./insn.js";

/**
 * Decode the instruction at `off` in `mem` (guest address `addr`), reading at most `avail` bytes (the
 * end of RAM). Fills and returns `out`; `out.fail` says why it could not be decoded.
 */
export function decodeInto(
  out: Insn,
  mem: Uint8Array,
  off: number,
  addr: number,
  avail: number,
  bits: CodeBits = 64,
): Insn {
  out.addr = addr;
  out.mode = bits;
  out.seg = -1;
  out.len = 0;
  out.op = Op.Invalid;
  out.row = null;
  out.mnemonic = "";
  out.size = 0;
  out.srcSize = 0;
  out.sub = 0;
  out.cc = 0;
  out.k0 = K.None;
  out.k1 = K.None;
  out.k2 = K.None;
  out.r0 = 0;
  out.r1 = 0;
  out.r2 = 0;
  out.base = -1;
  out.index = -1;
  out.scale = 1;
  out.dispLo = 0;
  out.dispHi = 0;
  out.addr32 = false;
  out.asize = 8;
  out.ripRel = false;
  out.dispBytes = 0;
  out.immLo = 0;
  out.immHi = 0;
  out.immBytes = 0;
  out.target = 0;
  out.relBytes = 0;
  out.rex = 0;
  out.pfx66 = false;
  out.lock = false;
  out.rep = 0;
  out.imm2 = 0;
  out.valid = true;
  out.next = null;
  out.taken = null;
  out.fail = DecodeFail.None;
  const cur = CUR;
  cur.reset(mem, off, avail);
  const pf = PFX;
  let b = readPrefixes(cur, pf, bits);
  if (b < 0) return failed(out, cur.p, avail);
  const { opsize, lock, rep, rex } = pf;
  out.seg = pf.seg;
  const rexW = (rex & 8) !== 0,
    rexR = (rex & 4) << 1,
    rexB = (rex & 1) << 3;
  out.rex = rex;
  out.pfx66 = opsize;
  out.lock = lock;
  out.rep = rep;
  let rows: readonly OpcodeRow[];
  let map0F = false;
  const opByte0 = b;
  if (b === 0x0f) {
    map0F = true;
    b = cur.byte();
    if (b < 0) return failed(out, cur.p, avail);
    rows = MAP_0F_INDEX[b];
  } else rows = PRIMARY_INDEX[b];
  if (rows.length === 0) return invalid(out, cur.p);
  const defOsz = defaultOperandBytes(bits);
  const osz64 = rexW ? 8 : opsize ? 6 - defOsz : defOsz;
  const asize = addressBytes(bits, pf.adsize);
  const found = findRow(MATCH, rows, pf, opByte0, map0F, cur.peek(), osz64, bits);
  const row = found.row;
  const osz = found.osz;
  // A ModRM byte past the end of the readable bytes: the fetch faults there (truncated), whatever
  // the opcode byte was — not #UD for some opcodes and #PF for others (issue 15 item 14).
  if (!row) return found.wantedPeek ? failed(out, cur.p, avail) : invalid(out, cur.p);
  if (row.opcode.length === (map0F ? 3 : 2)) cur.p++; // the fixed third byte
  const mrm = MRM;
  mrm.mod = 3;
  mrm.reg = 0;
  mrm.rm = 0;
  if (row.modrm !== undefined && !readModrm(cur, out, mrm, !row.operands.includes("r64rm"), asize, bits, rex))
    return failed(out, cur.p, avail);
  const mod = mrm.mod,
    regf = mrm.reg | rexR,
    rmf = mrm.rm;
  out.asize = asize;
  out.addr32 = asize === 4;
  out.row = row;
  out.mnemonic = row.mnemonic;
  out.cc = row.cc ?? 0;
  out.sub = typeof row.modrm === "number" ? row.modrm : 0;
  // Operation size: the first operand kind with a size, else the row's operand size.
  let size = 0;
  for (const k of row.operands) {
    size = kindSize(kindInMode(row, k, bits), osz, bits);
    if (size) break;
  }
  out.size = size || osz;
  // Operands
  const ks: K[] = [K.None, K.None, K.None];
  const rs = [0, 0, 0];
  let immKind: OperandKind | null = null,
    immSlot = -1;
  const plusR = ((map0F ? b : opByte0) & 7) | rexB;
  const reg8 = (n: number): number => (rex === 0 && n >= 4 && n < 8 ? AH + n - 4 : n);
  for (let i = 0; i < row.operands.length; i++) {
    const k = kindInMode(row, row.operands[i], bits);
    const ksz = kindSize(k, osz, bits);
    switch (k) {
      case "r8":
      case "r16":
      case "r32":
      case "r64":
      case "r16/32/64":
      case "r16/32":
      case "r16/64": {
        const n = row.plusReg ? plusR : regf;
        ks[i] = K.Reg;
        rs[i] = ksz === 1 ? reg8(n) : n;
        break;
      }
      case "rm8":
      case "rm16":
      case "rm32":
      case "rm64":
      case "rm16/32/64":
      case "rm16/64":
      case "m":
        if (mod === 3) {
          ks[i] = K.Reg;
          rs[i] = ksz === 1 ? reg8(rmf | rexB) : rmf | rexB;
        } else ks[i] = K.Mem;
        if (k === "rm8" || k === "rm16" || k === "rm32") {
          if (i > 0) out.srcSize = ksz;
        }
        break;
      case "r64rm":
        ks[i] = K.Reg;
        rs[i] = rmf | rexB;
        break;
      case "cr":
        ks[i] = K.Cr;
        rs[i] = regf;
        break;
      case "al":
      case "ax":
      case "eax":
      case "rax":
      case "rAX":
        ks[i] = K.Reg;
        rs[i] = 0;
        break;
      case "cl":
        ks[i] = K.Reg;
        rs[i] = 1;
        break;
      case "moffs": {
        // SDM "MOV" A0–A3: an absolute address of the address size (8 bytes, 4 with 0x67).
        const n = asize;
        if (!cur.readLe(n)) return failed(out, cur.p, avail);
        ks[i] = K.Mem;
        out.dispLo = cur.lo >>> 0;
        out.dispHi = cur.hi >>> 0;
        out.dispBytes = n;
        break;
      }
      case "dx":
        ks[i] = K.Reg;
        rs[i] = 2;
        break;
      case "1":
        ks[i] = K.Imm;
        out.immLo = 1;
        break;
      case "es":
      case "cs":
      case "ss":
      case "ds":
      case "fs":
      case "gs":
        ks[i] = K.Sreg;
        rs[i] = SREG_KIND[k];
        break;
      case "sreg":
        ks[i] = K.Sreg;
        rs[i] = regf & 7;
        break;
      case "r16/32/64rm":
        ks[i] = K.Reg;
        rs[i] = rmf | rexB;
        break;
      case "mfar":
        ks[i] = K.Mem;
        break;
      case "ptr16:16/32": {
        // Offset (by operand size), then the selector (SDM JMP "ptr16:16 / ptr16:32").
        const n = osz === 2 ? 2 : 4;
        let off = 0,
          sel = 0;
        for (let j = 0; j < n + 2; j++) {
          const d = cur.byte();
          if (d < 0) return failed(out, cur.p, avail);
          if (j < n) off |= d << (8 * j);
          else sel |= d << (8 * (j - n));
        }
        ks[i] = K.Imm;
        out.immLo = off >>> 0;
        out.immHi = sel;
        out.immBytes = n + 2;
        break;
      }
      case "rel8":
      case "rel32":
      case "imm8":
      case "imm8s":
      case "imm16":
      case "imm32":
      case "imm64":
      case "imm16/32":
        ks[i] = K.Imm;
        if (immKind === null) {
          immKind = k;
          immSlot = i;
        }
        break;
    }
  }
  if (immKind) {
    let n: number;
    switch (immKind) {
      case "rel8":
      case "imm8":
      case "imm8s":
        n = 1;
        break;
      case "imm16":
        n = 2;
        break;
      case "imm16/32":
        n = out.size === 2 ? 2 : 4;
        break;
      case "rel32":
        // rel16 when the operand size is 16 outside 64-bit mode (SDM JMP/CALL/Jcc "rel16").
        n = bits !== 64 && osz === 2 ? 2 : 4;
        break;
      case "imm64":
        n = 8;
        break;
      default:
        n = 4;
    }
    if (!cur.readLe(n)) return failed(out, cur.p, avail);
    let lo = cur.lo,
      hi = cur.hi;
    out.immBytes = n;
    if (immKind === "rel8" || immKind === "rel32") {
      const rel = n === 1 ? (lo << 24) >> 24 : n === 2 ? (lo << 16) >> 16 : lo | 0;
      out.relBytes = n;
      out.immLo = rel >>> 0;
      ks[immSlot] = K.None;
    } else {
      const signed = immKind === "imm8s" || (immKind === "imm16/32" && n === 4) || immKind === "imm32";
      if (n === 1) lo = signed ? (lo << 24) >> 24 : lo & 0xff;
      else if (n === 2) lo = lo & 0xffff;
      if (n < 8) hi = signed && (lo | 0) < 0 ? 0xffffffff : 0;
      // Truncate to the operation size (imm8s into a 16-bit operation, etc.).
      const sz = out.size;
      if (sz === 1) {
        lo &= 0xff;
        hi = 0;
      } else if (sz === 2) {
        lo &= 0xffff;
        hi = 0;
      } else if (sz === 4) hi = 0;
      if (immKind === "imm16") {
        lo &= 0xffff;
        hi = 0;
      }
      out.immLo = lo >>> 0;
      out.immHi = hi >>> 0;
    }
    if (immSlot + 1 < row.operands.length && row.operands[immSlot + 1] === "imm8") {
      // ENTER imm16, imm8: the nesting level follows the frame size.
      const d = cur.byte();
      if (d < 0) return failed(out, cur.p, avail);
      out.imm2 = d;
    }
  }
  out.len = cur.p;
  out.k0 = ks[0];
  out.k1 = ks[1];
  out.k2 = ks[2];
  out.r0 = rs[0];
  out.r1 = rs[1];
  out.r2 = rs[2];
  if (out.ripRel) {
    // RIP-relative: relative to the end of the instruction (SDM §2.2.1.6).
    const t = addr + cur.p + (out.dispLo | 0);
    out.dispLo = t >>> 0;
    out.dispHi = t < 0 ? 0xffffffff : Math.floor(t / 0x100000000) >>> 0;
  }
  if (out.relBytes) {
    out.target = addr + cur.p + (out.immLo | 0);
    // Outside 64-bit mode EIP wraps at 2^32, and a 16-bit operand size clears EIP[31:16] (SDM JMP).
    if (bits !== 64) out.target = osz === 2 ? out.target & 0xffff : out.target >>> 0;
  }
  out.op = opFor(row, out);
  if (out.op === Op.Invalid) return invalid(out, cur.p);
  // SDM "LOCK": #UD unless the instruction allows it and its destination is memory.
  if (lock && (row.lock !== true || out.k0 !== K.Mem)) return invalid(out, cur.p);
  return out;
}

const CUR = new ByteCursor();
const PFX = new Prefixes();
const MRM = new ModRM();
const MATCH = new RowMatch();

function invalid(out: Insn, p: number): Insn {
  out.fail = DecodeFail.Invalid;
  out.len = p;
  out.op = Op.Invalid;
  return out;
}

function failed(out: Insn, p: number, avail: number): Insn {
  out.fail = p >= 15 ? DecodeFail.TooLong : p >= avail ? DecodeFail.Truncated : DecodeFail.Invalid;
  out.len = p;
  out.op = Op.Invalid;
  return out;
}

/** Decode one instruction from a byte array (library API; `addr` is its guest address). */
export function decode(bytes: Uint8Array, offset = 0, addr = offset, bits: CodeBits = 64): Insn {
  return decodeInto(new Insn(), bytes, offset, addr, bytes.length - offset, bits);
}
