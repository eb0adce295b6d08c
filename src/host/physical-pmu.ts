/**
 * The silicon's PMU for a host preset: what a guest touches directly when an access is not intercepted,
 * and what host perf and KVM's load/put write. Native RDMSR/WRMSR/RDPMC semantics (SDM; model.md §5, §9.2
 * R-HW-1/2), native counting from `cpu.events` while GLOBAL_CTRL enables it, and an owner tag on every
 * register value so the isolation checker (src/check) can tell host values from guest values.
 */
import { eventTotal, maxPerInstruction, type EventClock } from "./event-counts.js";
import { EventSource, FIXED_SOURCES } from "../arch/arch-events.js";
import {
  MSR_CORE_PERF_FIXED_CTR0,
  MSR_CORE_PERF_FIXED_CTR_CTRL,
  MSR_CORE_PERF_GLOBAL_CTRL,
  MSR_CORE_PERF_GLOBAL_OVF_CTRL,
  MSR_CORE_PERF_GLOBAL_STATUS,
  MSR_CORE_PERF_GLOBAL_STATUS_SET,
  MSR_IA32_EVNTSEL0,
  MSR_IA32_PERF_CAPABILITIES,
  MSR_IA32_PERFCTR0,
  MSR_IA32_PMC0,
  MSR_PERF_METRICS,
  PERF_CAP_FW_WRITES,
  PERF_CAP_PERF_METRICS,
} from "../arch/msr-index.js";
import { GLOBAL_CTRL_EN_PERF_METRICS, INTEL_PMC_IDX_FIXED } from "../arch/perf-event.js";
import { type GuestEvents, noEvents } from "../isa/platform.js";
import { big } from "./halves.js";
import { CountPriv, PmuRegisterFile } from "./pmu-registers.js";
import type { HostPreset } from "./presets.js";
import { type Provenance, RESET_PROVENANCE } from "./provenance.js";

export { HOST_OWNER, type Provenance, RESET_PROVENANCE } from "./provenance.js";

/** Hardware-reserved bits of IA32_PERFEVTSELx on these parts: 63:35 (bits 32–34 exist: IN_TX, IN_TXCP,
 *  ADAPTIVE), so a valid selector is below 2^35. */
const EVENTSEL_HW_LIMIT_HI = 2 ** (35 - 32);
const TWO32 = 4294967296;
const M64 = 0xffffffffffffffffn;

/** Bits of IA32_PERF_GLOBAL_CTRL the silicon defines (SDM architectural PMU; model.md §5.3): GP enables
 *  0..nGP−1, fixed enables 32..32+nFX−1, and EN_PERF_METRICS (48) on a CPU with PERF_METRICS. */
export function hardwareGlobalCtrlBits(phys: Pick<PhysicalPmu, "nGP" | "nFX" | "hasPerfMetrics">): bigint {
  let bits = (1n << BigInt(phys.nGP)) - 1n;
  bits |= ((1n << BigInt(phys.nFX)) - 1n) << BigInt(INTEL_PMC_IDX_FIXED);
  if (phys.hasPerfMetrics) bits |= 1n << BigInt(GLOBAL_CTRL_EN_PERF_METRICS);
  return bits;
}

export class PhysicalPmu extends PmuRegisterFile {
  readonly host: HostPreset;
  readonly hasPerfMetrics: boolean;
  /** The GLOBAL_CTRL bits this CPU defines (hardwareGlobalCtrlBits); the rest #GP on WRMSR. */
  readonly globalCtrlBits: bigint;
  /** globalCtrlBits as 32-bit halves (the WRMSR check on Numbers). */
  private readonly ctrlBitsLo: number;
  private readonly ctrlBitsHi: number;
  /** PERF_CAPABILITIES.FW_WRITE: the full-width counter aliases exist. */
  private readonly fwWrites: boolean;
  private readonly clock: EventClock;

  /** The guest's raw event totals at the last sync: a source's total then is eventTotal(src, at), derived
   *  only for the sources a counter uses (copying nine numbers per exit instead of deriving every total). */
  private readonly at: GuestEvents = noEvents();
  private lastCpl = 0;

