/**
 * The silicon's PMU for a host preset: what a guest touches directly when an access is not intercepted,
 * and what host perf and KVM's load/put write. Native RDMSR/WRMSR/RDPMC semantics (SDM; model.md §5, §9.2
 * R-HW-1/2), native counting from `cpu.events` while GLOBAL_CTRL enables it, and an owner tag on every
 * register value so the isolation checker (src/check) can tell host values from guest values.
 */
import { eventTotal, maxPerInstruction, type EventClock, shapedSource } from "./event-counts.js";
import { EventSource, FIXED_SOURCES, sourceOfEvent } from "../arch/arch-events.js";
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
import type { GuestEvents } from "../isa/platform.js";
import type { HostPreset } from "./presets.js";

/** Who put a value into a register, and how. `owner` is "host" or "vcpu:N". */
export interface Provenance {
  readonly owner: string;
  /** e.g. "host activity topdown", "--host-msr", "load step 5", "put step 2", "guest WRMSR at rip 0x100010". */
  readonly source: string;
}

export const HOST_OWNER = "host";
export const RESET_PROVENANCE: Provenance = { owner: HOST_OWNER, source: "power-on reset" };

/** Hardware-reserved bits of IA32_PERFEVTSELx on these parts: 63:35 (bits 32–34 exist: IN_TX, IN_TXCP,
 *  ADAPTIVE), so a valid selector is below 2^35. */
const EVENTSEL_HW_LIMIT = 1n << 35n;
const M64 = 0xffffffffffffffffn;

/** Bits of IA32_PERF_GLOBAL_CTRL the silicon defines (SDM architectural PMU; model.md §5.3): GP enables
 *  0..nGP−1, fixed enables 32..32+nFX−1, and EN_PERF_METRICS (48) on a CPU with PERF_METRICS. */
export function hardwareGlobalCtrlBits(phys: Pick<PhysicalPmu, "nGP" | "nFX" | "hasPerfMetrics">): bigint {
  let bits = (1n << BigInt(phys.nGP)) - 1n;
  bits |= ((1n << BigInt(phys.nFX)) - 1n) << BigInt(INTEL_PMC_IDX_FIXED);
  if (phys.hasPerfMetrics) bits |= 1n << BigInt(GLOBAL_CTRL_EN_PERF_METRICS);
  return bits;
}

/** Native counting input: which `GuestEvents` totals a counter follows. */
enum CountPriv {
  Never = 0,
  Os = 1,
  Usr = 2,
  Both = 3,
}

export class PhysicalPmu {
  readonly host: HostPreset;
  readonly nGP: number;
  readonly nFX: number;
  readonly gpMask: number;
  readonly fxMask: number;
  /** The same masks as BigInts, built once (WRMSR runs on every mediated load and put). */
  private readonly gpMaskBig: bigint;
  private readonly fxMaskBig: bigint;
  readonly hasPerfMetrics: boolean;
  /** The GLOBAL_CTRL bits this CPU defines (hardwareGlobalCtrlBits); the rest #GP on WRMSR. */
  readonly globalCtrlBits: bigint;
  private readonly clock: EventClock;

  /** Counter values (exact below 2^53; widths are ≤ 48 bits). */
  readonly gp: Float64Array;
  readonly fixed: Float64Array;
  /** Selector values as written, and their decoded counting state. */
  readonly eventsel: bigint[];
  private readonly gpSource: Int32Array;
  private readonly gpPriv: Int32Array;
  fixedCtrCtrl = 0n;
  private readonly fxPriv: Int32Array;
  globalCtrl = 0n;
  private globalCtrlLo = 0;
  private globalCtrlHi = 0;
  globalStatus = 0n;
  perfMetrics = 0n;
  /** Set when a counter with its PMI bit wrapped; the consumer (mediated PMI path) clears it. */
  pmiPending = false;

  /** Provenance per canonical MSR index (0x4C1+n is kept under 0xC1+n: one register, two aliases). */
  private readonly owners = new Map<number, Provenance>();
  /** Totals at the last sync, per EventSource (index = enum value). */
  private readonly last = new Float64Array(16);
  private lastCpl = 0;

