/**
 * The segment registers' CPU side: the mode switches that follow a change of CS/SS/EFER (decoded code is
 * dropped when the code size changes), the flat 32-bit start state Multiboot loaders leave, and the FS/GS
 * base MSRs with SWAPGS. Facts: SDM Vol. 3 §3.4.3–3.4.4 (hidden parts, 64-bit FS/GS bases), Vol. 4
 * MSRs 0xC0000100–0xC0000102, Vol. 2 SWAPGS; model.md real-guests §1 (the Multiboot entry state).
 */
import { MSR_FS_BASE, MSR_GS_BASE, MSR_KERNEL_GS_BASE } from "../arch/msr-index.js";
import { CpuMemory } from "./memory.js";
import { updateMode } from "./segments.js";
import { EFER_LMA } from "../arch/msr-index.js";
import { FLAT32_CODE, FLAT_DATA, Seg, SegAttr, TWO32, Vec, canonical, linearNumber } from "./state.js";

/** EAX at a Multiboot entry (Multiboot 0.6.96 §3.2). */
export const MULTIBOOT_BOOTLOADER_MAGIC = 0x2badb002;

export class CpuSegments extends CpuMemory {
  /** @internal Recompute the code size and stack width; a new code size drops every decoded
   *  instruction and compiled block (their bytes mean something else now). */
  setMode(): void {
    if (updateMode(this)) this.flushDecoded();
  }

