/**
 * KVM's local APIC (lapic.c) for one vCPU, without APICv: one register file reached through the xAPIC MMIO
 * page at IA32_APIC_BASE (apic_mmio_read/apic_mmio_write) and through the x2APIC MSRs 0x800-0x8FF
 * (kvm_x2apic_msr_read/kvm_x2apic_msr_write), IA32_APIC_BASE with kvm_apic_set_base's mode transitions, the
 * LVTs (gated by SVR software enable), IRR/ISR/TMR with TPR/PPR and EOI, IPIs through the ICR
 * (kvm_apic_send_ipi for a VM with this one vCPU) and SELF_IPI, and the timer (lapic-timer.ts). Facts: SDM
 * Vol. 3 APIC chapter; docs/apic.md says what is modelled and what is not.
 */
import {
  APIC_ARBPRI,
  APIC_BASE_MSR,
  APIC_DEFAULT_BASE,
  APIC_DEST_ALLBUT,
  APIC_DEST_ALLINC,
  APIC_DEST_LOGICAL,
  APIC_DEST_SELF,
  APIC_DFR,
  APIC_DM_FIXED,
  APIC_DM_LOWEST,
  APIC_EOI,
  APIC_ESR,
  APIC_ICR,
  APIC_ICR2,
  APIC_ID,
  APIC_INT_LEVELTRIG,
  APIC_IRR,
  APIC_ISR,
  APIC_LDR,
  APIC_LVR,
  APIC_LVT0,
  APIC_LVT1,
  APIC_LVT_LEVEL_TRIGGER,
  APIC_LVT_MASKED,
  APIC_LVT_TIMER_ONESHOT,
  APIC_LVT_TIMER_PERIODIC,
  APIC_LVT_TIMER_TSCDEADLINE,
  APIC_LVTERR,
  APIC_LVTPC,
  APIC_LVTT,
  APIC_LVTTHMR,
  APIC_MODE_FIXED,
  APIC_MODE_MASK,
  APIC_PROCPRI,
  APIC_SELF_IPI,
  APIC_SEND_PENDING,
  APIC_SHORT_MASK,
  APIC_SPIV,
  APIC_SPIV_APIC_ENABLED,
  APIC_TASKPRI,
  APIC_TDCR,
  APIC_TMCCT,
  APIC_TMICT,
  APIC_TMR,
  APIC_VECTOR_MASK,
  LAPIC_MMIO_LENGTH,
  MSR_IA32_TSC_DEADLINE,
  X2APIC_BROADCAST,
  X2APIC_ICR_RESERVED_LO,
} from "../arch/apicdef.js";
import {
  MSR_IA32_APICBASE,
  MSR_IA32_APICBASE_BSP,
  MSR_IA32_APICBASE_ENABLE,
  X2APIC_ENABLE,
} from "../arch/msr-index.js";
import { MAXPHYADDR } from "../isa/paging.js";
import { LapicTimer, type TimerClock } from "./lapic-timer.js";
import {
  KVM_APIC_VERSION,
  LVT_MASK,
  LVT_WRITABLE,
  LVTS,
  READABLE,
  READABLE_XAPIC_ONLY,
  matchDest,
} from "./lapic-regs.js";

export { KVM_APIC_VERSION } from "./lapic-regs.js";

export type ApicResult = { readonly ok: true; readonly value: bigint } | { readonly ok: false };

/** What the local APIC hands to the CPU: a fixed interrupt to raise. */
export interface InterruptLine {
  raiseInterrupt(vector: number): void;
}

/** What the APIC reads of its vCPU: the clock (for the timer) and the guest's CPUID bits it depends on. */
export interface LapicHost extends TimerClock {
  /** CPUID.1:ECX.x2APIC: without it IA32_APIC_BASE bit 10 is reserved (kvm_apic_set_base). */
  guestHasX2apic(): boolean;
  /** CPUID.1:ECX.TSC_DEADLINE: the LVT timer's mode field is 2 bits wide with it, 1 without. */
  guestHasTscDeadline(): boolean;
}

