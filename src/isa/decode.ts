/**
 * Instruction decoder: bytes in guest memory → a decoded instruction (Insn), driven by the shared opcode
 * table (src/isa/opcodes.ts, the same rows the assembler encodes from). Prefix, REX, ModRM/SIB and
 * immediate rules: SDM Vol. 2 §2.1–2.2; 16/32-bit code (no REX, 40–4F are inc/dec, 16-bit ModRM
 * addressing, Table 2-1): §2.1.5 and src/isa/modes.ts.
 */
import { MAP_0F_INDEX, PRIMARY_INDEX, type OperandKind, type OpcodeRow } from "./opcodes.js";
import { AH, DecodeFail, Insn, K } from "./insn.js";
import { type CodeBits, addressBytes, defaultOperandBytes, kindInMode, r64rmBytes, rowInMode } from "./modes.js";
import { Op } from "./ops.js";
import { opFor } from "./semantics.js";

export { AH, DecodeFail, Insn, K } from "./insn.js";

function kindSize(k: OperandKind, osz: number, bits: CodeBits): number {
  switch (k) {
    case "r8":
    case "rm8":
    case "al":
      return 1;
    case "r16":
    case "rm16":
    case "ax":
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
  const max = Math.min(15, avail);
  let p = 0;
  const byte = (): number => (p < max ? mem[off + p++] : -1);
  // A little-endian field of n bytes (immediates, the moffs address) into leLo/leHi; false if truncated.
  let leLo = 0,
    leHi = 0;
  const readLe = (n: number): boolean => {
    leLo = 0;
    leHi = 0;
    for (let i = 0; i < n; i++) {
      const d = byte();
      if (d < 0) return false;
      if (i < 4) leLo |= d << (8 * i);
      else leHi |= d << (8 * (i - 4));
    }
    return true;
  };
  let opsize = false,
    adsize = false,
    lock = false,
    rep = 0,
    rex = 0;
  let b: number;
  // Legacy prefixes, then REX immediately before the opcode (a REX followed by a legacy prefix is ignored).
  for (;;) {
    b = byte();
    if (b < 0) return failed(out, p, avail);
    if (b === 0x66) {
      opsize = true;
      rex = 0;
      continue;
    }
    if (b === 0x67) {
      adsize = true;
      rex = 0;
      continue;
    }
    if (b === 0xf2 || b === 0xf3) {
      rep = b;
      rex = 0;
      continue;
    }
    if (b === 0xf0) {
      lock = true;
      rex = 0;
      continue;
    }
    const sg = SEG_PREFIX[b];
    if (sg >= 0) {
      // ES/CS/SS/DS overrides are null in 64-bit mode; FS/GS add their base (SDM Vol. 1 §3.3.7.1).
      if (bits !== 64 || sg >= 4) out.seg = sg;
      rex = 0;
      continue;
    }
    if ((b & 0xf0) === 0x40 && bits === 64) {
      rex = b;
      continue;
    }
    break;
  }
  const rexW = (rex & 8) !== 0,
    rexR = (rex & 4) << 1,
    rexX = (rex & 2) << 2,
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
    b = byte();
    if (b < 0) return failed(out, p, avail);
    rows = MAP_0F_INDEX[b];
  } else rows = PRIMARY_INDEX[b];
  if (rows.length === 0) return invalid(out, p);
  // Peek at a ModRM byte if any row needs one.
  const _modrmAt = p;
  const peek = p < max ? mem[off + p] : -1;
  const defOsz = defaultOperandBytes(bits);
  const osz64 = rexW ? 8 : opsize ? 6 - defOsz : defOsz;
  const asize = addressBytes(bits, adsize);
  let row: OpcodeRow | null = null;
  let osz = 4;
  let wantedPeek = false; // a row was passed over only because its ModRM/third byte is past the end
  for (const r of rows) {
    // A mandatory 66 (clflushopt) is the operand-size prefix byte; F2/F3 are the REP-group byte.
    if (r.prefix !== undefined ? (r.prefix === 0x66 ? !opsize : rep !== r.prefix) : false) continue;
    if (!rowInMode(r, bits)) continue;
    const s = r.default64 && bits === 64 ? (opsize ? 2 : 8) : osz64;
    if (!sizeOk(r, s, bits)) continue;
    const oplen = r.opcode.length;
    if (oplen === (map0F ? 3 : 2)) {
      if (peek < 0) wantedPeek = true;
      if (peek !== r.opcode[oplen - 1]) continue;
    } else if (typeof r.modrm === "number") {
      if (peek < 0) wantedPeek = true;
      if (peek < 0 || ((peek >> 3) & 7) !== r.modrm) continue;
      if (peek >> 6 === 3 && r.operands.includes("m")) continue;
    } else if (r.modrm === "r") {
      if (peek < 0) {
        wantedPeek = true;
        continue;
      }
      if (peek >> 6 === 3 && r.operands.includes("m")) continue;
    }
    if (r.mnemonic === "nop" && r.opcode[0] === 0x90 && (rexB || rep === 0xf3)) continue; // 90 + REX.B = xchg r8, rax
    if (r.mnemonic === "xchg" && r.plusReg && !rexB && (opByte0 & 7) === 0 && !map0F) continue;
    row = r;
    osz = s;
    break;
  }
  // A ModRM byte past the end of the readable bytes: the fetch faults there (truncated), whatever
  // the opcode byte was — not #UD for some opcodes and #PF for others (issue 15 item 14).
  if (!row) return wantedPeek ? failed(out, p, avail) : invalid(out, p);
  if (row.opcode.length === (map0F ? 3 : 2)) p++; // the fixed third byte
  // ModRM / SIB / displacement
  let mod = 3,
    regf = 0,
    rmf = 0;
  const hasModrm = row.modrm !== undefined;
  if (hasModrm) {
    const m = byte();
    if (m < 0) return failed(out, p, avail);
    mod = m >> 6;
    regf = ((m >> 3) & 7) | rexR;
    rmf = m & 7;
    if (mod !== 3 && asize === 2 && !row.operands.includes("r64rm")) {
      // 16-bit addressing (SDM Vol. 2 Table 2-1): [bx+si] [bx+di] [bp+si] [bp+di] [si] [di] [bp] [bx].
      out.base = MODRM16_BASE[rmf];
      out.index = MODRM16_INDEX[rmf];
      if (mod === 0 && rmf === 6) {
        out.base = -1;
        out.dispBytes = 2;
      } else out.dispBytes = mod === 1 ? 1 : mod === 2 ? 2 : 0;
      if (out.dispBytes > 0) {
        let v = 0;
        for (let i = 0; i < out.dispBytes; i++) {
          const d = byte();
          if (d < 0) return failed(out, p, avail);
          v |= d << (8 * i);
        }
        v = out.dispBytes === 1 ? (v << 24) >> 24 : (v << 16) >> 16;
        out.dispLo = v >>> 0;
        out.dispHi = v < 0 ? 0xffffffff : 0;
      }
    } else if (mod !== 3 && !row.operands.includes("r64rm")) {
      if (rmf === 4) {
        const sib = byte();
        if (sib < 0) return failed(out, p, avail);
        out.scale = 1 << (sib >> 6);
        const idx = ((sib >> 3) & 7) | rexX;
        out.index = idx === 4 ? -1 : idx;
        const bs = sib & 7;
        if (bs === 5 && mod === 0) {
          out.base = -1;
          mod = 2;
          out.dispBytes = 4;
          mod = -1;
        } else out.base = bs | rexB;
      } else if (rmf === 5 && mod === 0) {
        // RIP-relative in 64-bit mode; a plain disp32 in 32-bit addressing outside it.
        out.ripRel = bits === 64;
        out.dispBytes = 4;
      } else out.base = rmf | rexB;
      if (mod === 1) out.dispBytes = 1;
      else if (mod === 2) out.dispBytes = 4;
      if (out.dispBytes === 1) {
        const d = byte();
        if (d < 0) return failed(out, p, avail);
        const v = (d << 24) >> 24;
        out.dispLo = v >>> 0;
        out.dispHi = v < 0 ? 0xffffffff : 0;
      } else if (out.dispBytes === 4) {
        let v = 0;
        for (let i = 0; i < 4; i++) {
          const d = byte();
          if (d < 0) return failed(out, p, avail);
          v |= d << (8 * i);
        }
        out.dispLo = v >>> 0;
        out.dispHi = v < 0 ? 0xffffffff : 0;
      }
      if (mod === -1) mod = 0;
    }
  }
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
        if (!readLe(n)) return failed(out, p, avail);
        ks[i] = K.Mem;
        out.dispLo = leLo >>> 0;
        out.dispHi = leHi >>> 0;
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
    if (!readLe(n)) return failed(out, p, avail);
    let lo = leLo,
      hi = leHi;
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
      const d = byte();
      if (d < 0) return failed(out, p, avail);
      out.imm2 = d;
    }
  }
  out.len = p;
  out.k0 = ks[0];
  out.k1 = ks[1];
  out.k2 = ks[2];
  out.r0 = rs[0];
  out.r1 = rs[1];
  out.r2 = rs[2];
  if (out.ripRel) {
    // RIP-relative: relative to the end of the instruction (SDM §2.2.1.6).
    const t = addr + p + (out.dispLo | 0);
    out.dispLo = t >>> 0;
    out.dispHi = t < 0 ? 0xffffffff : Math.floor(t / 0x100000000) >>> 0;
  }
  if (out.relBytes) {
    out.target = addr + p + (out.immLo | 0);
    // Outside 64-bit mode EIP wraps at 2^32, and a 16-bit operand size clears EIP[31:16] (SDM JMP).
    if (bits !== 64) out.target = osz === 2 ? out.target & 0xffff : out.target >>> 0;
  }
  out.op = opFor(row, out);
  if (out.op === Op.Invalid) return invalid(out, p);
  // SDM "LOCK": #UD unless the instruction allows it and its destination is memory.
  if (lock && (row.lock !== true || out.k0 !== K.Mem)) return invalid(out, p);
  return out;
}

/** Segment-override prefix → segment register number (ES CS SS DS FS GS = 0..5), -1 for other bytes. */
const SEG_PREFIX: Int8Array = (() => {
  const t = new Int8Array(256).fill(-1);
  t[0x26] = 0;
  t[0x2e] = 1;
  t[0x36] = 2;
  t[0x3e] = 3;
  t[0x64] = 4;
  t[0x65] = 5;
  return t;
})();
/** 16-bit ModRM.rm → base / index register (SDM Vol. 2 Table 2-1; BX 3, BP 5, SI 6, DI 7). */
const MODRM16_BASE = [3, 3, 5, 5, 6, 7, 5, 3];
const MODRM16_INDEX = [6, 7, 6, 7, -1, -1, -1, -1];

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
