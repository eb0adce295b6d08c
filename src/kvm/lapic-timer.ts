/**
 * The local APIC timer as KVM emulates it in software (lapic.c: apic_update_lvtt, update_divide_count,
 * set_target_expiration, start_sw_period, start_sw_tscdeadline, apic_get_tmcct, apic_timer_expired,
 * kvm_apic_inject_pending_timer_irqs): one-shot, periodic and TSC-deadline modes of the LVT timer, the divide
 * configuration, the initial/current count and IA32_TSC_DEADLINE. Facts: SDM Vol. 3 "APIC Timer".
 *
 * Time is the model's TSC: host TSC = reference cycles of the guest's unhalted + halted cycles (Vcpu.rawTsc),
 * so an expiry is an exact instruction boundary. KVM's hrtimer runs in nanoseconds: a count of n ticks lasts
 * n × apic_bus_cycle_ns (1 ns, APIC_BUS_CYCLE_NS_DEFAULT) × divide; the model turns that into host TSC cycles
 * once, when the timer is armed (nsec_to_cycles: ns × tsc_khz / 10^6, rounded down), and fires at the first
 * instruction boundary where the TSC has reached the expiry.
 */
import { APIC_LVT_TIMER_MASK, APIC_LVT_TIMER_PERIODIC, APIC_LVT_TIMER_TSCDEADLINE } from "../arch/apicdef.js";

/** min_timer_period_us (x86.c module parameter, default 200): KVM raises shorter periodic timers to this. */
export const MIN_TIMER_PERIOD_NS = 200_000;

/** What the timer reads of its vCPU: the clock. */
export interface TimerClock {
  /** Host TSC now (guest TSC = this + the vCPU's TSC offset). */
  rawTscNow(): number;
  /** The vCPU's TSC offset (IA32_TSC writes move it). */
  readonly tscOffset: bigint;
  /** TSC frequency in kHz (virtual_tsc_khz). */
  readonly tscKhz: number;
}

export class LapicTimer {
  /** Timer mode bits of LVTT (apic->lapic_timer.timer_mode). */
  mode = 0;
  /** Initial count (APIC_TMICT) and the divide value update_divide_count derived from TDCR. */
  tmict = 0;
  divide = 2;
  /** Period in ns (lapic_timer.period) and in host TSC cycles; 0: not counting. */
  periodNs = 0;
  private periodRaw = 0;
  /** Host TSC value at which the armed timer expires; Infinity when it is not armed. */
  expiryRaw = Infinity;
  /** IA32_TSC_DEADLINE as the guest wrote it (lapic_timer.tscdeadline); 0 when disarmed or after it fired. */
  tscDeadline = 0n;
  /** Expiries delivered through LVTT (or dropped because it was masked): kept for tests and reports. */
  fired = 0;

  constructor(private readonly clock: TimerClock) {}

  tscDeadlineMode(): boolean {
    return this.mode === APIC_LVT_TIMER_TSCDEADLINE;
  }
  periodic(): boolean {
    return this.mode === APIC_LVT_TIMER_PERIODIC;
  }

  /** update_divide_count: TDCR bits 3,1:0 → divide by 2, 4, …, 128, 1. */
  setDivide(tdcr: number): void {
    const t = tdcr & 0xf;
    this.divide = 1 << ((((t & 3) | ((t & 8) >> 1)) + 1) & 7);
  }

  /** apic_update_lvtt: a switch into or out of TSC-deadline mode cancels the timer and clears TMICT. */
  updateMode(lvtt: number): void {
    const mode = lvtt & APIC_LVT_TIMER_MASK;
    if (mode === this.mode) return;
    if ((mode === APIC_LVT_TIMER_TSCDEADLINE) !== this.tscDeadlineMode()) {
      this.cancel();
      this.tmict = 0;
      this.periodNs = 0;
      this.tscDeadline = 0n;
    }
    this.mode = mode;
  }

  cancel(): void {
    this.expiryRaw = Infinity;
  }

  /** A write to TMICT (ignored in TSC-deadline mode): set_target_expiration from now. */
  writeInitialCount(v: number): void {
    if (this.tscDeadlineMode()) return;
    this.cancel();
    this.tmict = v >>> 0;
    let ns = this.tmict * this.divide; // × apic_bus_cycle_ns = 1
    if (ns !== 0 && this.periodic() && ns < MIN_TIMER_PERIOD_NS) ns = MIN_TIMER_PERIOD_NS; // limit_periodic_timer_frequency
    this.periodNs = ns;
    if (ns === 0) return;
    this.periodRaw = this.nsToCycles(ns);
    this.expiryRaw = this.clock.rawTscNow() + this.periodRaw;
  }

  /** A TDCR write while counting: update_target_expiration rescales what remains to the new divide. */
  writeDivide(tdcr: number): void {
    const old = this.divide;
    this.setDivide(tdcr);
    if (this.divide === old || this.periodNs === 0 || this.expiryRaw === Infinity) return;
    const now = this.clock.rawTscNow();
    const remaining = Math.max(0, this.expiryRaw - now);
    this.periodNs = Math.max(this.tmict * this.divide, this.periodic() ? MIN_TIMER_PERIOD_NS : 0);
    this.periodRaw = this.nsToCycles(this.periodNs);
    this.expiryRaw = now + Math.floor((remaining * this.divide) / old);
  }

  /** kvm_set_lapic_tscdeadline_msr: only in TSC-deadline mode; 0 disarms; a deadline already passed expires
   *  at once (start_sw_tscdeadline → apic_timer_expired). */
  writeTscDeadline(v: bigint): void {
    if (!this.tscDeadlineMode()) return;
    this.cancel();
    this.tscDeadline = v;
    if (v === 0n) return;
    const raw = v - this.clock.tscOffset;
    const now = this.clock.rawTscNow();
    this.expiryRaw = raw <= BigInt(now) ? now : Number(raw);
  }

  /** kvm_get_lapic_tscdeadline_msr: 0 outside TSC-deadline mode. */
  readTscDeadline(): bigint {
    return this.tscDeadlineMode() ? this.tscDeadline : 0n;
  }

  /** apic_get_tmcct: 0 in TSC-deadline mode, with TMICT = 0, or once a one-shot count has run out; else what
   *  remains of the current period in timer ticks. */
  currentCount(): number {
    if (this.tscDeadlineMode() || this.tmict === 0 || this.periodNs === 0 || this.expiryRaw === Infinity) return 0;
    const remainingRaw = Math.max(0, this.expiryRaw - this.clock.rawTscNow());
    const ns = Number((BigInt(remainingRaw) * 1_000_000n) / BigInt(this.clock.tscKhz)) % this.periodNs;
    return Math.floor(ns / this.divide);
  }

  /** Has the armed timer reached its expiry at this instruction boundary? If so, re-arm a periodic timer one
   *  period on (advance_periodic_target_expiration) and disarm the others (kvm_apic_inject_pending_timer_irqs
   *  clears tscdeadline). The caller delivers through LVTT. */
  expire(now: number): boolean {
    if (now < this.expiryRaw) return false;
    this.fired++;
    if (this.periodic() && this.periodRaw > 0) {
      this.expiryRaw += this.periodRaw;
      if (this.expiryRaw <= now) this.expiryRaw = now + this.periodRaw; // a missed period is not replayed
    } else {
      this.expiryRaw = Infinity;
      if (this.tscDeadlineMode()) this.tscDeadline = 0n;
    }
    return true;
  }

  private nsToCycles(ns: number): number {
    return Number((BigInt(ns) * BigInt(this.clock.tscKhz)) / 1_000_000n);
  }
}
