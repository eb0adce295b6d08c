/**
 * 4-level paging (SDM Vol. 3 §4.5): the page walk from CR3 through the PML4, PDPT, PD and PT to a
 * 4 KiB, 2 MiB or 1 GiB page; the rights of the walk (R/W, U/S, XD with EFER.NXE, CR0.WP); the
 * reserved-bit checks; the accessed and dirty flags it sets in memory (§4.8); the page-fault error code
 * and CR2 (§4.7); and the TLB entry a successful walk leaves (tlb.ts). Not modelled (the CPU refuses
 * the CR4 bits that would turn them on, docs/cpu.md): PCIDs, SMEP, SMAP, protection keys, 32-bit and
 * PAE paging, the paging-structure caches (every TLB miss walks from CR3).
 */
import { EFER_NX } from "../arch/msr-index.js";
import { TWO32, Vec } from "./state.js";
import type { MmioBus } from "./platform.js";
import { Allow, type Tlb } from "./tlb.js";

/** What walk() returns for a data access to a device page (MmioBus) instead of a RAM offset: no TLB entry is
 *  made, so every access to it takes the slow path again. The physical address is in `mmioPa`. */
export const MMIO_ACCESS = -2;

/** The physical-address width this CPU reports (SDM §4.1.4: 36 when CPUID leaf 0x80000008 is absent,
 *  as on the bare platform). Bits 51:36 of a paging entry and 63:36 of CR3 are reserved. */
export const MAXPHYADDR = 36;
/** CR0 / CR4 bits the walk reads (SDM Vol. 3 §2.5). */
export const CR0_WP = 1 << 16;
export const CR4_PGE = 1 << 7;

/** Page-fault error code bits (SDM Vol. 3 §4.7; kvm_host.h PFERR_*_MASK). */
export const PFERR_PRESENT = 1 << 0;
export const PFERR_WRITE = 1 << 1;
export const PFERR_USER = 1 << 2;
export const PFERR_RSVD = 1 << 3;
export const PFERR_FETCH = 1 << 4;

/** The kind of access a translation is for. */
export const Access = { Read: 0, Write: 1, Fetch: 2 } as const;
export type Access = (typeof Access)[keyof typeof Access];

/** What the walk reads and writes of the CPU (CpuMemory implements it). */
export interface PagingCpu {
  readonly dv: DataView;
  readonly memSize: number;
  readonly tlb: Tlb;
  readonly cr0: number;
  readonly cr3Lo: number;
  readonly cr3Hi: number;
  readonly cr4: number;
  readonly efer: number;
  cr2Lo: number;
  cr2Hi: number;
  fVec: number;
  fErr: number;
  /** Devices behind physical addresses outside RAM, and the address of the access walk() found there. */
  readonly mmio: MmioBus | null;
  mmioPa: number;
  /** A store to RAM that invalidates decoded code it overwrites (memory.ts wr). */
  wr(a: number, size: number, lo: number, hi: number): void;
}

/** Bits 51:MAXPHYADDR of an entry, in its high half (bits 51:36 → 19:4). */
const RSVD_HI = 0x000ffff0;
/** Physical-address bits 35:32 of an entry or CR3, in its high half. */
const PHYS_HI = 0xf;
/** Reserved bits of the low half of a 1 GiB PDPTE (29:13) and a 2 MiB PDE (20:13) (SDM Table 4-16/4-18). */
const RSVD_1G = 0x3fffe000;
const RSVD_2M = 0x001fe000;
const PS = 0x80;
const ACCESSED = 0x20;
const DIRTY = 0x40;
const GLOBAL = 0x100;

/** The entries of the walk in progress (RAM offsets, low halves), for the A/D updates. */
const ENT = new Float64Array(4);
const ELO = new Uint32Array(4);

/** A page fault at hi:lo with error-code bits `code` (plus W/R, U/S, I/D from the access): sets CR2 and
 *  the pending fault, drops the address's TLB entry (§4.10.4.1), returns -1. */
function pageFault(c: PagingCpu, lo: number, hi: number, code: number, access: Access, user: boolean): number {
  c.cr2Lo = lo >>> 0;
  c.cr2Hi = hi >>> 0;
  c.fVec = Vec.PF;
  c.fErr = code | pfAccessBits(c, access, user);
  c.tlb.drop(lo, hi);
  return -1;
}

/** W/R, U/S and I/D of a page-fault error code for this access. I/D is set only for a fetch with
 *  EFER.NXE = 1 (SDM §4.7: "either CR4.SMEP = 1 or ... IA32_EFER.NXE = 1"; no SMEP here). */
export function pfAccessBits(c: { readonly efer: number }, access: Access, user: boolean): number {
  return (
    (access === Access.Write ? PFERR_WRITE : 0) |
    (user ? PFERR_USER : 0) |
    (access === Access.Fetch && (c.efer & EFER_NX) !== 0 ? PFERR_FETCH : 0)
  );
}