  constructor(host: HostPreset) {
    super(host.nGP, host.nFX, host.wGP, host.wFX);
    this.host = host;
    this.hasPerfMetrics = (host.perfCapabilities & PERF_CAP_PERF_METRICS) !== 0n;
    this.globalCtrlBits = hardwareGlobalCtrlBits(this);
    this.ctrlBitsLo = Number(this.globalCtrlBits & 0xffffffffn);
    this.ctrlBitsHi = Number(this.globalCtrlBits >> 32n);
    this.fwWrites = (host.perfCapabilities & PERF_CAP_FW_WRITES) !== 0n;
    this.clock = { tscKhz: host.tscKhz, coreKhz: host.coreKhz, slotsPerCycle: host.slotsPerCycle };
    // Power-on: GLOBAL_CTRL has every GP enable bit set (SDM; model.md §5.3).
    this.ctrlLo = (2 ** this.nGP - 1) >>> 0;
  }

  /** Canonical register for an MSR index (the full-width alias names the same counter), or -1 if the
   *  CPU has no such PMU MSR. */
  canonical(msr: number): number {
    if (msr >= MSR_IA32_PMC0 && msr < MSR_IA32_PMC0 + this.nGP)
      return this.fwWrites ? msr - MSR_IA32_PMC0 + MSR_IA32_PERFCTR0 : -1;
    if (msr >= MSR_IA32_PERFCTR0 && msr < MSR_IA32_PERFCTR0 + this.nGP) return msr;
    if (msr >= MSR_IA32_EVNTSEL0 && msr < MSR_IA32_EVNTSEL0 + this.nGP) return msr;
    if (msr >= MSR_CORE_PERF_FIXED_CTR0 && msr < MSR_CORE_PERF_FIXED_CTR0 + this.nFX) return msr;
    switch (msr) {
      case MSR_CORE_PERF_FIXED_CTR_CTRL:
      case MSR_CORE_PERF_GLOBAL_CTRL:
      case MSR_CORE_PERF_GLOBAL_STATUS:
      case MSR_CORE_PERF_GLOBAL_OVF_CTRL:
      case MSR_IA32_PERF_CAPABILITIES:
        return msr;
      case MSR_CORE_PERF_GLOBAL_STATUS_SET:
        return this.host.pmuVersion >= 4 ? msr : -1;
      case MSR_PERF_METRICS:
        return this.hasPerfMetrics ? msr : -1;
    }
    return -1;
  }

  /** The register-file slot of an MSR (either alias of a GP counter), or -1 for an MSR that holds no value
   *  of its own (OVF_CTRL, STATUS_SET, PERF_CAPABILITIES) or that this CPU lacks. */
  slotOf(msr: number): number {
    const c = this.canonical(msr);
    if (c < 0) return -1;
    if (c >= MSR_IA32_PERFCTR0 && c < MSR_IA32_PERFCTR0 + this.nGP) return c - MSR_IA32_PERFCTR0;
    if (c >= MSR_IA32_EVNTSEL0 && c < MSR_IA32_EVNTSEL0 + this.nGP) return this.sSel0 + c - MSR_IA32_EVNTSEL0;
    if (c >= MSR_CORE_PERF_FIXED_CTR0 && c < MSR_CORE_PERF_FIXED_CTR0 + this.nFX)
      return this.sFx0 + c - MSR_CORE_PERF_FIXED_CTR0;
    switch (c) {
      case MSR_CORE_PERF_FIXED_CTR_CTRL:
        return this.sFcc;
      case MSR_CORE_PERF_GLOBAL_CTRL:
        return this.sCtrl;
      case MSR_CORE_PERF_GLOBAL_STATUS:
        return this.sStatus;
      case MSR_PERF_METRICS:
        return this.sMetrics;
    }
    return -1;
  }

  /** Provenance of the value an MSR holds (power-on reset if nobody wrote it). */
  owner(msr: number): Provenance {
    const s = this.slotOf(msr);
    return s < 0 ? RESET_PROVENANCE : this.provs.get(this.prov[s]!);
  }

  /** The register an RDPMC index reads, as an MSR index, or -1 (R-HW-2: #GP). */
  rdpmcRegister(ecx: number): number {
    const type = ecx >>> 16;
    const idx = ecx & 0xffff;
    if (type === 0 && idx < this.nGP) return MSR_IA32_PERFCTR0 + idx;
    if (type === 0x4000 && idx < this.nFX) return MSR_CORE_PERF_FIXED_CTR0 + idx;
    // SDM RDPMC: metrics type (bit 29), index 0, whenever the CPU supports PERF_METRICS (R-HW-2).
    if (type === 0x2000 && idx === 0 && this.hasPerfMetrics) return MSR_PERF_METRICS;
    return -1;
  }

  /** Native RDPMC (R-HW-2): any physical counter, and PERF_METRICS whenever the CPU has it. null = #GP. */
  rdpmc(ecx: number): bigint | null {
    const msr = this.rdpmcRegister(ecx);
    return msr < 0 ? null : this.rdmsr(msr);
  }