/** IPIs the model could not deliver as KVM would (NMI/SMI/INIT/SIPI to this vCPU): counted, not performed. */
export interface IpiStats {
  sent: number;
  delivered: number;
  /** Destinations that match no vCPU of this 1-vCPU VM (all-but-self, other APIC IDs): no-ops. */
  noTarget: number;
  notModelled: number;
}

export class Lapic {
  /** The register page: one 32-bit word per 16-byte register, index = offset >> 4. */
  readonly regs = new Uint32Array(LAPIC_MMIO_LENGTH >> 4);
  apicBase = 0n;
  readonly timer: LapicTimer;
  /** PMIs delivered to the CPU, and requests dropped because LVTPC was masked. */
  pmisDelivered = 0;
  pmisMasked = 0;
  readonly ipis: IpiStats = { sent: 0, delivered: 0, noTarget: 0, notModelled: 0 };
  /** The CPU interrupts are handed to (set when the vCPU gets its CPU). */
  line: InterruptLine | null = null;

  constructor(
    readonly apicId: number,
    private readonly host: LapicHost,
  ) {
    this.timer = new LapicTimer(host);
    this.reset();
    // The flat 64-bit guest ABI (docs/guest-abi.md) starts as a 64-bit kernel leaves the APIC: in x2APIC
    // mode. Guests entered through the 32-bit (Multiboot) entry get the reset state instead (reset()).
    this.setBase(this.apicBase | X2APIC_ENABLE, true);
  }

  /** kvm_lapic_reset (RESET, not INIT): xAPIC mode at the default base, enabled, BSP; every LVT masked, SVR
   *  0xFF (software-disabled), TPR 0, DFR all ones, ICR, timer and IRR/ISR/TMR clear. */
  reset(): void {
    this.regs.fill(0);
    this.timer.cancel();
    this.timer.tmict = 0;
    this.timer.periodNs = 0;
    this.timer.tscDeadline = 0n;
    this.timer.mode = 0;
    this.apicBase = APIC_DEFAULT_BASE | MSR_IA32_APICBASE_ENABLE | (this.apicId === 0 ? MSR_IA32_APICBASE_BSP : 0n);
    this.regs[APIC_ID >> 4] = (this.apicId << 24) >>> 0;
    this.regs[APIC_LVR >> 4] = KVM_APIC_VERSION;
    for (const r of LVTS) this.regs[r >> 4] = APIC_LVT_MASKED;
    this.regs[APIC_DFR >> 4] = 0xffffffff;
    this.regs[APIC_SPIV >> 4] = 0xff;
    this.timer.setDivide(0);
  }

  hwEnabled(): boolean {
    return (this.apicBase & MSR_IA32_APICBASE_ENABLE) !== 0n;
  }
  x2apic(): boolean {
    return this.hwEnabled() && (this.apicBase & X2APIC_ENABLE) !== 0n;
  }
  swEnabled(): boolean {
    return (this.reg(APIC_SPIV) & APIC_SPIV_APIC_ENABLED) !== 0;
  }
  /** The xAPIC MMIO window's physical base (apic->base_address). */
  get baseAddress(): number {
    return Number(this.apicBase & 0xffffff000n);
  }
  get lvtpc(): number {
    return this.reg(APIC_LVTPC);
  }
  get tpr(): number {
    return this.reg(APIC_TASKPRI);
  }

  reg(offset: number): number {
    return this.regs[offset >> 4]!;
  }
  private set(offset: number, v: number): void {
    this.regs[offset >> 4] = v >>> 0;
  }

  // ---------------------------------------------------------------- IRR / ISR / PPR

  private static highest(regs: Uint32Array, base: number): number {
    for (let w = 7; w >= 0; w--) {
      const bits = regs[(base >> 4) + w]!;
      if (bits !== 0) return w * 32 + 31 - Math.clz32(bits);
    }
    return -1;
  }
  private setVector(base: number, v: number, on: boolean): void {
    const i = (base >> 4) + (v >>> 5);
    const bit = 1 << (v & 31);
    this.regs[i] = on ? (this.regs[i]! | bit) >>> 0 : (this.regs[i]! & ~bit) >>> 0;
  }

