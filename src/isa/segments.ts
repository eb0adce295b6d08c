/**
 * Segmentation of a data access (SDM Vol. 3 §3.4.5, §5.3 limit checking, §5.4 type checking): the
 * linear address of an offset through a segment register's hidden part, with the #GP(0) / #SS(0)
 * checks, and the mode bookkeeping (64-bit / 32-bit / 16-bit code, stack width) that follows CS, SS and
 * EFER.LMA. In 64-bit mode only FS and GS have a base and nothing is limit-checked (§3.2.4).
 */
import type { Insn } from "./insn.js";
import type { CpuMemory } from "./memory.js";
import { EFER_LMA } from "../arch/msr-index.js";
import { Seg, SegAttr, TWO32, Vec, canonical } from "./state.js";

/** The default segment of a memory operand: SS when the base is rSP or rBP (also [bp+si]), else DS. */
export function defaultSeg(ins: Insn): number {
  return ins.base === 4 || ins.base === 5 ? Seg.SS : Seg.DS;
}

/**
 * The linear address of offset hi:lo (already truncated to the address size) through segment `seg`,
 * then checked against RAM like any linear address. Outside 64-bit mode: the segment must be usable, a
 * write needs a writable data segment, a read of a code segment needs it readable, and the last byte
 * must lie within the limit (expand-down segments: above it); a violation is #SS(0) through SS, else
 * #GP(0). Returns the RAM offset.
 */
export function segmentedAccess(
  c: CpuMemory,
  seg: number,
  lo: number,
  hi: number,
  size: number,
  write: boolean,
): number {
  const stack = seg === Seg.SS;
  if (c.codeBits === 64) {
    // FS/GS: base + offset modulo 2^64, then the canonical check (§3.3.7.1).
    let l = lo + c.segBase[seg];
    let h = hi + c.segBaseHi[seg];
    if (l >= TWO32) {
      l -= TWO32;
      h++;
    }
    h = h >>> 0;
    if (!canonical(h)) c.fault(Vec.GP, 0);
    return c.check(l, h, size, write, false);
  }
  const attr = c.segAttr[seg];
  const fault = stack ? Vec.SS : Vec.GP;
  if (attr & SegAttr.UNUSABLE) c.fault(fault, 0);
  if (attr & SegAttr.CODE) {
    if (write || !(attr & SegAttr.RW)) c.fault(Vec.GP, 0);
  } else if (write && !(attr & SegAttr.RW)) c.fault(fault, 0);
  const last = lo + size - 1;
  const limit = c.segLimit[seg];
  if (!(attr & SegAttr.CODE) && attr & SegAttr.DC) {
    // Expand-down: valid offsets are limit+1 .. 0xFFFF or 0xFFFFFFFF by the B flag (§5.3).
    const top = attr & SegAttr.DB ? 0xffffffff : 0xffff;
    if (lo <= limit || last > top) c.fault(fault, 0);
  } else if (last > limit) c.fault(fault, 0);
  return c.check((c.segBase[seg] + lo) >>> 0, 0, size, write, stack);
}

/** Recompute the code size and stack width after CS, SS or EFER.LMA changed (SDM Vol. 3 §2.2, §5.2.1);
 *  returns true when the code size changed (decoded instructions are then stale). */
export function updateMode(c: CpuMemory): boolean {
  const cs = c.segAttr[Seg.CS];
  const old = c.codeBits;
  c.codeBits = c.efer & EFER_LMA && cs & SegAttr.L ? 64 : cs & SegAttr.DB ? 32 : 16;
  c.stackBytes = c.codeBits === 64 ? 8 : c.segAttr[Seg.SS] & SegAttr.DB ? 4 : 2;
  return c.codeBits !== old;
}