  get fixedCtrCtrl(): bigint {
    return big(this.fccLo, this.fccHi);
  }
  /** GLOBAL_CTRL as a bigint (the VMCS field is one): built once per distinct value, since every VM exit
   *  saves it and every entry loads it back. */
  get globalCtrl(): bigint {
    if (this.ctrlBigLo !== this.ctrlLo || this.ctrlBigHi !== this.ctrlHi) {
      this.ctrlBig = big(this.ctrlLo, this.ctrlHi);
      this.ctrlBigLo = this.ctrlLo;
      this.ctrlBigHi = this.ctrlHi;
    }
    return this.ctrlBig;
  }
  private ctrlBig = 0n;
  private ctrlBigLo = 0;
  private ctrlBigHi = 0;
  get globalStatus(): bigint {
    return big(this.statusLo, this.statusHi);
  }
  get perfMetrics(): bigint {
    return big(this.metricsLo, this.metricsHi);
  }

  /** Native RDMSR. null = #GP (no such MSR on this CPU). */
  rdmsr(msr: number): bigint | null {
    const c = this.canonical(msr);
    if (c < 0) return null;
    if (c === MSR_CORE_PERF_GLOBAL_OVF_CTRL || c === MSR_CORE_PERF_GLOBAL_STATUS_SET) return 0n;
    if (c === MSR_IA32_PERF_CAPABILITIES) return this.host.perfCapabilities;
    const s = this.slotOf(c);
    if (s < this.sSel0) return BigInt(this.gp[s]!);
    if (s < this.sFx0) return BigInt(this.eventsel[s - this.sSel0]!);
    if (s < this.sFcc) return BigInt(this.fixed[s - this.sFx0]!);
    if (s === this.sFcc) return this.fixedCtrCtrl;
    if (s === this.sCtrl) return this.globalCtrl;
    if (s === this.sStatus) return this.globalStatus;
    return this.perfMetrics;
  }

  /**
   * Native WRMSR with hardware semantics: legacy-alias counter writes sign-extend bit 31, full-width
   * writes above the width #GP (SDM full-width writes, model.md §5.7); fixed counters truncate (modelled as
   * KVM does, hardware behaviour unverified §15); GLOBAL_STATUS is read-only; OVF_CTRL clears and
   * STATUS_SET sets status bits (§5.4). Returns false for #GP. `who` tags the new value.
   */
  wrmsr(msr: number, value: bigint, who: Provenance): boolean {
    return this.wrmsrAs(msr, value, this.provs.of(who));
  }

  /** wrmsr with the new value's provenance as a ProvenanceTable id (`provs.guestWrite` for a guest's). */
  wrmsrAs(msr: number, value: bigint, p: number): boolean {
    if (value >= 0n && value <= 0x1fffffffffffffn) {
      const n = Number(value);
      return this.wrmsrHalves(msr, n >>> 0, Math.floor(n / TWO32), p);
    }
    const v = value & M64;
    return this.wrmsrHalves(msr, Number(v & 0xffffffffn), Number(v >> 32n), p);
  }

  /** wrmsrAs of the value hi:lo (32-bit halves): the one implementation, on Numbers (no bigint per write). */
  wrmsrHalves(msr: number, lo: number, hi: number, p: number): boolean {
    const c = this.canonical(msr);
    if (c < 0) return false;
    if (c >= MSR_IA32_PERFCTR0 && c < MSR_IA32_PERFCTR0 + this.nGP) {
      const m = this.gpMask;
      const mLo = m % TWO32,
        mHi = Math.floor(m / TWO32);
      let v: number;
      // The legacy alias sign-extends bit 31 (then the width truncates); the full-width one #GPs above it.
      if (msr === c) v = (lo & 0x80000000 ? mHi : 0) * TWO32 + ((lo & mLo) >>> 0);
      else if ((hi & ~mHi) !== 0 || (lo & ~mLo) !== 0) return false;
      else v = hi * TWO32 + lo;
      this.writeGp(c - MSR_IA32_PERFCTR0, v, p);
      return true;
    }
    if (c >= MSR_IA32_EVNTSEL0 && c < MSR_IA32_EVNTSEL0 + this.nGP) {
      if (hi >= EVENTSEL_HW_LIMIT_HI) return false;
      this.writeSel(c - MSR_IA32_EVNTSEL0, hi * TWO32 + lo, p);
      return true;
    }
    if (c >= MSR_CORE_PERF_FIXED_CTR0 && c < MSR_CORE_PERF_FIXED_CTR0 + this.nFX) {
      const m = this.fxMask;
      this.writeFixed(
        c - MSR_CORE_PERF_FIXED_CTR0,
        (hi & Math.floor(m / TWO32)) * TWO32 + ((lo & (m % TWO32)) >>> 0),
        p,
      );
      return true;
    }
    switch (c) {
      case MSR_CORE_PERF_FIXED_CTR_CTRL:
        this.writeFixedCtrCtrl(lo, hi, p);
        return true;
      case MSR_CORE_PERF_GLOBAL_CTRL:
        // SDM WRMSR: #GP(0) if EDX:EAX sets bits reserved in the MSR; GLOBAL_CTRL defines the GP and fixed
        // enables and EN_PERF_METRICS (bit 48) on a CPU with PERF_METRICS (model.md §5.3).
        if ((lo & ~this.ctrlBitsLo) !== 0 || (hi & ~this.ctrlBitsHi) !== 0) return false;
        this.writeGlobalCtrl(lo, hi, p);
        return true;
      case MSR_CORE_PERF_GLOBAL_OVF_CTRL:
        this.clearStatus(lo, hi, p);
        return true;
      case MSR_CORE_PERF_GLOBAL_STATUS_SET:
        this.setStatus(lo, hi, p);
        return true;
      case MSR_PERF_METRICS:
        this.writePerfMetrics(lo, hi, p);
        return true;
    }
    return false; // GLOBAL_STATUS and PERF_CAPABILITIES are read-only
  }

