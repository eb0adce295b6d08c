/**
 * The bytes of one matched instruction (SDM Vol. 2 ch. 2: legacy prefixes, REX, opcode, ModRM, SIB,
 * displacement, immediate, relative target), with the range checks NASM makes on each field.
 */
import { ROWS_BY_MNEMONIC } from "../isa/opcodes.js";
import type { Token } from "./lexer.js";
import type { ROp } from "./operand.js";
import { type Fail, fitsEither, fitsSigned, type Match, R_RANGE, R_SHAPE, s64, VAR_KINDS } from "./operand-match.js";
import type { CodeBits } from "../isa/modes.js";
import type { RegInfo } from "./registers.js";

export function encode(
  m: Match,
  here: bigint,
  fail: (f: Fail) => void,
  mnTok: Token,
  bits: CodeBits = 64,
): number[] | null {
  const row = m.row;
  const out: number[] = [];
  let rex = 0;
  let forceRex = false;
  let highByte: Token | null = null;
  const noteByteReg = (r: RegInfo, tok: Token | null): void => {
    if (r.needsRex) forceRex = true;
    if (r.highByte) highByte = tok ?? highByte ?? mnTok;
  };
  // A segment override comes first (NASM's order: segment, 66, 67, REX).
  const memOp = m.rmOp?.t === "mem" ? m.rmOp : m.moffs;
  if (memOp && memOp.seg >= 0) out.push(SEG_PREFIX[memOp.seg]);
  if (bits === 64) {
    const sized =
      row.operands.some((k) => VAR_KINDS.has(k)) ||
      row.osize !== undefined ||
      (row.default64 === true && m.osize === 16);
    if (sized && m.osize === 16) out.push(0x66);
    if (sized && m.osize === 64 && !row.default64 && !row.noRexW) rex |= 0x48;
  } else {
    // 16/32-bit code: 66 selects the other of 16/32 (SDM Vol. 1 Table 3-4); the size is the matched
    // one, or a fixed r16/r32 destination's (movzx eax, word [bx] in 16-bit code).
    const k0 = row.operands[0];
    const osz = m.osize || (k0 === "r16" ? 16 : k0 === "r32" ? 32 : 0);
    if (osz === 64) return null;
    if (osz !== 0 && osz !== (bits === 16 ? 16 : 32)) out.push(0x66);
  }
  // moffs: 0x67 when the address size is not the code's (16-bit code with a 32-bit address or 32-bit code
  // with a 16-bit one); the address must fit it.
  const moffsWidth = m.moffs ? (bits === 64 ? 8 : m.moffs.asize / 8) : 0;
  if (m.moffs && bits !== 64) {
    if (!m.moffs.dispUnknown && !fitsEither(m.moffs.disp, moffsWidth * 8)) {
      fail({ rank: R_RANGE, tok: m.moffs.tok, message: `absolute address does not fit ${moffsWidth * 8} bits` });
      return null;
    }
    if (m.moffs.asize !== bits) out.push(0x67);
  }
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
      const ea = rmOp.asize === 16 ? encodeEa16(rmOp, regField, fail, bits) : encodeEa(rmOp, regField, fail, bits);
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
    if (row.opcode[0] === 0x90 && m.plusOp.num === 0 && m.osize === 32 && bits === 64) return null;
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
  if (rex !== 0 && bits !== 64) {
    fail({
      rank: R_RANGE,
      tok: rmTok ?? mnTok,
      message: "REX registers and 64-bit operands exist only in 64-bit code",
    });
    return null;
  }
  // A mandatory prefix goes after 66 and 67 (NASM: popcnt ax, [eax] = 66 67 F3 0F B8 …).
  if (row.prefix) out.push(row.prefix);
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
  if (m.moffs) pushLE(out, m.moffs.disp, moffsWidth);
  if (m.imm) pushLE(out, m.imm.op.v, m.imm.width);
  if (m.ptr) {
    // ptr16:16/32: the offset, then the selector (SDM JMP).
    pushLE(out, m.ptr.off, m.osize === 16 ? 2 : 4);
    pushLE(out, m.ptr.sel, 2);
  }
  if (m.rel && m.rel.width === 4 && bits !== 64) {
    // rel16 when the operand size is 16 outside 64-bit mode (SDM JMP/CALL/Jcc "rel16").
    const osz = m.osize || (bits === 16 ? 16 : 32);
    if (osz === 16) m.rel.width = 2;
  }
  // ENTER imm16, imm8: the second immediate follows the first.
  if (m.imm2) pushLE(out, m.imm2.v, 1);
  if (m.rel) {
    const end = here + BigInt(out.length + m.rel.width);
    const d = s64(BigInt.asUintN(64, m.rel.op.v - end));
    const w = m.rel.width;
    const lim = w === 1 ? 128n : w === 2 ? 1n << 15n : 1n << 31n;
    if (!m.rel.op.unknown && (d < -lim || d >= lim)) {
      const short =
        w === 1 &&
        (m.rel.op.jump === "short" || !ROWS_BY_MNEMONIC.get(row.mnemonic)!.some((r) => r.operands[0] === "rel32"));
      fail({
        rank: short ? R_RANGE : R_SHAPE,
        tok: m.rel.op.tok,
        message: `jump out of range: target is ${d} bytes away, ${w === 1 ? "a short jump reaches -128..127" : w === 2 ? "rel16 reaches ±32 KiB" : "rel32 reaches ±2 GiB"}`,
      });
      return null;
    }
    pushLE(out, BigInt.asUintN(64, d), w);
  }
  if (ripTarget !== null) {
    const d = s64(BigInt.asUintN(64, ripTarget - (here + BigInt(out.length))));
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

/** Segment-override prefix bytes for ES CS SS DS FS GS (SDM Vol. 2 §2.1.1). */
const SEG_PREFIX = [0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65];

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
function encodeEa(op: ROp & { t: "mem" }, regField: number, fail: (f: Fail) => void, bits: CodeBits): Ea | null {
  const reg3 = (regField & 7) << 3;
  const base = op.base;
  const index = op.index;
  // 0x67 when the address size is not the code's (32-bit registers in 64-bit or 16-bit code).
  const a67 = bits === 64 ? op.asize === 32 : bits === 16;
  if (!base && !index && bits !== 64) {
    // [disp32] is mod 00 rm 101 outside 64-bit mode (no RIP-relative addressing there).
    if (!fitsEither(op.disp, 32) && !op.dispUnknown) {
      fail({ rank: R_RANGE, tok: op.tok, message: "absolute address does not fit 32 bits" });
      return null;
    }
    const d: number[] = [];
    pushLE(d, op.disp, 4);
    return { modrm: 0x05 | reg3, sib: -1, disp: d, rex: 0, addr32: a67, ripTarget: null };
  }
  if (!base && !index && op.dispSize !== 64) {
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
  if (op.dispSize === 64) {
    fail({
      rank: R_SHAPE,
      tok: op.tok,
      message: "a 64-bit address ([qword …]) is only for mov between al/ax/eax/rax and memory",
    });
    return null;
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
  return { modrm, sib, disp: d, rex, addr32: a67, ripTarget: null };
}

/** 16-bit ModRM (SDM Vol. 2 Table 2-1): rm = bx+si, bx+di, bp+si, bp+di, si, di, bp (or disp16), bx. */
function encodeEa16(op: ROp & { t: "mem" }, regField: number, fail: (f: Fail) => void, bits: CodeBits): Ea | null {
  const reg3 = (regField & 7) << 3;
  const b = op.base?.num ?? -1,
    x = op.index?.num ?? -1;
  const d: number[] = [];
  // The address wraps at 64 KiB, so a displacement is 16 bits either way (NASM warns beyond ±64 KiB).
  const dv = Number(BigInt.asIntN(16, op.disp));
  if (!fitsEither(op.disp, 16) && !op.dispUnknown) {
    fail({ rank: R_RANGE, tok: op.tok, message: "displacement does not fit 16 bits" });
    return null;
  }
  if (b < 0 && x < 0) {
    pushLE(d, op.disp, 2);
    return { modrm: 0x06 | reg3, sib: -1, disp: d, rex: 0, addr32: bits !== 16, ripTarget: null };
  }
  const rm =
    x < 0 ? (b === 3 ? 7 : b === 5 ? 6 : -1) : b < 0 ? (x === 6 ? 4 : 5) : (b === 5 ? 2 : 0) + (x === 7 ? 1 : 0);
  let mod: number;
  if (op.dispSize === 8) {
    if (dv < -128 || dv > 127) {
      fail({ rank: R_RANGE, tok: op.tok, message: "displacement does not fit a byte" });
      return null;
    }
    mod = 1;
  } else if (op.dispSize === 16 || op.dispReloc) mod = 2;
  else if (dv === 0 && rm !== 6) mod = 0;
  else mod = dv >= -128 && dv <= 127 ? 1 : 2;
  pushLE(d, op.disp, mod === 0 ? 0 : mod === 1 ? 1 : 2);
  return { modrm: (mod << 6) | reg3 | rm, sib: -1, disp: d, rex: 0, addr32: bits !== 16, ripTarget: null };
}

function scaleBits(s: number): number {
  return s === 8 ? 3 : s === 4 ? 2 : s === 2 ? 1 : 0;
}
