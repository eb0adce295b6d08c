/**
 * The byte-level half of the decoder (src/isa/decode.ts): a cursor over the at most 15 bytes of one
 * instruction (SDM Vol. 2 §2.3.11), the legacy and REX prefixes (§2.1.1, §2.2.1), and the ModRM / SIB /
 * displacement fields of a memory operand (§2.1.3–2.1.5; 16-bit addressing: Table 2-1). Which opcode row
 * the bytes are is decided in decode-rows.ts; the operands and immediates in decode.ts.
 */
import type { Insn } from "./insn.js";
import type { CodeBits } from "./modes.js";

/**
 * A read position in guest memory. One instance per decoder (decodeInto never re-enters itself), so
 * decoding allocates nothing; `lo`/`hi` hold the last little-endian field read by readLe.
 */
export class ByteCursor {
  mem: Uint8Array = new Uint8Array(0);
  off = 0;
  p = 0;
  max = 0;
  lo = 0;
  hi = 0;

  reset(mem: Uint8Array, off: number, avail: number): void {
    this.mem = mem;
    this.off = off;
    this.p = 0;
    this.max = Math.min(15, avail);
  }

  /** The next byte, or -1 past the readable bytes. */
  byte(): number {
    return this.p < this.max ? this.mem[this.off + this.p++] : -1;
  }

  /** The next byte without consuming it, or -1. */
  peek(): number {
    return this.p < this.max ? this.mem[this.off + this.p] : -1;
  }

  /** A little-endian field of n bytes (immediates, the moffs address) into lo/hi; false if truncated. */
  readLe(n: number): boolean {
    this.lo = 0;
    this.hi = 0;
    for (let i = 0; i < n; i++) {
      const d = this.byte();
      if (d < 0) return false;
      if (i < 4) this.lo |= d << (8 * i);
      else this.hi |= d << (8 * (i - 4));
    }
    return true;
  }
}

/** The prefixes before the opcode byte (readPrefixes fills it). */
export class Prefixes {
  opsize = false;
  adsize = false;
  lock = false;
  rep = 0;
  rex = 0;
  /** A segment override (ES CS SS DS FS GS = 0..5), -1 for none. */
  seg = -1;
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

/**
 * Legacy prefixes, then REX immediately before the opcode (a REX followed by a legacy prefix is ignored).
 * Returns the first opcode byte, or -1 if the bytes end first.
 */
export function readPrefixes(cur: ByteCursor, pf: Prefixes, bits: CodeBits): number {
  pf.opsize = false;
  pf.adsize = false;
  pf.lock = false;
  pf.rep = 0;
  pf.rex = 0;
  pf.seg = -1;
  for (;;) {
    const b = cur.byte();
    if (b < 0) return -1;
    if (b === 0x66) pf.opsize = true;
    else if (b === 0x67) pf.adsize = true;
    else if (b === 0xf2 || b === 0xf3) pf.rep = b;
    else if (b === 0xf0) pf.lock = true;
    else if (SEG_PREFIX[b] >= 0) {
      // ES/CS/SS/DS overrides are null in 64-bit mode; FS/GS add their base (SDM Vol. 1 §3.3.7.1).
      const sg = SEG_PREFIX[b];
      if (bits !== 64 || sg >= 4) pf.seg = sg;
    } else if ((b & 0xf0) === 0x40 && bits === 64) {
      pf.rex = b;
      continue;
    } else return b;
    pf.rex = 0;
  }
}

/** 16-bit ModRM.rm → base / index register (SDM Vol. 2 Table 2-1; BX 3, BP 5, SI 6, DI 7). */
const MODRM16_BASE = [3, 3, 5, 5, 6, 7, 5, 3];
const MODRM16_INDEX = [6, 7, 6, 7, -1, -1, -1, -1];

/** The fields of a ModRM byte (readModrm fills it; reg and rm without REX). */
export class ModRM {
  mod = 3;
  reg = 0;
  rm = 0;
}

/**
 * Read a ModRM byte and, for a memory operand (`mem`), its SIB and displacement into out.base/index/
 * scale/dispLo/dispHi/dispBytes/ripRel. `rex` extends SIB.index (X) and the base (B). False if the bytes
 * end first.
 */
export function readModrm(
  cur: ByteCursor,
  out: Insn,
  m: ModRM,
  mem: boolean,
  asize: number,
  bits: CodeBits,
  rex: number,
): boolean {
  const rexX = (rex & 2) << 2,
    rexB = (rex & 1) << 3;
  const b = cur.byte();
  if (b < 0) return false;
  m.mod = b >> 6;
  m.reg = (b >> 3) & 7;
  m.rm = b & 7;
  if (m.mod === 3 || !mem) return true;
  const mod = m.mod,
    rmf = m.rm;
  if (asize === 2) {
    // 16-bit addressing (SDM Vol. 2 Table 2-1): [bx+si] [bx+di] [bp+si] [bp+di] [si] [di] [bp] [bx].
    out.base = MODRM16_BASE[rmf];
    out.index = MODRM16_INDEX[rmf];
    if (mod === 0 && rmf === 6) {
      out.base = -1;
      out.dispBytes = 2;
    } else out.dispBytes = mod === 1 ? 1 : mod === 2 ? 2 : 0;
  } else {
    if (rmf === 4) {
      const sib = cur.byte();
      if (sib < 0) return false;
      out.scale = 1 << (sib >> 6);
      const idx = ((sib >> 3) & 7) | rexX;
      out.index = idx === 4 ? -1 : idx;
      const bs = sib & 7;
      if (bs === 5 && mod === 0) {
        out.base = -1;
        out.dispBytes = 4;
      } else out.base = bs | rexB;
    } else if (rmf === 5 && mod === 0) {
      // RIP-relative in 64-bit mode; a plain disp32 in 32-bit addressing outside it.
      out.ripRel = bits === 64;
      out.dispBytes = 4;
    } else out.base = rmf | rexB;
    if (mod === 1) out.dispBytes = 1;
    else if (mod === 2) out.dispBytes = 4;
  }
  const n = out.dispBytes;
  if (n === 0) return true;
  if (!cur.readLe(n)) return false;
  // Sign-extend the displacement to 64 bits.
  const v = n === 1 ? (cur.lo << 24) >> 24 : n === 2 ? (cur.lo << 16) >> 16 : cur.lo | 0;
  out.dispLo = v >>> 0;
  out.dispHi = v < 0 ? 0xffffffff : 0;
  return true;
}