  /** Re-tag a register without writing it: a context-switch step found the hardware already holding the
   *  value it would have written, so from now on the value is that owner's. */
  retag(msr: number, who: Provenance): void {
    const s = this.slotOf(msr);
    if (s >= 0) this.tag(s, this.provs.of(who));
  }

  /** VMX entry/exit load of GLOBAL_CTRL (no MSR write, same effect; model.md §11.3). */
  loadGlobalCtrl(value: bigint, who: Provenance): void {
    const p = this.provs.of(who);
    if (value === 0n) this.writeGlobalCtrl(0, 0, p);
    else if (value === this.ctrlBig) this.writeGlobalCtrl(this.ctrlBigLo, this.ctrlBigHi, p);
    else {
      const v = value & M64;
      this.writeGlobalCtrl(Number(v & 0xffffffffn), Number(v >> 32n), p);
    }
  }

  /**
   * Count natively up to `events` (exact totals at this instant) at privilege `cpl`. Counters advance by
   * the delta since the last sync, only while enabled (R-CNT-1/2 on hardware: EN/field, GLOBAL_CTRL
   * bit, OS/USR vs the CPL the interval ran at). A wrap sets the GLOBAL_STATUS bit (R-PMI-1) and, with INT/PMI set, `pmiPending`.
   * Call it before any access to the counters and before any change of their controls or of the CPL.
   */
  sync(events: GuestEvents, cpl: number): void {
    this.count(events);
    this.rebase(events, cpl);
  }

  /** sync without the rebase: the counters advance to `events`, and the next sync would count the same
   *  interval again — for a caller that rebases before anything syncs (VmxLayer.vmExit before a put: the
   *  next VM entry rebases). */
  count(events: GuestEvents): void {
    // No globally enabled counter counts anything: every iteration of countDeltas would skip its counter. (The
    // test alone stays here, small enough for V8 to inline into every exit; issue 16, W4.)
    if ((this.countGp & this.ctrlLo) !== 0 || (this.countFx & this.ctrlHi) !== 0) this.countDeltas(events);
  }

  /** count's work when some globally enabled counter counts. */
  private countDeltas(events: GuestEvents): void {
    // The interval since the last sync ran at the CPL recorded then; `cpl` applies from now on.
    const priv = this.lastCpl === 0 ? CountPriv.Os : CountPriv.Usr;
    const clk = this.clock;
    const at = this.at;
    // Delta per source since the last sync (only the sources in use are computed).
    for (let n = 0; n < this.nGP; n++) {
      const p = this.gpPriv[n];
      if (p === CountPriv.Never || (p & priv) === 0 || ((this.ctrlLo >>> n) & 1) === 0) continue;
      const src = this.gpSource[n];
      if (src === EventSource.None) continue;
      const d = eventTotal(src, events, clk) - eventTotal(src, at, clk);
      if (d > 0) this.advance(true, n, d);
    }
    for (let i = 0; i < this.nFX; i++) {
      const p = this.fxPriv[i];
      if ((p & priv) === 0 || ((this.ctrlHi >>> i) & 1) === 0) continue;
      const src = FIXED_SOURCES[i];
      const d = eventTotal(src, events, clk) - eventTotal(src, at, clk);
      if (d > 0) this.advance(false, i, d);
    }
  }

