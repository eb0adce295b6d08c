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
import { type GuestEvents, noEvents } from "../isa/platform.js";
import { big } from "./halves.js";
import type { HostPreset } from "./presets.js";
import { type Provenance, ProvenanceTable, RESET_PROVENANCE } from "./provenance.js";

export { HOST_OWNER, type Provenance, RESET_PROVENANCE } from "./provenance.js";

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
  readonly hasPerfMetrics: boolean;
  /** The GLOBAL_CTRL bits this CPU defines (hardwareGlobalCtrlBits); the rest #GP on WRMSR. */
  readonly globalCtrlBits: bigint;
  private readonly clock: EventClock;

  // The register file: Numbers only (issue 16). Counters are exact below 2^53 (widths ≤ 48 bits), selectors
  // below 2^35; the 64-bit control registers are two 32-bit halves. GP counters, selectors and fixed counters
  // are views of one array indexed by slot (`regs[s]`), so a check over slots reads one array.
  readonly regs: Float64Array;
  readonly gp: Float64Array;
  readonly fixed: Float64Array;
  /** Selector values as written (< 2^35), and their decoded counting state. */
  readonly eventsel: Float64Array;
  private readonly gpSource: Int32Array;
  private readonly gpPriv: Int32Array;
  private readonly fxPriv: Int32Array;
  fccLo = 0;
  fccHi = 0;
  ctrlLo = 0;
  ctrlHi = 0;
  statusLo = 0;
  statusHi = 0;
  metricsLo = 0;
  metricsHi = 0;
  /** Counters that count something with their PMI bit set (GP n: bit n; fixed i: bit i), kept by the
   *  selector and FIXED_CTR_CTRL writes so the run budget costs nothing while none is armed. */
  private pmiGp = 0;
  private pmiFx = 0;
  /** Set when a counter with its PMI bit wrapped; the consumer (mediated PMI path) clears it. */
  pmiPending = false;

  /** Provenance per register as a small int (ProvenanceTable id), by slot: GP counters from 0, selectors
   *  from `sSel0`, fixed counters from `sFx0`, then FIXED_CTR_CTRL, GLOBAL_CTRL, GLOBAL_STATUS, PERF_METRICS.
   *  The two aliases of a GP counter share its slot; OVF_CTRL and STATUS_SET writes tag GLOBAL_STATUS. */
  readonly prov: Int32Array;
  readonly provs = new ProvenanceTable();
  readonly sSel0: number;
  readonly sFx0: number;
  readonly sFcc: number;
  readonly sCtrl: number;
  readonly sStatus: number;
  readonly sMetrics: number;
  /** The guest's raw event totals at the last sync: a source's total then is eventTotal(src, at), derived
   *  only for the sources a counter uses (copying nine numbers per exit instead of deriving every total). */
  private readonly at: GuestEvents = noEvents();
  private lastCpl = 0;

  constructor(host: HostPreset) {
    this.host = host;
    this.nGP = host.nGP;
    this.nFX = host.nFX;
    this.gpMask = 2 ** host.wGP - 1;
    this.fxMask = 2 ** host.wFX - 1;
    this.hasPerfMetrics = (host.perfCapabilities & PERF_CAP_PERF_METRICS) !== 0n;
    this.globalCtrlBits = hardwareGlobalCtrlBits(this);
    this.clock = { tscKhz: host.tscKhz, coreKhz: host.coreKhz, slotsPerCycle: host.slotsPerCycle };
    this.regs = new Float64Array(2 * this.nGP + this.nFX);
    this.gp = this.regs.subarray(0, this.nGP);
    this.eventsel = this.regs.subarray(this.nGP, 2 * this.nGP);
    this.fixed = this.regs.subarray(2 * this.nGP);
    this.gpSource = new Int32Array(this.nGP);
    this.gpPriv = new Int32Array(this.nGP);
    this.fxPriv = new Int32Array(this.nFX);
    this.sSel0 = this.nGP;
    this.sFx0 = 2 * this.nGP;
    this.sFcc = this.sFx0 + this.nFX;
    this.sCtrl = this.sFcc + 1;
    this.sStatus = this.sFcc + 2;
    this.sMetrics = this.sFcc + 3;
    this.prov = new Int32Array(this.sMetrics + 1); // all RESET_PROV_ID
    // Power-on: GLOBAL_CTRL has every GP enable bit set (SDM; model.md §5.3).
    this.ctrlLo = (2 ** this.nGP - 1) >>> 0;
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

  /** The owner id (ProvenanceTable.ownerId) of the value in slot `s`. */
  ownerAt(s: number): number {
    return this.provs.ownerOf(this.prov[s]!);
  }

  /** Slot `s` holds 0 (no information). */
  isZeroAt(s: number): boolean {
    if (s < this.sFcc) return this.regs[s] === 0;
    if (s === this.sFcc) return (this.fccLo | this.fccHi) === 0;
    if (s === this.sCtrl) return (this.ctrlLo | this.ctrlHi) === 0;
    if (s === this.sStatus) return (this.statusLo | this.statusHi) === 0;
    return (this.metricsLo | this.metricsHi) === 0;
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
    const c = this.canonical(msr);
    if (c < 0) return false;
    if (value < 0n || value > M64) value &= M64;
    const p = this.provs.of(who);
    if (c >= MSR_IA32_PERFCTR0 && c < MSR_IA32_PERFCTR0 + this.nGP) {
      const mask = BigInt(this.gpMask);
      let v: bigint;
      if (msr === c) v = BigInt.asIntN(32, value) & mask;
      else if (value & ~mask) return false;
      else v = value;
      this.writeGp(c - MSR_IA32_PERFCTR0, Number(v), p);
      return true;
    }
    if (c >= MSR_IA32_EVNTSEL0 && c < MSR_IA32_EVNTSEL0 + this.nGP) {
      if (value >= EVENTSEL_HW_LIMIT) return false;
      this.writeSel(c - MSR_IA32_EVNTSEL0, Number(value), p);
      return true;
    }
    if (c >= MSR_CORE_PERF_FIXED_CTR0 && c < MSR_CORE_PERF_FIXED_CTR0 + this.nFX) {
      this.writeFixed(c - MSR_CORE_PERF_FIXED_CTR0, Number(value & BigInt(this.fxMask)), p);
      return true;
    }
    const lo = Number(value & 0xffffffffn);
    const hi = Number(value >> 32n);
    switch (c) {
      case MSR_CORE_PERF_FIXED_CTR_CTRL:
        this.writeFixedCtrCtrl(lo, hi, p);
        return true;
      case MSR_CORE_PERF_GLOBAL_CTRL:
        // SDM WRMSR: #GP(0) if EDX:EAX sets bits reserved in the MSR; GLOBAL_CTRL defines the GP and fixed
        // enables and EN_PERF_METRICS (bit 48) on a CPU with PERF_METRICS (model.md §5.3).
        if ((value & ~this.globalCtrlBits) !== 0n) return false;
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

  // The register file's writes, on Numbers (the mediated switch calls these directly; `wrmsr` validates and
  // converts first). `p` is a ProvenanceTable id.

  /** GP counter `n` := v (within the width). */
  writeGp(n: number, v: number, p: number): void {
    this.gp[n] = v;
    this.prov[n] = p;
  }

  /** Selector `n` := v (< 2^35): decoded only when the value changes (the decode depends on nothing else). */
  writeSel(n: number, v: number, p: number): void {
    this.prov[this.sSel0 + n] = p;
    if (this.eventsel[n] === v) return;
    this.eventsel[n] = v;
    const lo = v >>> 0;
    const en = (lo >>> 22) & 1;
    this.gpPriv[n] = en
      ? ((lo >>> 17) & 1 ? CountPriv.Os : 0) | ((lo >>> 16) & 1 ? CountPriv.Usr : 0)
      : CountPriv.Never;
    // The same silicon model as the vPMU's counting (CMASK on per-instruction events; other shaping counts nothing).
    this.gpSource[n] = shapedSource(sourceOfEvent(lo & 0xff, (lo >>> 8) & 0xff), BigInt(v));
    const pmi = this.gpPriv[n] !== CountPriv.Never && this.gpSource[n] !== EventSource.None && ((lo >>> 20) & 1) === 1;
    this.pmiGp = pmi ? (this.pmiGp | (1 << n)) >>> 0 : (this.pmiGp & ~(1 << n)) >>> 0;
  }

  /** Fixed counter `i` := v (within the width). */
  writeFixed(i: number, v: number, p: number): void {
    this.fixed[i] = v;
    this.prov[this.sFx0 + i] = p;
  }

  writeFixedCtrCtrl(lo: number, hi: number, p: number): void {
    this.prov[this.sFcc] = p;
    // The decoded fields depend on the value alone: an unchanged value (every mediated load) keeps them.
    if (lo >>> 0 === this.fccLo && hi >>> 0 === this.fccHi) return;
    this.fccLo = lo >>> 0;
    this.fccHi = hi >>> 0;
    let pmi = 0;
    for (let i = 0; i < this.nFX; i++) {
      this.fxPriv[i] = (lo >>> (4 * i)) & 3;
      if (this.fxPriv[i] !== 0 && ((lo >>> (4 * i + 3)) & 1) === 1) pmi |= 1 << i;
    }
    this.pmiFx = pmi;
  }

  /** GLOBAL_CTRL := hi:lo (callers check reserved bits where hardware would). */
  writeGlobalCtrl(lo: number, hi: number, p: number): void {
    this.ctrlLo = lo >>> 0;
    this.ctrlHi = hi >>> 0;
    this.prov[this.sCtrl] = p;
  }

  /** GLOBAL_OVF_CTRL: clear these status bits; the status value is then `p`'s. */
  clearStatus(lo: number, hi: number, p: number): void {
    this.statusLo = (this.statusLo & ~lo) >>> 0;
    this.statusHi = (this.statusHi & ~hi) >>> 0;
    this.prov[this.sStatus] = p;
  }

  /** GLOBAL_STATUS_SET: set these status bits. */
  setStatus(lo: number, hi: number, p: number): void {
    this.statusLo = (this.statusLo | lo) >>> 0;
    this.statusHi = (this.statusHi | hi) >>> 0;
    this.prov[this.sStatus] = p;
  }

  writePerfMetrics(lo: number, hi: number, p: number): void {
    this.metricsLo = lo >>> 0;
    this.metricsHi = hi >>> 0;
    this.prov[this.sMetrics] = p;
  }

  /** Re-tag a register without writing it: a context-switch step found the hardware already holding the
   *  value it would have written, so from now on the value is that owner's. */
  retag(msr: number, who: Provenance): void {
    const s = this.slotOf(msr);
    if (s >= 0) this.prov[s] = this.provs.of(who);
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
    this.rebase(events, cpl);
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
    if (v > mask) {
      arr[n] = (v - mask - 1) % (mask + 1);
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
    // No globally enabled counter that counts something with its PMI bit set: the loops below find nothing.
    if ((this.pmiGp & this.ctrlLo) === 0 && (this.pmiFx & this.ctrlHi) === 0) return Infinity;
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
