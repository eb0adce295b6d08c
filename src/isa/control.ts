/**
 * Control registers and IA32_EFER: MOV from/to CR0, CR2, CR3, CR4, CR8 and the architectural WRMSR to
 * EFER, with the checks that raise #GP(0) and the effects on paging (the TLB flushes of SDM Vol. 3
 * §4.10.4.1, EFER.LMA on entering IA-32e mode). Facts: SDM Vol. 2 "MOV—Move to/from Control Registers",
 * Vol. 3 §2.2.1 (EFER), §2.5 (CR0/CR4 bits), §4.1.2 (paging-mode changes), §9.8.5 (initializing
 * IA-32e mode). Not modelled, and refused with #GP(0) (docs/cpu.md): 32-bit and PAE paging (setting
 * CR0.PG with EFER.LME = 0), leaving protected mode, and the CR4 bits PCIDE, SMEP, SMAP, PKE, PKS.
 */
import { EFER_LMA, EFER_LME, EFER_NX, EFER_SCE } from "../arch/msr-index.js";
import type { Cpu } from "./cpu.js";
import type { Insn } from "./insn.js";
import { CR0_WP, CR4_PGE, MAXPHYADDR } from "./paging.js";
import { PlatformAction } from "./platform.js";
import { Vec } from "./state.js";

export const CR0_PE = 0x1;
export const CR0_ET = 0x10;
export const CR0_NW = 1 << 29;
export const CR0_CD = 1 << 30;
export const CR0_PG = 0x80000000;
export const CR4_TSD = 0x4;
export const CR4_PSE = 0x10;
export const CR4_PAE = 0x20;
export const CR4_PCE = 0x100;
/** CR0 bits that exist: PE MP EM TS ET NE WP AM NW CD PG. The others of bits 31:0 stay clear whatever
 *  is written (SDM MOV CR: "attempts to set them have no impact"); ET is fixed at 1. */
const CR0_DEFINED = 0x3f | CR0_WP | (1 << 18) | CR0_NW | CR0_CD | CR0_PG;
/** CR4 bits this model accepts: VME PVI TSD DE PSE PAE MCE PGE PCE OSFXSR OSXMMEXCPT UMIP FSGSBASE
 *  OSXSAVE CET; any other set bit is reserved → #GP(0). PCIDE, SMEP, SMAP, PKE and PKS change how
 *  paging works and are not modelled, so they are refused rather than ignored. */
const CR4_KNOWN = 0xfff | 0x10000 | 0x40000 | 0x800000;
/** MOV to CR4 changing one of these flushes the whole TLB, global entries too (SDM §4.10.4.1). */
const CR4_FLUSH = CR4_PGE | CR4_PAE | CR4_PSE;
/** EFER bits that exist here; LMA is written by the CPU only (WRMSR keeps it). */
const EFER_DEFINED = EFER_SCE | EFER_LME | EFER_LMA | EFER_NX;
/** CR3 bits 63:MAXPHYADDR, in its high half: reserved → #GP(0). */
const CR3_RSVD_HI = ~((1 << (MAXPHYADDR - 32)) - 1);

/** MOV r64, CRn: CPL 0 only; CR1, CR5–7, CR9–15 do not exist (#UD). */
export function movFromCr(c: Cpu, ins: Insn): boolean {
  if (c.cpl > 0) c.fault(Vec.GP, 0);
  let lo: number,
    hi = 0;
  switch (ins.r1) {
    case 0:
      lo = c.cr0;
      break;
    case 2:
      lo = c.cr2Lo;
      hi = c.cr2Hi;
      break;
    case 3:
      lo = c.cr3Lo;
      hi = c.cr3Hi;
      break;
    case 4:
      lo = c.cr4;
      break;
    case 8:
      lo = c.cr8;
      break;
    default:
      return c.fault(Vec.UD, -1);
  }
  c.sr(ins.r0, 8, lo >>> 0, hi);
  c.rip += ins.len;
  return true;
}

/** MOV CRn, r64: the platform is asked first (a VM exit outranks the reserved-bit checks), then the
 *  write is applied with the SDM's checks. */
export function movToCr(c: Cpu, ins: Insn): boolean {
  if (c.cpl > 0) c.fault(Vec.GP, 0);
  const cr = ins.r0;
  if (cr !== 0 && cr !== 2 && cr !== 3 && cr !== 4 && cr !== 8) c.fault(Vec.UD, -1);
  const lo = c.regs[2 * ins.r1],
    hi = c.regs[2 * ins.r1 + 1];
  const a = c.platform.movToCr(c, cr, lo, hi, ins.len);
  if (a !== PlatformAction.Retire) return c.act(a, ins);
  switch (cr) {
    case 0:
      writeCr0(c, lo, hi);
      break;
    case 2:
      c.cr2Lo = lo;
      c.cr2Hi = hi;
      break;
    case 3:
      writeCr3(c, lo, hi);
      break;
    case 4:
      writeCr4(c, lo, hi);
      break;
    case 8:
      if (hi !== 0 || lo > 15) c.fault(Vec.GP, 0);
      c.cr8 = lo;
      break;
  }
  c.rip += ins.len;
  return true;
}