/**
 * Translate the linear address hi:lo (canonical; checked by the caller) for `access` at user (CPL 3) or
 * supervisor privilege by walking the tables from CR3. On success sets the accessed flags of every
 * entry used and, for a write, the dirty flag of the last one (as Bochs does: only once the whole walk
 * has passed its checks), fills the TLB and returns the RAM offset; otherwise raises the page fault
 * (cpu.fVec/fErr, CR2) and returns -1. A table or page outside RAM is a #PF as for a not-present entry
 * (docs/cpu.md: vpmu has no devices or open bus to back other physical addresses).
 */
export function walk(c: PagingCpu, lo: number, hi: number, access: Access, user: boolean): number {
  const dv = c.dv;
  const nxe = (c.efer & EFER_NX) !== 0;
  c.tlb.walks++;
  let table = (c.cr3Hi & PHYS_HI) * TWO32 + ((c.cr3Lo & 0xfffff000) >>> 0);
  let rw = 2,
    us = 4,
    xd = 0,
    n = 0,
    page = 0,
    shift = 12;
  for (let level = 4; level >= 1; level--) {
    const idx =
      level === 4
        ? (hi >>> 7) & 511
        : level === 3
          ? ((hi & 127) << 2) | (lo >>> 30)
          : level === 2
            ? (lo >>> 21) & 511
            : (lo >>> 12) & 511;
    const a = table + idx * 8;
    if (a + 8 > c.memSize) return pageFault(c, lo, hi, 0, access, user);
    const elo = dv.getUint32(a, true),
      ehi = dv.getUint32(a + 4, true);
    if ((elo & 1) === 0) return pageFault(c, lo, hi, 0, access, user);
    const ps = level !== 1 && (elo & PS) !== 0;
    if (
      (ehi & RSVD_HI) !== 0 ||
      (!nxe && ehi >>> 31 !== 0) ||
      (level === 4 && ps) ||
      (level === 3 && ps && (elo & RSVD_1G) !== 0) ||
      (level === 2 && ps && (elo & RSVD_2M) !== 0)
    )
      return pageFault(c, lo, hi, PFERR_PRESENT | PFERR_RSVD, access, user);
    ENT[n] = a;
    ELO[n] = elo;
    n++;
    rw &= elo;
    us &= elo;
    if (nxe) xd |= ehi >>> 31;
    const high = (ehi & PHYS_HI) * TWO32;
    if (level === 1) {
      page = high + ((elo & 0xfffff000) >>> 0);
      break;
    }
    if (ps) {
      // The 4 KiB piece of the large page that holds the address.
      page =
        level === 3
          ? high + ((elo & 0xc0000000) >>> 0) + ((lo & 0x3ffff000) >>> 0)
          : high + ((elo & 0xffe00000) >>> 0) + (lo & 0x1ff000);
      shift = level === 3 ? 30 : 21;
      break;
    }
    table = high + ((elo & 0xfffff000) >>> 0);
  }
  // Rights (SDM §4.6): user accesses need U/S = 1 everywhere; writes need R/W = 1 everywhere, for the
  // supervisor only with CR0.WP = 1; fetches need XD = 0 everywhere (EFER.NXE = 1).
  const wp = (c.cr0 & CR0_WP) !== 0;
  const write = access === Access.Write;
  if ((user && us === 0) || (write && rw === 0 && (user || wp)) || (access === Access.Fetch && xd !== 0))
    return pageFault(c, lo, hi, PFERR_PRESENT, access, user);
  // A page outside RAM is a #PF unless a device backs it (data accesses only: nothing executes from MMIO).
  const device = page + 4096 > c.memSize;
  if (device && (access === Access.Fetch || c.mmio === null || !c.mmio.claims(page)))
    return pageFault(c, lo, hi, 0, access, user);
  const last = ELO[n - 1];
  for (let i = 0; i < n; i++) {
    const set = (ELO[i] & ACCESSED ? 0 : ACCESSED) | (i === n - 1 && write && (last & DIRTY) === 0 ? DIRTY : 0);
    if (set !== 0) c.wr(ENT[i], 4, (ELO[i] | set) >>> 0, 0);
  }
  if (device) {
    c.mmioPa = page + (lo & 4095);
    return MMIO_ACCESS;
  }
  const dirty = write || (last & DIRTY) !== 0;
  const sup = Allow.Read | (dirty && (rw !== 0 || !wp) ? Allow.Write : 0) | (xd ? 0 : Allow.Fetch);
  const usr = us === 0 ? 0 : Allow.Read | (dirty && rw !== 0 ? Allow.Write : 0) | (xd ? 0 : Allow.Fetch);
  c.tlb.fill(lo, hi, page, sup | (usr << Allow.UserShift), (last & GLOBAL) !== 0 && (c.cr4 & CR4_PGE) !== 0, shift);
  return page + (lo & 4095);
}
