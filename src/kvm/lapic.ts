/**
 * The part of KVM's local APIC a PMU guest needs, in x2APIC mode: APIC base, ID, version, TPR/PPR, EOI,
 * SVR and LVTPC, with PMI delivery through LVTPC. Facts: SDM Vol. 3 APIC chapter (x2APIC MSR map, LVT
 * layout, SVR software enable); lapic.c (kvm_apic_local_deliver, kvm_lapic_reg_write, apic_lvt_mask).
 */
import {
  APIC_DEFAULT_BASE,
  APIC_LVT_MASKED,
  APIC_MODE_FIXED,
  APIC_MODE_MASK,
  APIC_VECTOR_MASK,
} from "../arch/apicdef.js";
import {
  MSR_IA32_APICBASE,
  MSR_IA32_APICBASE_BSP,
  MSR_IA32_APICBASE_ENABLE,
  X2APIC_ENABLE,
  X2APIC_EOI,
  X2APIC_ID,
  X2APIC_LVTPC,
  X2APIC_PPR,
  X2APIC_SPIV,
  X2APIC_TPR,
  X2APIC_VERSION,
} from "../arch/msr-index.js";

/** apic_lvt_mask[LVT_PERFORMANCE_COUNTER] = LVT_MASK | APIC_MODE_MASK. */
const LVTPC_WRITABLE = APIC_LVT_MASKED | APIC_MODE_MASK | APIC_VECTOR_MASK;
/** KVM's APIC version register: version 0x14, max LVT entry 5 (lapic.c kvm_apic_set_version, no CMCI). */
export const KVM_APIC_VERSION = 0x50014;
/** Physical-address width the APIC base reserved bits are computed for (MAXPHYADDR 46). */
const APIC_BASE_RESERVED = ~((1n << 46n) - 1n) | 0x2ffn;

export type ApicResult = { readonly ok: true; readonly value: bigint } | { readonly ok: false };

/** What the local APIC hands to the CPU: a fixed interrupt to raise. */
export interface InterruptLine {
  raiseInterrupt(vector: number): void;
}

export class Lapic {
  apicBase = APIC_DEFAULT_BASE | MSR_IA32_APICBASE_BSP | MSR_IA32_APICBASE_ENABLE | X2APIC_ENABLE;
  tpr = 0;
  svr = 0xff;
  lvtpc = APIC_LVT_MASKED;
  /** In-service vector (the PMI the CPU was handed and that has not seen EOI), -1 if none. */
  isr = -1;
  /** A requested fixed interrupt that could not be handed over yet (ISR busy / priority), -1 if none. */
  irr = -1;
  /** PMIs delivered to the CPU, and requests dropped because LVTPC was masked. */
  pmisDelivered = 0;
  pmisMasked = 0;

  constructor(readonly apicId: number) {}

  hwEnabled(): boolean {
    return (this.apicBase & MSR_IA32_APICBASE_ENABLE) !== 0n;
  }
  x2apic(): boolean {
    return this.hwEnabled() && (this.apicBase & X2APIC_ENABLE) !== 0n;
  }
  swEnabled(): boolean {
    return (this.svr & 0x100) !== 0;
  }

  /** PPR = max(TPR class, ISR class) (SDM "Processor priority"). */
  ppr(): number {
    const isrClass = this.isr >= 0 ? this.isr & 0xf0 : 0;
    return (this.tpr & 0xf0) >= isrClass ? this.tpr : isrClass;
  }