  /** __apic_update_ppr: PPR = TPR if its class is at least the highest in-service class, else that class. */
  ppr(): number {
    const tpr = this.tpr & 0xff;
    const isr = Math.max(0, Lapic.highest(this.regs, APIC_ISR));
    return (tpr & 0xf0) >= (isr & 0xf0) ? tpr : isr & 0xf0;
  }

  /** __apic_accept_irq for fixed delivery: dropped unless the APIC is hardware- and software-enabled; else
   *  IRR (and TMR for level) is set and the highest deliverable vector goes to the CPU. */
  acceptFixed(vector: number, level: boolean): boolean {
    if (!this.hwEnabled() || !this.swEnabled()) return false;
    this.setVector(APIC_IRR, vector, true);
    this.setVector(APIC_TMR, vector, level);
    this.tryInject();
    return true;
  }

  /** kvm_apic_has_interrupt + kvm_apic_ack_interrupt: hand the highest IRR vector whose class beats PPR to
   *  the CPU, moving it to ISR. The CPU holds what it was handed while IF = 0 (the model acknowledges at hand-off,
   *  where KVM acknowledges at injection). */
  tryInject(): void {
    const line = this.line;
    if (line === null || !this.hwEnabled()) return;
    for (;;) {
      const v = Lapic.highest(this.regs, APIC_IRR);
      if (v < 0 || (v & 0xf0) <= this.ppr()) return;
      this.setVector(APIC_IRR, v, false);
      this.setVector(APIC_ISR, v, true);
      line.raiseInterrupt(v);
    }
  }

  /** apic_set_eoi: clear the highest in-service vector (none: nothing), then look for the next. */
  private eoi(): void {
    const v = Lapic.highest(this.regs, APIC_ISR);
    if (v < 0) return;
    this.setVector(APIC_ISR, v, false);
    this.tryInject();
  }

  /** kvm_apic_local_deliver: nothing if the APIC is hardware-disabled or the LVT is masked; fixed delivery
   *  is accepted like any fixed interrupt; other delivery modes are not modelled (counted, dropped). */
  private localDeliver(lvtOffset: number): boolean {
    const lvt = this.reg(lvtOffset);
    if (!this.hwEnabled() || (lvt & APIC_LVT_MASKED) !== 0) return false;
    if ((lvt & APIC_MODE_MASK) !== APIC_MODE_FIXED) return false;
    return this.acceptFixed(lvt & APIC_VECTOR_MASK, (lvt & APIC_LVT_LEVEL_TRIGGER) !== 0);
  }

  /** kvm_pmu_deliver_pmi → kvm_apic_local_deliver(APIC_LVTPC); an accepted PMI sets LVTPC.mask, as Intel
   *  APICs do (R-PMI-3). Returns whether it was accepted. */
  deliverPmi(): boolean {
    if (!this.localDeliver(APIC_LVTPC)) {
      this.pmisMasked++;
      return false;
    }
    this.set(APIC_LVTPC, this.lvtpc | APIC_LVT_MASKED);
    this.pmisDelivered++;
    return true;
  }

  /** At an instruction boundary: an expired timer is delivered through LVTT (kvm_inject_apic_timer_irqs). */
  checkTimer(now: number): void {
    if (now >= this.timer.expiryRaw && this.timer.expire(now)) this.localDeliver(APIC_LVTT);
  }

  /** The host TSC value at which the timer can next interrupt the guest (Infinity: it cannot). */
  timerExpiry(): number {
    return this.timer.expiryRaw;
  }

  /** Whether an expiry would wake a halted vCPU: an unmasked fixed LVTT on an enabled APIC whose vector's
   *  class beats PPR (anything else would leave the vCPU halted). */
  timerCanWake(): boolean {
    const lvtt = this.reg(APIC_LVTT);
    return (
      this.timer.expiryRaw !== Infinity &&
      this.hwEnabled() &&
      this.swEnabled() &&
      (lvtt & (APIC_LVT_MASKED | APIC_MODE_MASK)) === 0 &&
      (lvtt & 0xf0) > this.ppr()
    );
  }