  constructor(host: HostPreset) {
    this.host = host;
    this.nGP = host.nGP;
    this.nFX = host.nFX;
    this.gpMask = 2 ** host.wGP - 1;
    this.fxMask = 2 ** host.wFX - 1;
    this.gpMaskBig = BigInt(this.gpMask);
    this.fxMaskBig = BigInt(this.fxMask);
    this.hasPerfMetrics = (host.perfCapabilities & PERF_CAP_PERF_METRICS) !== 0n;
    this.globalCtrlBits = hardwareGlobalCtrlBits(this);
    this.clock = { tscKhz: host.tscKhz, coreKhz: host.coreKhz, slotsPerCycle: host.slotsPerCycle };
    this.gp = new Float64Array(this.nGP);
    this.fixed = new Float64Array(this.nFX);
    this.eventsel = new Array<bigint>(this.nGP).fill(0n);
    this.gpSource = new Int32Array(this.nGP);
    this.gpPriv = new Int32Array(this.nGP);
    this.fxPriv = new Int32Array(this.nFX);
    // Power-on: GLOBAL_CTRL has every GP enable bit set (SDM; model.md §5.3).
    this.writeGlobalCtrl((1n << BigInt(this.nGP)) - 1n);
  }

  /** Canonical register for an MSR index (the full-width alias names the same counter), or -1 if the
   *  CPU has no such PMU MSR. */
  canonical(msr: number): number {
    if (msr >= MSR_IA32_PMC0 && msr < MSR_IA32_PMC0 + this.nGP)
      return (this.host.perfCapabilities & PERF_CAP_FW_WRITES) !== 0n ? msr - MSR_IA32_PMC0 + MSR_IA32_PERFCTR0 : -1;
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

  /** Provenance of the value an MSR holds (power-on reset if nobody wrote it). */
  owner(msr: number): Provenance {
    const c = this.canonical(msr);
    return this.owners.get(c < 0 ? msr : c) ?? RESET_PROVENANCE;
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

  /** Native RDMSR. null = #GP (no such MSR on this CPU). */
  rdmsr(msr: number): bigint | null {
    const c = this.canonical(msr);
    if (c < 0) return null;
    if (c >= MSR_IA32_PERFCTR0 && c < MSR_IA32_PERFCTR0 + this.nGP) return BigInt(this.gp[c - MSR_IA32_PERFCTR0]);
    if (c >= MSR_IA32_EVNTSEL0 && c < MSR_IA32_EVNTSEL0 + this.nGP) return this.eventsel[c - MSR_IA32_EVNTSEL0];
    if (c >= MSR_CORE_PERF_FIXED_CTR0 && c < MSR_CORE_PERF_FIXED_CTR0 + this.nFX)
      return BigInt(this.fixed[c - MSR_CORE_PERF_FIXED_CTR0]);
    switch (c) {
      case MSR_CORE_PERF_FIXED_CTR_CTRL:
        return this.fixedCtrCtrl;
      case MSR_CORE_PERF_GLOBAL_CTRL:
        return this.globalCtrl;
      case MSR_CORE_PERF_GLOBAL_STATUS:
        return this.globalStatus;
      case MSR_CORE_PERF_GLOBAL_OVF_CTRL:
        return 0n;
      case MSR_CORE_PERF_GLOBAL_STATUS_SET:
        return 0n;
      case MSR_PERF_METRICS:
        return this.perfMetrics;
      case MSR_IA32_PERF_CAPABILITIES:
        return this.host.perfCapabilities;
    }
    return null;
  }

  /**
   * Native WRMSR with hardware semantics: legacy-alias counter writes sign-extend bit 31, full-width
   * writes above the width #GP (SDM full-width writes, model.md §5.7); fixed counters truncate (modelled as
   * KVM does, hardware behaviour unverified §15); GLOBAL_STATUS is read-only; OVF_CTRL clears and
   * STATUS_SET sets status bits (§5.4). Returns false for #GP. `who` tags the new value.
   */
  wrmsr(msr: number, value: bigint, who: Provenance): boolean {
    const c = this.canonical(msr);
    if (c < 0) return false;
    if (value < 0n || value > M64) value &= M64;
    if (c >= MSR_IA32_PERFCTR0 && c < MSR_IA32_PERFCTR0 + this.nGP) {
      const n = c - MSR_IA32_PERFCTR0;
      const mask = this.gpMaskBig;
      let v: bigint;
      if (msr === c) v = BigInt.asIntN(32, value) & mask;
      else if (value & ~mask) return false;
      else v = value;
      this.gp[n] = Number(v);
    } else if (c >= MSR_IA32_EVNTSEL0 && c < MSR_IA32_EVNTSEL0 + this.nGP) {
      if (value >= EVENTSEL_HW_LIMIT) return false;
      const n = c - MSR_IA32_EVNTSEL0;
      this.eventsel[n] = value;
      const lo = Number(value) >>> 0; // value < 2^35 here
      const en = (lo >>> 22) & 1;
      this.gpPriv[n] = en
        ? ((lo >>> 17) & 1 ? CountPriv.Os : 0) | ((lo >>> 16) & 1 ? CountPriv.Usr : 0)
        : CountPriv.Never;
      // The same silicon model as the vPMU's counting (CMASK on per-instruction events; other shaping counts nothing).
      this.gpSource[n] = shapedSource(sourceOfEvent(lo & 0xff, (lo >>> 8) & 0xff), value);
    } else if (c >= MSR_CORE_PERF_FIXED_CTR0 && c < MSR_CORE_PERF_FIXED_CTR0 + this.nFX) {
      this.fixed[c - MSR_CORE_PERF_FIXED_CTR0] = Number(value & this.fxMaskBig);
    } else {
      switch (c) {
        case MSR_CORE_PERF_FIXED_CTR_CTRL:
          this.fixedCtrCtrl = value;
          for (let i = 0; i < this.nFX; i++) this.fxPriv[i] = Number((value >> BigInt(4 * i)) & 3n);
          break;
        case MSR_CORE_PERF_GLOBAL_CTRL:
          // SDM WRMSR: #GP(0) if EDX:EAX sets bits reserved in the MSR; GLOBAL_CTRL defines the GP and fixed
          // enables and EN_PERF_METRICS (bit 48) on a CPU with PERF_METRICS (model.md §5.3).
          if ((value & ~this.globalCtrlBits) !== 0n) return false;
          this.writeGlobalCtrl(value);
          break;
        case MSR_CORE_PERF_GLOBAL_STATUS:
        case MSR_IA32_PERF_CAPABILITIES:
          return false;
        case MSR_CORE_PERF_GLOBAL_OVF_CTRL:
          this.globalStatus &= ~value;
          break;
        case MSR_CORE_PERF_GLOBAL_STATUS_SET:
          this.globalStatus |= value;
          break;
        case MSR_PERF_METRICS:
          this.perfMetrics = value;
          break;
      }
      if (c === MSR_CORE_PERF_GLOBAL_OVF_CTRL || c === MSR_CORE_PERF_GLOBAL_STATUS_SET) {
        this.owners.set(MSR_CORE_PERF_GLOBAL_STATUS, who);
        return true;
      }
    }
    this.owners.set(c, who);
    return true;
  }

  /** Re-tag a register without writing it: a context-switch step found the hardware already holding the
   *  value it would have written, so from now on the value is that owner's. */
  retag(msr: number, who: Provenance): void {
    const c = this.canonical(msr);
    if (c >= 0) this.owners.set(c, who);
  }

  /** VMX entry/exit load of GLOBAL_CTRL (no MSR write, same effect; model.md §11.3). */
  loadGlobalCtrl(value: bigint, who: Provenance): void {
    this.writeGlobalCtrl(value & M64);
    this.owners.set(MSR_CORE_PERF_GLOBAL_CTRL, who);
  }

  private writeGlobalCtrl(value: bigint): void {
    this.globalCtrl = value;
    if (value <= 0x1fffffffffffffn) {
      // Below 2^53 (every defined bit is ≤ 48): split without BigInt arithmetic.
      const n = Number(value);
      this.globalCtrlLo = n >>> 0;
      this.globalCtrlHi = Math.floor(n / 0x100000000);
    } else {
      this.globalCtrlLo = Number(value & 0xffffffffn);
      this.globalCtrlHi = Number(value >> 32n);
    }
  }

  /**
   * Count natively up to `events` (exact totals at this instant) at privilege `cpl`. Counters advance by
   * the delta since the last sync, only while enabled (R-CNT-1/2 on hardware: EN/field, GLOBAL_CTRL
   * bit, OS/USR vs the CPL the interval ran at). A wrap sets the GLOBAL_STATUS bit (R-PMI-1) and, with INT/PMI set, `pmiPending`.
   * Call it before any access to the counters and before any change of their controls or of the CPL.
   */
  sync(events: GuestEvents, cpl: number): void {
    // The interval since the last sync ran at the CPL recorded then; `cpl` applies from now on.
    const priv = this.lastCpl === 0 ? CountPriv.Os : CountPriv.Usr;
    const clk = this.clock;
    const last = this.last;
    // Delta per source since the last sync (only the sources in use are computed).
    for (let n = 0; n < this.nGP; n++) {
      const p = this.gpPriv[n];
      if (p === CountPriv.Never || (p & priv) === 0 || ((this.globalCtrlLo >>> n) & 1) === 0) continue;
      const src = this.gpSource[n];
      if (src === EventSource.None) continue;
      const d = eventTotal(src, events, clk) - last[src];
      if (d > 0) this.advance(true, n, d);
    }
    for (let i = 0; i < this.nFX; i++) {
      const p = this.fxPriv[i];
      if ((p & priv) === 0 || ((this.globalCtrlHi >>> i) & 1) === 0) continue;
      const src = FIXED_SOURCES[i];
      const d = eventTotal(src, events, clk) - last[src];
      if (d > 0) this.advance(false, i, d);
    }
    for (let s = 1; s <= EventSource.TopdownRetiring; s++) last[s] = eventTotal(s as EventSource, events, clk);
    this.lastCpl = cpl;
  }

  /** Forget counting history: the next sync counts from `events` (used when the guest context starts
   *  on this CPU: earlier totals belong to no one). */
  rebase(events: GuestEvents, cpl: number): void {
    for (let s = 1; s <= EventSource.TopdownRetiring; s++)
      this.last[s] = eventTotal(s as EventSource, events, this.clock);
    this.lastCpl = cpl;
  }

  get cpl(): number {
    return this.lastCpl;
  }

  private advance(isGp: boolean, n: number, d: number): void {
    const mask = isGp ? this.gpMask : this.fxMask;
    const arr = isGp ? this.gp : this.fixed;
    const v = arr[n] + d;
    if (v > mask) {
      arr[n] = (v - mask - 1) % (mask + 1);
      const bit = isGp ? BigInt(n) : BigInt(32 + n);
      this.globalStatus |= 1n << bit;
      const pmi = isGp ? (this.eventsel[n] >> 20n) & 1n : (this.fixedCtrCtrl >> BigInt(4 * n + 3)) & 1n;
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
    const priv = this.lastCpl === 0 ? CountPriv.Os : CountPriv.Usr;
    let best = Infinity;
    for (let n = 0; n < this.nGP; n++) {
      if ((this.gpPriv[n] & priv) === 0 || ((this.globalCtrlLo >>> n) & 1) === 0) continue;
      if (((this.eventsel[n] >> 20n) & 1n) === 0n || this.gpSource[n] === EventSource.None) continue;
      const per = maxPerInstruction(this.gpSource[n] as EventSource, maxCyclesPerInsn, this.clock);
      best = Math.min(best, Math.max(1, Math.floor((this.gpMask + 1 - this.gp[n]) / per)));
    }
    for (let i = 0; i < this.nFX; i++) {
      if ((this.fxPriv[i] & priv) === 0 || ((this.globalCtrlHi >>> i) & 1) === 0) continue;
      if (((this.fixedCtrCtrl >> BigInt(4 * i + 3)) & 1n) === 0n) continue;
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
