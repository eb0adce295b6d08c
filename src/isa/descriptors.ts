/**
 * The segment registers' CPU side: the mode switches that follow a change of CS/SS/EFER (decoded code is
 * dropped when the code size changes), the flat 32-bit start state Multiboot loaders leave, and the FS/GS
 * base MSRs with SWAPGS. Facts: SDM Vol. 3 §3.4.3–3.4.4 (hidden parts, 64-bit FS/GS bases), Vol. 4
 * MSRs 0xC0000100–0xC0000102, Vol. 2 SWAPGS; model.md real-guests §1 (the Multiboot entry state).
 */
import { MSR_FS_BASE, MSR_GS_BASE, MSR_KERNEL_GS_BASE } from "../arch/msr-index.js";
import { CpuMemory } from "./memory.js";
import { updateMode } from "./segments.js";
import { FLAT32_CODE, FLAT_DATA, Seg, TWO32, Vec, canonical } from "./state.js";

/** EAX at a Multiboot entry (Multiboot 0.6.96 §3.2). */
export const MULTIBOOT_BOOTLOADER_MAGIC = 0x2badb002;

export class CpuSegments extends CpuMemory {
  /** @internal Recompute the code size and stack width; a new code size drops every decoded
   *  instruction and compiled block (their bytes mean something else now). */
  setMode(): void {
    if (updateMode(this)) this.flushDecoded();
  }

  /** Drop every decoded instruction and compiled block. */
  flushDecoded(): void {
    for (let p = 0; p < this.icache.length; p++) {
      const page = this.icache[p];
      if (page === null) continue;
      for (const ins of page) {
        if (ins === null) continue;
        ins.valid = false;
        if (ins.blocks) for (const b of ins.blocks) b.valid = false;
        ins.blocks = null;
      }
      page.fill(null);
      const bp = this.bcache[p];
      if (bp !== null) bp.fill(null);
    }
    this.codeGranules.fill(0);
  }

  /**
   * The state a Multiboot loader (QEMU -kernel) hands over: 32-bit protected mode, paging off, flat
   * 4 GiB code (CS = 0x08, D = 1) and data segments (0x10), EFER = 0, IF = 0, EAX = 0x2BADB002
   * (model.md real-guests §1). GDTR and IDTR stay as they are (the guest loads its own).
   */
  enterFlat32(): void {
    for (let s = 0; s < 6; s++) {
      this.segSel[s] = s === Seg.CS ? 0x08 : 0x10;
      this.segBase[s] = 0;
      this.segBaseHi[s] = 0;
      this.segLimit[s] = 0xffffffff;
      this.segAttr[s] = s === Seg.CS ? FLAT32_CODE : FLAT_DATA;
    }
    this.efer = 0;
    this.cr0 = 0x11; // PE | ET
    this.cr4 = 0;
    this.cpl = 0;
    this.rflags &= ~0x200;
    this.set64(0, MULTIBOOT_BOOTLOADER_MAGIC, 0);
    this.setMode();
  }

  /** @internal RDMSR of an FS/GS base MSR into EDX:EAX; false for any other index. VMX passes these
   *  through to the guest (vmx_vcpu_create disables their interception), so no VM exit happens. */
  readBaseMsr(index: number): boolean {
    let lo: number, hi: number;
    if (index === MSR_FS_BASE || index === MSR_GS_BASE) {
      const s = index === MSR_FS_BASE ? Seg.FS : Seg.GS;
      lo = this.segBase[s];
      hi = this.segBaseHi[s];
    } else if (index === MSR_KERNEL_GS_BASE) {
      lo = this.kernelGsBaseLo;
      hi = this.kernelGsBaseHi;
    } else return false;
    this.set64(0, lo, 0);
    this.set64(2, hi, 0);
    return true;
  }

  /** @internal WRMSR of an FS/GS base MSR from EDX:EAX (#GP(0) for a non-canonical address); false for
   *  any other index. */
  writeBaseMsr(index: number): boolean {
    if (index !== MSR_FS_BASE && index !== MSR_GS_BASE && index !== MSR_KERNEL_GS_BASE) return false;
    const lo = this.regs[0],
      hi = this.regs[4];
    if (!canonical(hi)) this.fault(Vec.GP, 0);
    if (index === MSR_KERNEL_GS_BASE) {
      this.kernelGsBaseLo = lo;
      this.kernelGsBaseHi = hi;
    } else {
      const s = index === MSR_FS_BASE ? Seg.FS : Seg.GS;
      this.segBase[s] = lo;
      this.segBaseHi[s] = hi;
    }
    return true;
  }

  /** @internal SWAPGS (SDM Vol. 2): #GP(0) at CPL > 0; exchanges GS.base with IA32_KERNEL_GS_BASE.
   *  (Outside 64-bit mode its bytes do not decode: #UD, opcodes.ts only64.) */
  swapgs(): void {
    if (this.cpl > 0) this.fault(Vec.GP, 0);
    const lo = this.segBase[Seg.GS],
      hi = this.segBaseHi[Seg.GS];
    this.segBase[Seg.GS] = this.kernelGsBaseLo;
    this.segBaseHi[Seg.GS] = this.kernelGsBaseHi;
    this.kernelGsBaseLo = lo;
    this.kernelGsBaseHi = hi;
  }

  /** @internal The FS or GS base as a number (reports and tests). */
  segBaseOf(s: number): number {
    return this.segBaseHi[s] * TWO32 + this.segBase[s];
  }
}