  // ---------------------------------------------------------------- IPIs (kvm_apic_send_ipi)

  /** kvm_apic_send_ipi for a VM whose only vCPU is this one: the shorthand or destination decides whether
   *  it targets this APIC (kvm_apic_match_dest); fixed and lowest-priority delivery are accepted, other modes
   *  (NMI, SMI, INIT, SIPI) are not modelled for this vCPU. Other destinations are absent CPUs: no-ops. */
  private sendIpi(lo: number, hi: number): void {
    this.ipis.sent++;
    const shorthand = lo & APIC_SHORT_MASK;
    let self: boolean;
    if (shorthand === APIC_DEST_SELF || shorthand === APIC_DEST_ALLINC) self = true;
    else if (shorthand === APIC_DEST_ALLBUT) self = false;
    else {
      const x2 = this.x2apic();
      const dest = x2 ? hi >>> 0 : hi >>> 24;
      const id = x2 ? this.apicId : this.reg(APIC_ID) >>> 24;
      self = matchDest(x2, id, this.reg(APIC_LDR), this.reg(APIC_DFR), dest, (lo & APIC_DEST_LOGICAL) !== 0);
    }
    if (!self) {
      this.ipis.noTarget++;
      return;
    }
    const mode = lo & APIC_MODE_MASK;
    if (mode !== APIC_DM_FIXED && mode !== APIC_DM_LOWEST) {
      this.ipis.notModelled++;
      return;
    }
    if (this.acceptFixed(lo & APIC_VECTOR_MASK, (lo & APIC_INT_LEVELTRIG) !== 0)) this.ipis.delivered++;
  }

  // ---------------------------------------------------------------- registers (kvm_lapic_reg_read/_write)

  /** kvm_lapic_reg_read's validity check and __apic_read: the value of a readable register, or null. */
  readReg(offset: number): number | null {
    if (offset > 0x3f0 || (offset & 0xf) !== 0) return null;
    if (!READABLE.includes(offset) && (this.x2apic() || !READABLE_XAPIC_ONLY.includes(offset))) return null;
    switch (offset) {
      case APIC_ARBPRI:
        return 0;
      case APIC_PROCPRI:
        return this.ppr();
      case APIC_TMCCT:
        return this.timer.currentCount();
      default:
        return this.reg(offset);
    }
  }

  /** kvm_lapic_reg_write: false where KVM returns 1 (a #GP for an x2APIC MSR write; ignored through MMIO). */
  writeReg(offset: number, val: number): boolean {
    const x2 = this.x2apic();
    val >>>= 0;
    switch (offset) {
      case APIC_ID:
        if (x2) return false;
        this.set(APIC_ID, val & 0xff000000); // kvm_apic_set_xapic_id(val >> 24)
        return true;
      case APIC_TASKPRI:
        this.set(APIC_TASKPRI, val & 0xff);
        this.tryInject();
        return true;
      case APIC_EOI:
        this.eoi();
        return true;
      case APIC_LDR:
        if (x2) return false;
        this.set(APIC_LDR, val & 0xff000000);
        return true;
      case APIC_DFR:
        if (x2) return false;
        this.set(APIC_DFR, val | 0x0fffffff);
        return true;
      case APIC_SPIV:
        this.set(APIC_SPIV, val & 0x3ff); // no directed EOI in KVM_APIC_VERSION
        if ((val & APIC_SPIV_APIC_ENABLED) === 0) {
          // Software-disabling masks every LVT (apic_set_spiv callers in kvm_lapic_reg_write).
          for (const r of LVTS) this.set(r, this.reg(r) | APIC_LVT_MASKED);
          this.timer.updateMode(this.reg(APIC_LVTT));
        } else this.tryInject();
        return true;
      case APIC_ICR:
        this.set(APIC_ICR, val & ~APIC_SEND_PENDING); // KVM has no delay: delivery status always reads idle
        this.sendIpi(val & ~APIC_SEND_PENDING, this.reg(APIC_ICR2));
        return true;
      case APIC_ICR2:
        if (x2) return false;
        this.set(APIC_ICR2, val & 0xff000000);
        return true;
      case APIC_LVTTHMR:
      case APIC_LVTPC:
      case APIC_LVT0:
      case APIC_LVT1:
      case APIC_LVTERR:
        this.set(offset, (this.swEnabled() ? val : val | APIC_LVT_MASKED) & LVT_WRITABLE[offset]!);
        return true;
      case APIC_LVTT:
        this.set(APIC_LVTT, (this.swEnabled() ? val : val | APIC_LVT_MASKED) & (LVT_MASK | this.timerModeMask()));
        this.timer.updateMode(this.reg(APIC_LVTT));
        if (this.timer.tscDeadlineMode()) this.set(APIC_TMICT, 0);
        return true;
      case APIC_TMICT:
        if (this.timer.tscDeadlineMode()) return true;
        this.set(APIC_TMICT, val);
        this.timer.writeInitialCount(val);
        return true;
      case APIC_TDCR:
        this.set(APIC_TDCR, val & 0xb);
        this.timer.writeDivide(val & 0xb);
        return true;
      case APIC_ESR:
        return !(x2 && val !== 0);
      case APIC_SELF_IPI:
        if (!x2 || (val & ~APIC_VECTOR_MASK) !== 0) return false;
        this.sendIpi(APIC_DEST_SELF | val, 0);
        return true;
      default:
        return false;
    }
  }