/**
 * MOV to CR0 (SDM MOV CR, §4.1.2, §9.8.5): #GP(0) for bits 63:32, PG without PE, NW without CD, setting
 * PG with EFER.LME = 1 and CR4.PAE = 0, and clearing PG in 64-bit mode (CS.L = 1). Setting PG with
 * LME = 1 activates IA-32e mode (EFER.LMA := 1) and turns on 4-level paging; clearing it from
 * compatibility mode leaves IA-32e mode (LMA := 0; §9.8.5.4: then clear EFER.LME). A change of PG or WP
 * flushes the TLB; the code size follows LMA (segments.ts updateMode).
 */
function writeCr0(c: Cpu, lo: number, hi: number): void {
  const v = ((lo & CR0_DEFINED) | CR0_ET) >>> 0;
  const old = c.cr0;
  const pg = (v & CR0_PG) !== 0;
  if (hi !== 0 || (pg && !(v & CR0_PE)) || ((v & CR0_NW) !== 0 && !(v & CR0_CD))) c.fault(Vec.GP, 0);
  if (!(v & CR0_PE)) c.fault(Vec.GP, 0); // real-address mode is not modelled
  const wasPg = (old & CR0_PG) !== 0;
  if (pg && !wasPg) {
    if (!(c.efer & EFER_LME)) c.fault(Vec.GP, 0); // 32-bit and PAE paging are not modelled
    if (!(c.cr4 & CR4_PAE)) c.fault(Vec.GP, 0);
  }
  if (!pg && wasPg && (c.efer & EFER_LMA) !== 0 && c.codeBits === 64) c.fault(Vec.GP, 0);
  c.cr0 = v;
  if (pg !== wasPg) {
    c.efer = pg ? c.efer | EFER_LMA : c.efer & ~EFER_LMA;
    c.setPaging(pg);
    if (!pg) c.setMode(); // leaving IA-32e mode: compatibility mode becomes protected mode
  } else if (((v ^ old) & CR0_WP) !== 0) c.tlb.flushAll();
}

/** MOV to CR3: bits 63:MAXPHYADDR reserved (#GP(0)); with CR0.PG = 1 the new tables are used from the
 *  next access (leaving the flat start state, docs/guest-abi.md), and non-global TLB entries go. */
function writeCr3(c: Cpu, lo: number, hi: number): void {
  if ((hi & CR3_RSVD_HI) !== 0) c.fault(Vec.GP, 0);
  c.cr3Lo = lo;
  c.cr3Hi = hi;
  if (!(c.cr0 & CR0_PG)) return;
  if (c.paging) c.tlb.flushNonGlobal();
  else c.setPaging(true);
}

/** MOV to CR4: reserved bits and clearing PAE while IA-32e paging is active (PG = 1, LME = 1) are
 *  #GP(0); a change of PGE, PAE or PSE flushes the whole TLB. */
function writeCr4(c: Cpu, lo: number, hi: number): void {
  if (hi !== 0 || (lo & ~CR4_KNOWN) !== 0) c.fault(Vec.GP, 0);
  if (!(lo & CR4_PAE) && (c.cr0 & CR0_PG) !== 0 && (c.efer & EFER_LME) !== 0) c.fault(Vec.GP, 0);
  const old = c.cr4;
  c.cr4 = lo >>> 0;
  if (((old ^ lo) & CR4_FLUSH) !== 0) c.tlb.flushAll();
}

/**
 * WRMSR to IA32_EFER as the processor executes it natively (SDM WRMSR, §4.1.2): false (#GP(0)) for a
 * reserved bit or a change of LME while CR0.PG = 1; LMA is the processor's (the written bit is ignored).
 * A change of NXE flushes the TLB (the rights it caches depend on it).
 */
export function writeEfer(c: Cpu, lo: number, hi: number): boolean {
  if (hi !== 0 || (lo & ~EFER_DEFINED) !== 0) return false;
  if ((c.cr0 & CR0_PG) !== 0 && ((c.efer ^ lo) & EFER_LME) !== 0) return false;
  loadEfer(c, (lo & ~EFER_LMA) | (c.efer & EFER_LMA));
  return true;
}

/** EFER loaded as a whole, without WRMSR's checks (what VM entry does with the VMCS guest IA32_EFER
 *  field after KVM's set_efer checked it; KVM keeps LMA itself). */
export function loadEfer(c: Cpu, v: number): void {
  const old = c.efer;
  c.efer = (v & EFER_DEFINED) >>> 0;
  if (((old ^ c.efer) & EFER_NX) !== 0) c.tlb.flushAll();
}