  /**
   * kvm_apic_local_deliver(APIC_LVTPC): nothing if the APIC is disabled or LVTPC is masked; otherwise accept
   * the interrupt and, as Intel APICs do, set LVTPC.mask (R-PMI-3). Returns whether it was accepted.
   */
  deliverPmi(line: InterruptLine): boolean {
    if (!this.hwEnabled() || (this.lvtpc & APIC_LVT_MASKED) !== 0) {
      this.pmisMasked++;
      return false;
    }
    if ((this.lvtpc & APIC_MODE_MASK) !== APIC_MODE_FIXED) {
      // Only fixed delivery is modelled (NMI mode would need an NMI line): the request is dropped, counted.
      this.pmisMasked++;
      return false;
    }
    this.irr = this.lvtpc & APIC_VECTOR_MASK;
    this.lvtpc |= APIC_LVT_MASKED;
    this.pmisDelivered++;
    this.tryInject(line);
    return true;
  }

  /** Hand the pending vector to the CPU if its priority class beats PPR. The CPU holds it while IF = 0. */
  tryInject(line: InterruptLine): void {
    if (this.irr < 0 || !this.swEnabled()) return;
    if ((this.irr & 0xf0) <= (this.ppr() & 0xf0)) return;
    this.isr = this.irr;
    this.irr = -1;
    line.raiseInterrupt(this.isr);
  }

  /** x2APIC and APIC-base MSR reads (kvm_x2apic_msr_read); unmodelled registers #GP. */
  readMsr(msr: number): ApicResult {
    if (msr === MSR_IA32_APICBASE) return { ok: true, value: this.apicBase };
    if (!this.x2apic()) return { ok: false };
    switch (msr) {
      case X2APIC_ID:
        return { ok: true, value: BigInt(this.apicId) };
      case X2APIC_VERSION:
        return { ok: true, value: BigInt(KVM_APIC_VERSION) };
      case X2APIC_TPR:
        return { ok: true, value: BigInt(this.tpr) };
      case X2APIC_PPR:
        return { ok: true, value: BigInt(this.ppr()) };
      case X2APIC_SPIV:
        return { ok: true, value: BigInt(this.svr) };
      case X2APIC_LVTPC:
        return { ok: true, value: BigInt(this.lvtpc) };
      default:
        return { ok: false }; // EOI is write-only; other registers are not modelled
    }
  }

  /** x2APIC and APIC-base MSR writes (kvm_x2apic_msr_write, kvm_apic_set_base). */
  writeMsr(msr: number, value: bigint, line: InterruptLine, hostInitiated: boolean): boolean {
    if (msr === MSR_IA32_APICBASE) return this.setBase(value, hostInitiated);
    if (!this.x2apic()) return false;
    if (value >> 32n !== 0n) return false;
    const v = Number(value);
    switch (msr) {
      case X2APIC_TPR:
        if ((v & ~0xff) !== 0) return false;
        this.tpr = v;
        this.tryInject(line);
        return true;
      case X2APIC_EOI:
        if (v !== 0) return false; // x2APIC: a non-zero EOI write faults
        this.isr = -1;
        this.tryInject(line);
        return true;
      case X2APIC_SPIV:
        if ((v & ~0x11ff) !== 0) return false;
        this.svr = v;
        // Software-disabling the APIC masks every LVT entry (SDM; lapic.c apic_set_spiv).
        if (!this.swEnabled()) this.lvtpc |= APIC_LVT_MASKED;
        return true;
      case X2APIC_LVTPC: {
        let lv = v & LVTPC_WRITABLE;
        if (!this.swEnabled()) lv |= APIC_LVT_MASKED; // kvm_lapic_reg_write: LVTs stay masked while SW-disabled
        this.lvtpc = lv;
        return true;
      }
      default:
        return false;
    }
  }

  private setBase(value: bigint, hostInitiated: boolean): boolean {
    if ((value & APIC_BASE_RESERVED) !== 0n) return false;
    const en = (value & MSR_IA32_APICBASE_ENABLE) !== 0n;
    const ext = (value & X2APIC_ENABLE) !== 0n;
    if (ext && !en) return false; // invalid state (SDM x2APIC state transitions)
    const wasX2 = this.x2apic();
    if (!hostInitiated && wasX2 && en && !ext) return false; // x2APIC → xAPIC directly is illegal
    this.apicBase = value;
    return true;
  }
}