  /** timer_mode_mask: one-shot/periodic, plus TSC-deadline when the guest's CPUID has it. */
  private timerModeMask(): number {
    return (
      APIC_LVT_TIMER_ONESHOT |
      APIC_LVT_TIMER_PERIODIC |
      (this.host.guestHasTscDeadline() ? APIC_LVT_TIMER_TSCDEADLINE : 0)
    );
  }

  // ---------------------------------------------------------------- the xAPIC MMIO page

  /** apic_mmio_read: all ones while the APIC is disabled or in x2APIC mode (KVM_X86_QUIRK_LAPIC_MMIO_HOLE, on by
   *  default); else the register's bytes at the access's alignment (an access that crosses the 4-byte register,
   *  or names no readable register, leaves the emulator's buffer at 0 here). */
  mmioRead(offset: number, len: number): number {
    if (!this.hwEnabled() || this.x2apic()) return len >= 4 ? 0xffffffff : (1 << (8 * len)) - 1;
    const align = offset & 0xf;
    if (align + len > 4) return 0;
    const v = this.readReg(offset & ~0xf);
    if (v === null) return 0;
    const shifted = v >>> (8 * align);
    return len === 4 ? shifted >>> 0 : shifted & ((1 << (8 * len)) - 1);
  }

  /** apic_mmio_write: ignored while disabled or in x2APIC mode, and unless a 4-byte access at a register's
   *  16-byte-aligned offset (SDM: registers are accessed through aligned 32-bit loads and stores). */
  mmioWrite(offset: number, len: number, val: number): void {
    if (!this.hwEnabled() || this.x2apic()) return;
    if (len !== 4 || (offset & 0xf) !== 0) return;
    this.writeReg(offset & 0xff0, val);
  }

  // ---------------------------------------------------------------- MSRs

  /** The MSR half of __handle_fastpath_wrmsr (x86.c): TSC_DEADLINE always; the x2APIC ICR in x2APIC mode when
   *  kvm_x2apic_icr_write_fast succeeds — no reserved bit, and kvm_irq_delivery_to_apic_fast can route it
   *  (the self shorthand, or no shorthand to a non-broadcast destination). Anything else is the slow path. */
  handlesWrmsrInFastpath(msr: number, lo: number, hi: number): boolean {
    if (msr === MSR_IA32_TSC_DEADLINE) return true;
    if (msr !== APIC_BASE_MSR + (APIC_ICR >> 4) || !this.x2apic() || (lo & X2APIC_ICR_RESERVED_LO) !== 0) return false;
    const sh = lo & APIC_SHORT_MASK;
    return sh === APIC_DEST_SELF || (sh === 0 && hi >>> 0 !== X2APIC_BROADCAST);
  }

