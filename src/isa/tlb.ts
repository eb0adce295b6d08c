/**
 * The TLB: a bounded, direct-mapped cache of 4 KiB linear → physical translations with the access
 * rights each allows (SDM Vol. 3 §4.10.2). A 2 MiB or 1 GiB page is cached as the 4 KiB pieces that
 * were used ("a processor may create multiple smaller-page TLB entries for a large page", §4.10.2.3); an
 * entry remembers the size of the page it came from so INVLPG drops every piece of it (§4.10.4.1).
 * Interpreter and compiled code share these arrays: a hit needs one tag compare and one rights test.
 */

import { release, zeroed } from "./array-pool.js";

/** Entries (a power of two), indexed by the linear page number mod TLB_ENTRIES: 4096 × 4 KiB = 16 MiB of
 *  reach, so code, data and stack of a small guest do not evict each other. */
export const TLB_ENTRIES = 4096;
export const TLB_MASK = TLB_ENTRIES - 1;

/** Rights bits of an entry, by access and privilege: the access needs no page walk (no fault, and no
 *  accessed/dirty flag left to set). A write right is given only once the dirty flag is set (§4.8). */
export const Allow = {
  Read: 1,
  Write: 2,
  Fetch: 4,
  /** Shift from the supervisor bits to the user-mode bits (CPL 3). */
  UserShift: 3,
} as const;

/** The page number of a sign-extended linear address hi:lo (exact: canonical addresses are < 2^47). */
export function pageNumber(lo: number, hi: number): number {
  return (hi | 0) * 1048576 + (lo >>> 12);
}

/** An entry is found by slot (lo >>> 12) & TLB_MASK and matches when tagLo = lo >>> 12 and tagHi = hi | 0:
 *  integer compares, the same inline in compiled blocks. */
export class Tlb {
  /** Bits 31:12 of the entry's linear address (-1: empty). */
  readonly tagLo = zeroed(Int32Array, TLB_ENTRIES).fill(-1);
  /** Bits 63:32, as a signed 32-bit number. */
  readonly tagHi = zeroed(Int32Array, TLB_ENTRIES);
  /** Physical address (RAM offset) of the 4 KiB page. */
  readonly phys = zeroed(Uint32Array, TLB_ENTRIES);
  /** Allow bits for supervisor (bits 0-2) and user (bits 3-5) accesses. */
  readonly allow = zeroed(Uint8Array, TLB_ENTRIES);
  /** Global (PTE.G with CR4.PGE): survives a CR3 load. */
  readonly global = zeroed(Uint8Array, TLB_ENTRIES);
  /** log2 of the size of the page the entry was cut from: 12, 21 or 30. */
  readonly shift = zeroed(Uint8Array, TLB_ENTRIES);
  /** Page walks done (tests and diagnostics). */
  walks = 0;

  fill(lo: number, hi: number, phys: number, allow: number, global: boolean, shift: number): void {
    const i = (lo >>> 12) & TLB_MASK;
    this.tagLo[i] = lo >>> 12;
    this.tagHi[i] = hi | 0;
    this.phys[i] = phys;
    this.allow[i] = allow;
    this.global[i] = global ? 1 : 0;
    this.shift[i] = shift;
  }

  /** The entry for linear hi:lo is gone (a #PF on that address, §4.10.4.1). */
  drop(lo: number, hi: number): void {
    const i = (lo >>> 12) & TLB_MASK;
    if (this.tagLo[i] === lo >>> 12 && this.tagHi[i] === (hi | 0)) this.tagLo[i] = -1;
  }

  /** The CPU is done (Cpu.release): the arrays go to the next TLB built. */
  release(): void {
    release(this.tagLo, this.tagHi, this.phys, this.allow, this.global, this.shift);
  }

  /** MOV to CR4 changing PGE/PAE/PSE, MOV to CR0 changing PG/WP, EFER.NXE: everything, globals too. */
  flushAll(): void {
    this.tagLo.fill(-1);
  }

  /** MOV to CR3: every entry except the global ones (§4.10.4.1). */
  flushNonGlobal(): void {
    for (let i = 0; i < TLB_ENTRIES; i++) if (this.global[i] === 0) this.tagLo[i] = -1;
  }

  /** INVLPG: every entry of the page (of any size) that contains linear hi:lo, global or not. */
  invlpg(lo: number, hi: number): void {
    const vpn = pageNumber(lo, hi);
    for (let i = 0; i < TLB_ENTRIES; i++) {
      if (this.tagLo[i] < 0) continue; // empty
      const k = 2 ** (this.shift[i] - 12);
      if (Math.floor(pageNumber(this.tagLo[i] << 12, this.tagHi[i]) / k) === Math.floor(vpn / k)) this.tagLo[i] = -1;
    }
  }
}