  /** Drop every decoded instruction and compiled block. Only the code-granule marks of decoded pages (and
   *  the next granules, for an instruction that crosses into the next page) are cleared: clearing them all
   *  would touch RAM / 8 bytes, 128 MiB of resident memory for a 1 GiB guest (docs/loading.md). */
  flushDecoded(): void {
    const cg = this.codeGranules;
    const ramGranules = Math.ceil(this.memSize / 8);
    for (let p = 0; p < this.icache.length; p++) {
      const page = this.icache[p];
      if (page === null) continue;
      cg.fill(0, p * 512, Math.min(ramGranules, p * 512 + 514));
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

  // ---- descriptors (SDM Vol. 3 §3.4.5, §5.x protection checks) ----------------------------------
  /** @internal Scratch of readDescriptor: the descriptor's two words and its RAM offset. */
  dLo = 0;
  /** @internal */
  dHi = 0;
  /** @internal */
  dAt = 0;

  /**
   * @internal Read the 8-byte descriptor `sel` names (TI = 1: the LDT) into dLo/dHi/dAt. An index beyond
   * the table's limit, or an LDT reference with no LDT loaded, raises `vec` with the selector error code
   * (SDM Vol. 3 §6.13: index, TI; EXT = 0).
   */
  readDescriptor(sel: number, vec: number): void {
    const err = sel & 0xfffc;
    let lo: number, hi: number, limit: number;
    if (sel & 4) {
      if (this.ldtAttr & SegAttr.UNUSABLE) this.fault(vec, err);
      lo = this.ldtBaseLo;
      hi = this.ldtBaseHi;
      limit = this.ldtLimit;
    } else {
      lo = this.gdtBaseLo;
      hi = this.gdtBaseHi;
      limit = this.gdtLimit;
    }
    const idx = sel & 0xfff8;
    if (idx + 7 > limit) this.fault(vec, err);
    lo += idx;
    if (lo >= TWO32) {
      lo -= TWO32;
      hi = (hi + 1) >>> 0;
    }
    const a = this.check(lo, hi, 8, false, false);
    this.dLo = this.dv.getUint32(a, true);
    this.dHi = this.dv.getUint32(a + 4, true);
    this.dAt = a;
  }

  /** @internal Load segment register `seg` with `sel` and the descriptor in dLo/dHi (hidden part: base,
   *  limit scaled by G, attributes), and set the descriptor's accessed bit in memory. */
  loadHidden(seg: number, sel: number): void {
    const lo = this.dLo,
      hi = this.dHi;
    let limit = (lo & 0xffff) | (hi & 0xf0000);
    if (hi & 0x800000) limit = ((limit << 12) | 0xfff) >>> 0;
    this.segSel[seg] = sel;
    this.segBase[seg] = ((lo >>> 16) | ((hi & 0xff) << 16) | (hi & 0xff000000)) >>> 0;
    this.segBaseHi[seg] = 0;
    this.segLimit[seg] = limit;
    this.segAttr[seg] = (hi >>> 8) & 0xf0ff;
    if (!(hi & 0x100)) {
      this.dHi = (hi | 0x100) >>> 0;
      this.wr(this.dAt + 4, 4, this.dHi, 0);
      this.segAttr[seg] |= SegAttr.ACCESSED;
    }
  }

  /** @internal The descriptor type bits S|type (dHi[12:8]), DPL and P of the descriptor in dHi. */
  private get dType(): number {
    return (this.dHi >>> 8) & 0x1f;
  }
  private get dDpl(): number {
    return (this.dHi >>> 13) & 3;
  }
  private get dPresent(): boolean {
    return (this.dHi & 0x8000) !== 0;
  }

  /** @internal A null selector into a data segment register: usable no more (SDM MOV: "segment
   *  descriptor (null)"); Intel CPUs also clear the base. */
  private loadNull(seg: number, sel: number): void {
    this.segSel[seg] = sel;
    this.segBase[seg] = 0;
    this.segBaseHi[seg] = 0;
    this.segLimit[seg] = 0;
    this.segAttr[seg] = SegAttr.UNUSABLE;
  }

  /**
   * @internal MOV/POP to DS, ES, FS, GS or SS (SDM Vol. 2 MOV, protected and 64-bit mode): SS needs RPL =
   * CPL, a writable data segment with DPL = CPL (#GP(sel)), present (#SS(sel)); a null SS only in 64-bit
   * mode at CPL < 3. The others take a data or readable code segment with RPL ≤ DPL and CPL ≤ DPL unless
   * conforming code (#GP(sel)), present (#NP(sel)); a null selector makes them unusable.
   */
  loadDataSeg(seg: number, sel: number): void {
    const err = sel & 0xfffc;
    const rpl = sel & 3;
    if (seg === Seg.SS) {
      if (err === 0) {
        if (this.codeBits !== 64 || this.cpl === 3 || rpl !== this.cpl) this.fault(Vec.GP, 0);
        this.loadNull(seg, sel);
        this.setMode();
        return;
      }
      if (rpl !== this.cpl) this.fault(Vec.GP, err);
      this.readDescriptor(sel, Vec.GP);
      if ((this.dType & 0x1a) !== 0x12 || this.dDpl !== this.cpl) this.fault(Vec.GP, err);
      if (!this.dPresent) this.fault(Vec.SS, err);
      this.loadHidden(seg, sel);
      this.setMode();
      return;
    }
    if (err === 0) {
      this.loadNull(seg, sel);
      return;
    }
    this.readDescriptor(sel, Vec.GP);
    const t = this.dType;
    if (!(t & 0x10) || (t & 0x0a) === 0x08) this.fault(Vec.GP, err);
    if ((t & 0x0c) !== 0x0c && (rpl > this.dDpl || this.cpl > this.dDpl)) this.fault(Vec.GP, err);
    if (!this.dPresent) this.fault(Vec.NP, err);
    this.loadHidden(seg, sel);
  }

  /**
   * @internal Checks of a far JMP/CALL/RET/IRET target code segment (SDM JMP/RET "protected mode"):
   * a code segment (call gates and TSSs are not modelled: #GP(sel)), conforming with DPL ≤ `cpl` or
   * non-conforming with DPL = `cpl` and RPL ≤ `cpl`, present (#NP(sel)), not L and D together in IA-32e
   * mode (#GP(sel)). Reads the descriptor into dLo/dHi. Returns the target's code size.
   */
  checkCode(sel: number, cpl: number): number {
    const err = sel & 0xfffc;
    if (err === 0) this.fault(Vec.GP, 0);
    this.readDescriptor(sel, Vec.GP);
    const t = this.dType;
    if ((t & 0x18) !== 0x18) this.fault(Vec.GP, err);
    if (t & 4 ? this.dDpl > cpl : this.dDpl !== cpl || (sel & 3) > cpl) this.fault(Vec.GP, err);
    if (!this.dPresent) this.fault(Vec.NP, err);
    const lma = (this.efer & EFER_LMA) !== 0;
    const l = (this.dHi & 0x200000) !== 0,
      d = (this.dHi & 0x400000) !== 0;
    if (lma && l && d) this.fault(Vec.GP, err);
    return lma && l ? 64 : d ? 32 : 16;
  }

  /** @internal Load CS from the checked descriptor in dLo/dHi at `cpl` and jump to offset hi:lo: the
   *  offset must be canonical (64-bit code) or within the limit (#GP(0)). A code segment whose base is
   *  not 0 is not modelled (RIP is the linear address here): #GP(sel). */
  enterCode(sel: number, cpl: number, bits: number, lo: number, hi: number): void {
    if (bits === 64) {
      if (!canonical(hi)) this.fault(Vec.GP, 0);
    } else {
      let limit = (this.dLo & 0xffff) | (this.dHi & 0xf0000);
      if (this.dHi & 0x800000) limit = ((limit << 12) | 0xfff) >>> 0;
      if (lo > limit) this.fault(Vec.GP, 0);
      if (((this.dLo >>> 16) | (this.dHi & 0xff0000ff)) !== 0) this.fault(Vec.GP, sel & 0xfffc);
      hi = 0;
    }
    this.loadHidden(Seg.CS, ((sel & 0xfffc) | cpl) >>> 0);
    this.cpl = cpl;
    this.setMode();
    this.rip = linearNumber(lo, hi);
  }

  /** @internal JMP/CALL far to a code segment at the same privilege; a CALL (pushSize > 0) first pushes
   *  CS and the return offset with that operand size. */
  farTransfer(sel: number, lo: number, hi: number, pushSize: number, retLo: number, retHi: number): void {
    const bits = this.checkCode(sel, this.cpl);
    if (pushSize > 0) {
      const g = this.regs;
      const sLo = g[8],
        sHi = g[9];
      try {
        this.push(pushSize, this.segSel[Seg.CS], 0);
        this.push(pushSize, retLo, pushSize === 8 ? retHi : 0);
      } catch (e) {
        g[8] = sLo;
        g[9] = sHi;
        throw e;
      }
    }
    this.enterCode(sel, this.cpl, bits, lo, hi);
  }

  /** @internal RET far (SDM RET "protected mode"): pop the offset and CS with operand size `s`, release
   *  `imm` bytes; to an outer ring also pop RSP and SS (and check SS as MOV SS would at the new CPL). */
  farReturn(s: number, imm: number): void {
    this.peek(s, 0);
    const lo = this.aLo,
      hi = s === 8 ? this.aHi : 0;
    this.peek(s, s);
    const sel = this.aLo & 0xffff;
    const rpl = sel & 3;
    if (rpl < this.cpl) this.fault(Vec.GP, sel & 0xfffc);
    const bits = this.checkCode(sel, rpl);
    if (rpl === this.cpl) {
      const dLo = this.dLo,
        dHi = this.dHi,
        dAt = this.dAt;
      this.enterCode(sel, rpl, bits, lo, hi);
      this.dLo = dLo;
      this.dHi = dHi;
      this.dAt = dAt;
      this.addRsp(2 * s + imm);
      return;
    }
    // To an outer ring: the new stack is after the return address and the parameters.
    this.peek(s, 2 * s + imm);
    const spLo = this.aLo,
      spHi = s === 8 ? this.aHi : 0;
    this.peek(s, 3 * s + imm);
    this.loadReturnSs(this.aLo & 0xffff, rpl);
    this.enterCode(sel, rpl, bits, lo, hi);
    this.regs[8] = spLo;
    this.regs[9] = spHi;
  }

  /** @internal SS of a return to ring `cpl` (RET far, IRET), checked as MOV SS checks it at that CPL;
   *  the checked code descriptor in dLo/dHi/dAt is kept, and the CPL is the old one if SS faults. */
  loadReturnSs(ss: number, cpl: number): void {
    const cLo = this.dLo,
      cHi = this.dHi,
      cAt = this.dAt;
    const oldCpl = this.cpl;
    this.cpl = cpl;
    try {
      this.loadDataSeg(Seg.SS, ss);
    } catch (e) {
      this.cpl = oldCpl;
      throw e;
    }
    this.dLo = cLo;
    this.dHi = cHi;
    this.dAt = cAt;
  }

  /** @internal The base bits 63:32 of a 16-byte system descriptor (IA-32e mode) in dLo/dHi at dAt. */
  private systemBaseHi(): number {
    return this.efer & EFER_LMA ? this.dv.getUint32(this.dAt + 8, true) : 0;
  }

  /**
   * @internal LTR (SDM Vol. 2 LTR): a null selector #GP(0); the selector must name a GDT entry (TI = 0)
   * that is an available TSS (type 9: 32-bit, or 64-bit in IA-32e mode) — #GP(sel) — and present
   * (#NP(sel)); the descriptor is marked busy (type 0xB) in memory.
   */
  loadTr(sel: number): void {
    const err = sel & 0xfffc;
    if (err === 0) this.fault(Vec.GP, 0);
    if (sel & 4) this.fault(Vec.GP, err);
    this.readDescriptor(sel, Vec.GP);
    if (this.dType !== 0x09) this.fault(Vec.GP, err);
    if (!this.dPresent) this.fault(Vec.NP, err);
    const baseHi = this.systemBaseHi();
    this.dHi = (this.dHi | 0x200) >>> 0;
    this.wr(this.dAt + 4, 4, this.dHi, 0);
    this.trSel = sel;
    this.setSystem(false, baseHi);
  }

  /** @internal LLDT: a null selector leaves LDTR unusable; otherwise a GDT entry of type LDT (2),
   *  #GP(sel), present, #NP(sel). */
  loadLdt(sel: number): void {
    const err = sel & 0xfffc;
    if (err === 0) {
      this.ldtSel = sel;
      this.ldtAttr = SegAttr.UNUSABLE;
      return;
    }
    if (sel & 4) this.fault(Vec.GP, err);
    this.readDescriptor(sel, Vec.GP);
    if (this.dType !== 0x02) this.fault(Vec.GP, err);
    if (!this.dPresent) this.fault(Vec.NP, err);
    this.ldtSel = sel;
    this.setSystem(true, this.systemBaseHi());
  }

  private setSystem(ldt: boolean, baseHi: number): void {
    const lo = this.dLo,
      hi = this.dHi;
    let limit = (lo & 0xffff) | (hi & 0xf0000);
    if (hi & 0x800000) limit = ((limit << 12) | 0xfff) >>> 0;
    const base = ((lo >>> 16) | ((hi & 0xff) << 16) | (hi & 0xff000000)) >>> 0;
    const attr = (hi >>> 8) & 0xf0ff;
    if (ldt) {
      this.ldtBaseLo = base;
      this.ldtBaseHi = baseHi;
      this.ldtLimit = limit;
      this.ldtAttr = attr;
    } else {
      this.trBaseLo = base;
      this.trBaseHi = baseHi;
      this.trLimit = limit;
      this.trAttr = attr;
    }
  }

  // ---- event delivery (SDM Vol. 3 §6.12.1, §6.14; §7.2.1 32-bit TSS, §7.7 64-bit TSS) -------------
  /**
   * @internal The handler's code segment of an interrupt/trap gate: a present code segment (#GP/#NP with
   * the selector and EXT) with DPL ≤ CPL, a 64-bit one in IA-32e mode (L = 1, D = 0). Leaves the
   * descriptor in dLo/dHi/dAt; returns the handler's CPL (CPL for conforming code, else DPL).
   */
  handlerCode(sel: number, ext: number): number {
    const err = (sel & 0xfffc) + ext;
    if ((sel & 0xfffc) === 0) this.fault(Vec.GP, ext);
    this.readDescriptor(sel, Vec.GP);
    const t = this.dType;
    if ((t & 0x18) !== 0x18 || this.dDpl > this.cpl) this.fault(Vec.GP, err);
    if (this.efer & EFER_LMA && (this.dHi & 0x600000) !== 0x200000) this.fault(Vec.GP, err);
    if (!this.dPresent) this.fault(Vec.NP, err);
    return t & 4 ? this.cpl : this.dDpl;
  }

  /** @internal Read `size` bytes at `off` in the TSS that TR names into aLo/aHi: beyond TR's limit is
   *  #TS(TR selector + EXT) (SDM §6.14.5 / §7.2.1); an implicit supervisor access (§4.6). */
  readTss(off: number, size: number, ext: number): void {
    if (off + size - 1 > this.trLimit) this.fault(Vec.TS, (this.trSel & 0xfffc) + ext);
    let lo = this.trBaseLo + off,
      hi = this.trBaseHi;
    if (lo >= TWO32) {
      lo -= TWO32;
      hi = (hi + 1) >>> 0;
    }
    const a = this.checkAs(lo, hi, size, false, false, false);
    this.rd(a, size);
  }

  /**
   * @internal The inner stack of a 32-bit interrupt to CPL `cpl` (SDM §6.12.1 "stack switch"): SS and
   * ESP from the 32-bit TSS (ESPn at 4 + 8n, SSn at 8 + 8n). SS must have RPL = DPL = `cpl` and be
   * writable data (#TS(SS + EXT)), present (#SS(SS + EXT)). Loads SS; returns the new ESP.
   */
  innerStack32(cpl: number, ext: number): number {
    this.readTss(4 + 8 * cpl, 4, ext);
    const esp = this.aLo >>> 0;
    this.readTss(8 + 8 * cpl, 2, ext);
    const ss = this.aLo & 0xffff;
    const err = (ss & 0xfffc) + ext;
    if ((ss & 0xfffc) === 0 || (ss & 3) !== cpl) this.fault(Vec.TS, err);
    this.readDescriptor(ss, Vec.TS);
    if ((this.dType & 0x1a) !== 0x12 || this.dDpl !== cpl) this.fault(Vec.TS, err);
    if (!this.dPresent) this.fault(Vec.SS, err);
    this.loadHidden(Seg.SS, ss);
    return esp;
  }

  /** @internal The FS or GS base as a number (reports and tests). */
  segBaseOf(s: number): number {
    return this.segBaseHi[s] * TWO32 + this.segBase[s];
  }
}