  /** IA32_APIC_BASE, IA32_TSC_DEADLINE and kvm_x2apic_msr_read (x2APIC mode only; ICR is 64 bits). */
  readMsr(msr: number): ApicResult {
    if (msr === MSR_IA32_APICBASE) return { ok: true, value: this.apicBase };
    if (msr === MSR_IA32_TSC_DEADLINE) return { ok: true, value: this.timer.readTscDeadline() };
    if (!this.x2apic()) return { ok: false };
    const reg = (msr - APIC_BASE_MSR) << 4;
    if (reg === APIC_ICR) return { ok: true, value: BigInt(this.reg(APIC_ICR)) | (BigInt(this.reg(APIC_ICR2)) << 32n) };
    const v = this.readReg(reg);
    return v === null ? { ok: false } : { ok: true, value: BigInt(v) };
  }

  /** IA32_APIC_BASE (kvm_apic_set_base), IA32_TSC_DEADLINE (kvm_set_lapic_tscdeadline_msr) and
   *  kvm_x2apic_msr_write (x2APIC mode only; the ICR takes 64 bits, every other register #GPs on bits 63:32). */
  writeMsr(msr: number, value: bigint, hostInitiated: boolean): boolean {
    if (msr === MSR_IA32_APICBASE) return this.setBase(value, hostInitiated);
    if (msr === MSR_IA32_TSC_DEADLINE) {
      this.timer.writeTscDeadline(value);
      return true;
    }
    if (!this.x2apic()) return false;
    const reg = (msr - APIC_BASE_MSR) << 4;
    const lo = Number(value & 0xffffffffn);
    const hi = Number(value >> 32n);
    if (reg === APIC_ICR) {
      // kvm_x2apic_icr_write: reserved bits #GP; BUSY is cleared; ICR2 holds the 32-bit destination.
      if ((lo & X2APIC_ICR_RESERVED_LO) !== 0) return false;
      const icr = lo & ~APIC_SEND_PENDING;
      this.set(APIC_ICR2, hi);
      this.set(APIC_ICR, icr);
      this.sendIpi(icr, hi);
      return true;
    }
    if (hi !== 0) return false;
    return this.writeReg(reg, lo);
  }

  /** kvm_apic_set_base: reserved bits (above MAXPHYADDR, 7:0, 9, and 10 without CPUID x2APIC) and the invalid
   *  mode (x2APIC without enable) fail; the guest may not go x2APIC → xAPIC nor disabled → x2APIC (SDM
   *  "x2APIC State Transitions"); userspace may. Enabling sets the ID in the new mode's format. */
  setBase(value: bigint, hostInitiated: boolean): boolean {
    if (value === this.apicBase) return true;
    const reserved = ~((1n << BigInt(MAXPHYADDR)) - 1n) | 0x2ffn | (this.host.guestHasX2apic() ? 0n : X2APIC_ENABLE);
    const en = (value & MSR_IA32_APICBASE_ENABLE) !== 0n;
    const ext = (value & X2APIC_ENABLE) !== 0n;
    if ((value & reserved) !== 0n || (ext && !en)) return false;
    const wasEn = this.hwEnabled();
    const wasX2 = this.x2apic();
    if (!hostInitiated && ((wasX2 && !ext && en) || (!wasEn && ext))) return false;
    this.apicBase = value;
    if (ext && !wasX2) {
      // kvm_apic_set_x2apic_id: the ID is the whole register, LDR the cluster/bit form.
      this.set(APIC_ID, this.apicId);
      this.set(APIC_LDR, ((this.apicId >>> 4) << 16) | (1 << (this.apicId & 0xf)));
    } else if (en && ((!wasEn && !ext) || (wasX2 && !ext))) {
      this.set(APIC_ID, this.apicId << 24); // kvm_apic_set_xapic_id
    }
    return true;
  }
}