  /** Forget counting history: the next sync counts from `events` (used when the guest context starts
   *  on this CPU: earlier totals belong to no one). */
  rebase(events: GuestEvents, cpl: number): void {
    const at = this.at;
    at.instructions = events.instructions;
    at.branches = events.branches;
    at.branchMispredicts = events.branchMispredicts;
    at.uops = events.uops;
    at.cycles = events.cycles;
    at.memStallCycles = events.memStallCycles;
    at.mispredictCycles = events.mispredictCycles;
    at.llcReferences = events.llcReferences;
    at.llcMisses = events.llcMisses;
    at.haltedCycles = events.haltedCycles;
    this.lastCpl = cpl;
  }

  get cpl(): number {
    return this.lastCpl;
  }

  private advance(isGp: boolean, n: number, d: number): void {
    const mask = isGp ? this.gpMask : this.fxMask;
    const arr = isGp ? this.gp : this.fixed;
    const v = arr[n] + d;
    this.touch(isGp ? n : this.sFx0 + n);
    if (v > mask) {
      arr[n] = (v - mask - 1) % (mask + 1);
      this.touch(this.sStatus);
      if (isGp) this.statusLo = (this.statusLo | (1 << n)) >>> 0;
      else this.statusHi = (this.statusHi | (1 << n)) >>> 0;
      const pmi = isGp ? (this.eventsel[n] >>> 20) & 1 : (this.fccLo >>> (4 * n + 3)) & 1;
      if (pmi) this.pmiPending = true;
    } else {
      arr[n] = v;
    }
  }

  /**
   * Natively retired instructions that can run before a counter with its PMI bit set may wrap: exact for
   * instruction-type events, a safe lower bound for the others (the caller re-asks). Infinity if none.
   * `maxCyclesPerInsn` is the CPU cost model's largest per-instruction cycle cost.
   */
  instructionsUntilNextEvent(maxCyclesPerInsn: number): number {
    // No globally enabled counter that counts something with its PMI bit set: nextEvent's loops find nothing.
    if ((this.pmiGp & this.ctrlLo) === 0 && (this.pmiFx & this.ctrlHi) === 0) return Infinity;
    return this.nextEvent(maxCyclesPerInsn);
  }

  /** instructionsUntilNextEvent when some globally enabled counter has its PMI bit set. */
  private nextEvent(maxCyclesPerInsn: number): number {
    const priv = this.lastCpl === 0 ? CountPriv.Os : CountPriv.Usr;
    let best = Infinity;
    for (let n = 0; n < this.nGP; n++) {
      if ((this.gpPriv[n] & priv) === 0 || ((this.ctrlLo >>> n) & 1) === 0) continue;
      if (((this.eventsel[n] >>> 20) & 1) === 0 || this.gpSource[n] === EventSource.None) continue;
      const per = maxPerInstruction(this.gpSource[n] as EventSource, maxCyclesPerInsn, this.clock);
      best = Math.min(best, Math.max(1, Math.floor((this.gpMask + 1 - this.gp[n]) / per)));
    }
    for (let i = 0; i < this.nFX; i++) {
      if ((this.fxPriv[i] & priv) === 0 || ((this.ctrlHi >>> i) & 1) === 0) continue;
      if (((this.fccLo >>> (4 * i + 3)) & 1) === 0) continue;
      const per = maxPerInstruction(FIXED_SOURCES[i], maxCyclesPerInsn, this.clock);
      best = Math.min(best, Math.max(1, Math.floor((this.fxMask + 1 - this.fixed[i]) / per)));
    }
    return best;
  }

  /** Every PMU MSR this CPU has, canonical indexes in order (for snapshots, checks and `explain`). */
  msrIndexes(): number[] {
    const out: number[] = [];
    for (let n = 0; n < this.nGP; n++) out.push(MSR_IA32_PERFCTR0 + n);
    for (let n = 0; n < this.nGP; n++) out.push(MSR_IA32_EVNTSEL0 + n);
    for (let i = 0; i < this.nFX; i++) out.push(MSR_CORE_PERF_FIXED_CTR0 + i);
    if (this.hasPerfMetrics) out.push(MSR_PERF_METRICS);
    out.push(MSR_CORE_PERF_FIXED_CTR_CTRL, MSR_CORE_PERF_GLOBAL_STATUS, MSR_CORE_PERF_GLOBAL_CTRL);
    return out;
  }
}
