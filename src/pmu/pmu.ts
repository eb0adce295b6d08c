/**
 * The vCPU's PMU as KVM holds it (struct kvm_pmu) and the common, vendor-neutral logic: reset, counting
 * from the guest CPU's event totals, overflow, emulated-instruction counting, RDPMC and the PMI request.
 * Facts: model.md §6.3–§6.4, §8, §9; arch/x86/kvm/pmu.c (kvm_pmu_reset, reprogram_counter, pmc_pause_counter,
 * __kvm_perf_overflow, kvm_pmu_trigger_event, cpl_is_matched, kvm_pmu_rdpmc).
 */
import { EventSource, FIXED_SOURCES, sourceOfEvent } from "../arch/arch-events.js";
import { eventTotal, maxPerInstruction, shapedSource, type EventClock } from "../host/event-counts.js";
import {
  ARCH_PERFMON_EVENTSEL_ENABLE,
  ARCH_PERFMON_EVENTSEL_EVENT,
  ARCH_PERFMON_EVENTSEL_INT,
  ARCH_PERFMON_EVENTSEL_OS,
  ARCH_PERFMON_EVENTSEL_UMASK,
  ARCH_PERFMON_EVENTSEL_USR,
} from "../arch/perf-event.js";
import { NO_LBR, type HostLbr, type HostPreset } from "../host/presets.js";
import { LastBranchRecords } from "../isa/lbr.js";
import type { GuestEvents } from "../isa/platform.js";
import { LEGACY, type CodeState } from "./code-states.js";
import { isFixedEventAllowed, isGpEventAllowed, type PmuEventFilter } from "./filter.js";
import { KVM_MAX_NR_FIXED_COUNTERS, KVM_MAX_NR_GP_COUNTERS } from "./msrs.js";
import type { MsrData, MsrHalvesRead, MsrRet } from "./msr-access.js";
import { hi32, KvmPmc, lo32, type Pmc, type SavedWrites } from "./pmc.js";

export type { Pmc } from "./pmc.js";

/** What a refresh reads from the vCPU and the KVM instance (model.md §6.3). */
export interface PmuRefreshInput {
  readonly enablePmu: boolean;
  readonly codeState: CodeState;
  /** kvm_vcpu_has_mediated_pmu (R-MED-2 without the version part; refresh adds it). */
  readonly mediatedModule: boolean;
  /** CPUID.0AH as the guest's CPUID table holds it. */
  readonly cpuid0a: { readonly eax: number; readonly ebx: number; readonly ecx: number; readonly edx: number };
  /** vcpu_get_perf_capabilities: 0 when CPUID.1:ECX.PDCM is clear. */
  readonly perfCapabilities: bigint;
  /** Guest CPUID.1:EDX.DS (validity of IA32_DS_AREA). */
  readonly ds: boolean;
  /** x86_perf_get_lbr: the host's LBR stack (null: none), and cpuid_model_is_consistent (guest CPUID model =
   *  host model), which intel_pmu_refresh requires before giving the vCPU LBRs. */
  readonly lbr: HostLbr | null;
  readonly cpuidModelConsistent: boolean;
  /** Host and guest both have HLE or RTM (model.md §6.3 step 4.3). */
  readonly tsx: boolean;
  /** kvm_pmu_cap: what KVM may expose (host ∩ KVM limits, model.md §6.1). */
  readonly cap: PmuCap;
}

/** kvm_pmu_cap (pmu.c kvm_init_pmu_capability). */
export interface PmuCap {
  readonly version: number;
  readonly nGP: number;
  readonly wGP: number;
  readonly nFX: number;
  readonly wFX: number;
  readonly eventMaskLength: number;
  readonly eventsUnavailable: number;
}

export {
  KVM_MSR_RET_UNSUPPORTED,
  MSR_FAIL,
  MSR_HALVES_LIMIT,
  MSR_OK,
  type MsrData,
  type MsrHalves,
  type MsrHalvesRead,
  type MsrRet,
} from "./msr-access.js";

/** The VMware backdoor pseudo-PMCs (pmu.c kvm_pmu_rdpmc_vmware). */
export const VMWARE_BACKDOOR_PMC_HOST_TSC = 0x10000;
export const VMWARE_BACKDOOR_PMC_REAL_TIME = 0x10001;
export const VMWARE_BACKDOOR_PMC_APPARENT_TIME = 0x10002;

/** Why an emulated RDPMC faults — returned (not a boolean) so traces and explain can say it. */
export type RdpmcFault =
  | "no PMU (version 0)"
  | "undefined counter type"
  | "GP index ≥ nGP"
  | "fixed index ≥ nFX"
  | "metrics type not emulated"
  | "CPL > 0 with CR4.PCE = 0";

/** What RDPMC's ECX names: a counter (read under its width's mask) or the saved PERF_METRICS (FIX tree). */
export type RdpmcTarget = Pmc | "metrics";

/** Result of the RDPMC emulation: the value, or the reason for #GP. */
export type RdpmcResult =
  | { readonly ok: true; readonly value: bigint }
  | { readonly ok: false; readonly reason: RdpmcFault };

/**
 * The vendor half of the vPMU as common code reaches it (struct kvm_pmu_ops; Intel's is pmu_intel.c
 * intel_pmu_ops, src/pmu/intel.ts). Fixed when the PMU is built, as kvm_pmu_ops is at vendor init.
 */
export interface PmuOps {
  /** kvm_init_pmu_capability with the vendor's counter limits: what KVM may expose (model.md §6.1). */
  pmuCap(host: HostPreset, enablePmu: boolean, codeState: CodeState, mediated: boolean): PmuCap;
  /** .refresh (intel_pmu_refresh, model.md §6.3): CPUID 0xA and PERF_CAPABILITIES → counters and reserved bits. */
  refresh(pmu: KvmPmu, inp: PmuRefreshInput): void;
  /** .is_valid_msr (intel_is_valid_msr). */
  isValidMsr(pmu: KvmPmu, msr: number): boolean;
  /** .get_msr (intel_pmu_get_msr) for a valid MSR; the value goes to out.data. */
  getMsr(pmu: KvmPmu, msr: number, hostInitiated: boolean, out: MsrData): MsrRet;
  /** .get_msr for a guest read (hostInitiated false) as Numbers, pre-resolved per MSR index below
   *  MSR_HALVES_LIMIT (undefined: no reader). Where a reader returns true it gives exactly what isValidMsr and
   *  getMsr give (test/pmu/msr-read.test.ts); the vCPU's exit path uses it to avoid BigInt per RDMSR exit. */
  readonly getMsrHalves: readonly (MsrHalvesRead | undefined)[];
  /** .set_msr (intel_pmu_set_msr) for a valid MSR. */
  setMsr(pmu: KvmPmu, msr: number, data: bigint, hostInitiated: boolean): MsrRet;
  /** .rdpmc_ecx_to_pmc (intel_rdpmc_ecx_to_pmc): what ECX names, or why it names nothing. */
  rdpmcEcxToPmc(pmu: KvmPmu, ecx: number): RdpmcTarget | RdpmcFault;
}

/** Largest cycle cost one guest instruction can have (src/isa/uarch.ts); bounds the cycle-event budget. */
export const DEFAULT_MAX_CYCLES_PER_INSN = 2048;

export class KvmPmu {
  version = 0;
  nGP = 0;
  nFX = 0;
  wGP = 0;
  wFX = 0;
  /** 2^w − 1 as exact doubles; bigint copies for the MSR edge. */
  maskGP = 0;
  maskFX = 0;
  availableEventTypes = 0;
  mediated = false;
  /** The KVM instance's code state (set at refresh from kvm.params; model.md §1). */
  codeState: CodeState = LEGACY;
  gp: Pmc[] = [];
  fixed: Pmc[] = [];
  private fcc = 0n;
  /** FIXED_CTR_CTRL's 32-bit halves as Numbers, kept with every store (the guest RDMSR reads them: no BigInt
   *  per exit, src/pmu/msr-read.ts). Likewise for GLOBAL_CTRL and GLOBAL_STATUS. */
  fixedCtrCtrlLo = 0;
  fixedCtrCtrlHi = 0;
  get fixedCtrCtrl(): bigint {
    return this.fcc;
  }
  set fixedCtrCtrl(v: bigint) {
    this.fcc = v;
    this.fixedCtrCtrlLo = lo32(v);
    this.fixedCtrCtrlHi = hi32(v);
  }
  private fccHw = 0n;
  /** fixedCtrCtrlHw's halves as Numbers, kept with every store (the mediated switch reads them). */
  fixedCtrCtrlHwLo = 0;
  fixedCtrCtrlHwHi = 0;
  /** The FIXED_CTR_CTRL KVM programs (fields the filter denies cleared). */
  get fixedCtrCtrlHw(): bigint {
    return this.fccHw;
  }
  set fixedCtrCtrlHw(v: bigint) {
    this.fccHw = v;
    this.fixedCtrCtrlHwLo = lo32(v);
    this.fixedCtrCtrlHwHi = hi32(v);
  }
  /** Bumped by every recalc, the only place eventselHw and fixedCtrCtrlHw change (a mediated load after one
   *  visits every register). */
  hwGeneration = 0;
  private gctrl = 0n;
  globalCtrlLo = 0;
  globalCtrlHi = 0;
  get globalCtrl(): bigint {
    return this.gctrl;
  }
  set globalCtrl(v: bigint) {
    this.gctrl = v;
    this.globalCtrlLo = lo32(v);
    this.globalCtrlHi = hi32(v);
  }
  /** Writes of the saved values (counters, GLOBAL_STATUS, PERF_METRICS) so far. */
  readonly saved: SavedWrites = { n: 0 };
  private status = 0n;
  globalStatusLo = 0;
  globalStatusHi = 0;
  get globalStatus(): bigint {
    return this.status;
  }
  set globalStatus(v: bigint) {
    this.status = v;
    this.globalStatusLo = lo32(v);
    this.globalStatusHi = hi32(v);
    this.saved.n++;
  }
  pebsEnable = 0n;
  dsArea = 0n;
  pebsDataCfg = 0n;
  private metrics = 0n;
  perfMetricsLo = 0;
  perfMetricsHi = 0;
  get perfMetrics(): bigint {
    return this.metrics;
  }
  set perfMetrics(v: bigint) {
    this.metrics = v;
    this.perfMetricsLo = lo32(v);
    this.perfMetricsHi = hi32(v);
    this.saved.n++;
  }
  /** Reserved-bit masks computed at refresh (model.md §6.3). */
  eventselRsvd = 0n;
  rawEventMask = 0n;
  fixedCtrCtrlRsvd = ~0n;
  globalCtrlRsvd = ~0n;
  globalStatusRsvd = ~0n;
  counterRsvd = ~0n;
  pebsEnableRsvd = ~0n;
  pebsDataCfgRsvd = ~0n;
  private caps = 0n;
  /** Bits 31:0 of `perfCapabilities` (FW_WRITES, for the RDMSR readers of msr-read tables). */
  perfCapabilitiesLo = 0;
  /** Effective guest PERF_CAPABILITIES at the last refresh (PDCM-gated). */
  get perfCapabilities(): bigint {
    return this.caps;
  }
  set perfCapabilities(v: bigint) {
    this.caps = v;
    this.perfCapabilitiesLo = lo32(v);
  }
  /** KVM_REQ_PMI is pending. */
  pmiRequested = false;
  guestDs = false;
  /** Counting is done here (LEGACY, perf-backed). Mediated wiring turns it off when the physical PMU counts. */
  perfBacked = true;
  filter: PmuEventFilter | null = null;
  /** lbr_desc->records (lbr.ts): the LBR MSRs the vCPU has; nr 0 = none. */
  lbrRecords: HostLbr = NO_LBR;
  /** The hardware LBR stack the guest's records live in: the guest CPU's once attached (isa/lbr.ts). */
  lbrStack = new LastBranchRecords();
  /** Some counter is locally+globally enabled and allowed (recalc): otherwise sync/counting are no-ops. */
  private anyEnabled = false;
  /** CPL the counters were last evaluated at. */
  cpl = 0;
  /** Overflow count per GLOBAL_STATUS bit since creation (for reports; not architectural). */
  overflows = 0;
  /** The guest CPU's live event totals (set by the vCPU); null until a CPU is attached. */
  events: GuestEvents | null = null;
  private readonly totals = new Float64Array(16);
  private readonly totalValid = new Uint8Array(16);

  constructor(
    readonly clock: EventClock,
    readonly ops: PmuOps,
    public maxCyclesPerInsn = DEFAULT_MAX_CYCLES_PER_INSN,
  ) {}

  // ------------------------------------------------------------ common code over kvm_pmu_ops (pmu.c)

  /** kvm_pmu_refresh: the vendor derives the counters; the caller requests intercept recalculation. */
  refresh(inp: PmuRefreshInput): void {
    this.ops.refresh(this, inp);
  }

  /** kvm_pmu_is_valid_msr. */
  isValidMsr(msr: number): boolean {
    return this.ops.isValidMsr(this, msr);
  }

  /** kvm_pmu_get_msr for a valid MSR; the value goes to out.data. */
  getMsr(msr: number, hostInitiated: boolean, out: MsrData): MsrRet {
    return this.ops.getMsr(this, msr, hostInitiated, out);
  }

  /** kvm_pmu_set_msr for a valid MSR (model.md §7.4). The caller folds counts first. */
  setMsr(msr: number, data: bigint, hostInitiated: boolean): MsrRet {
    return this.ops.setMsr(this, msr, data, hostInitiated);
  }

  /**
   * kvm_pmu_rdpmc (model.md §9.3). `protectedMode` = CR0.PE, `pce` = CR4.PCE. The VMware pseudo-counters are
   * served from `vmware` (the host's TSC and clocks, as opaque host-owned values).
   */
  rdpmc(ecx: number, cpl: number, protectedMode: boolean, pce: boolean, vmware: (idx: number) => bigint): RdpmcResult {
    if (this.version === 0) return { ok: false, reason: "no PMU (version 0)" };
    ecx = ecx >>> 0;
    if (ecx >= VMWARE_BACKDOOR_PMC_HOST_TSC && ecx <= VMWARE_BACKDOOR_PMC_APPARENT_TIME)
      return { ok: true, value: vmware(ecx) };
    const hit = this.ops.rdpmcEcxToPmc(this, ecx);
    if (typeof hit === "string" && hit !== "metrics") return { ok: false, reason: hit };
    if (!pce && cpl !== 0 && protectedMode) return { ok: false, reason: "CPL > 0 with CR4.PCE = 0" };
    if (hit === "metrics") return { ok: true, value: this.perfMetrics };
    return { ok: true, value: BigInt(hit.counter) & BigInt(hit.type === "gp" ? this.maskGP : this.maskFX) };
  }

  /** kvm_pmu_reset / intel_pmu_reset (model.md §6.4). */
  reset(): void {
    for (const p of [...this.gp, ...this.fixed]) {
      p.counter = 0;
      p.eventsel = 0n;
      p.eventselHw = 0n;
    }
    this.fixedCtrCtrl = 0n;
    this.fixedCtrCtrlHw = 0n;
    this.globalCtrl = 0n;
    this.globalStatus = 0n;
    this.pebsEnable = 0n;
    this.dsArea = 0n;
    this.pebsDataCfg = 0n;
    this.perfMetrics = 0n; // P-7
    this.pmiRequested = false;
    this.recalc();
  }

  /** Create the counter arrays for nGP/nFX (refresh step 7). */
  allocate(nGP: number, nFX: number): void {
    this.gp = [];
    this.fixed = [];
    for (let i = 0; i < Math.min(nGP, KVM_MAX_NR_GP_COUNTERS); i++) this.gp.push(new KvmPmc("gp", i, this.saved));
    for (let i = 0; i < Math.min(nFX, KVM_MAX_NR_FIXED_COUNTERS); i++)
      this.fixed.push(new KvmPmc("fixed", i, this.saved));
  }

  /** pmc_is_globally_enabled: without global ctrl (version < 2) every counter is globally enabled. */
  globallyEnabled(p: Pmc): boolean {
    if (this.version < 2 && !this.mediated) return true;
    if (this.version < 2) return true;
    return ((this.globalCtrl >> BigInt(p.idx)) & 1n) === 1n;
  }

  /** The 4-bit FIXED_CTR_CTRL field of fixed counter i (guest copy). */
  fixedField(i: number): number {
    return Number((this.fixedCtrCtrl >> BigInt(4 * i)) & 0xfn);
  }

  /**
   * Re-derive what every counter counts (reprogram_counter's decision): after any selector, control,
   * global-ctrl, filter or CPL change. Call `sync` first so counts up to now use the old decision.
   */
  recalc(): void {
    for (const p of this.gp) {
      const sel = p.eventsel;
      const en = (sel & ARCH_PERFMON_EVENTSEL_ENABLE) !== 0n;
      const ev = Number(sel & ARCH_PERFMON_EVENTSEL_EVENT);
      const um = Number((sel & ARCH_PERFMON_EVENTSEL_UMASK) >> 8n);
      const allowed = isGpEventAllowed(this.filter, ev, um);
      p.countOs = (sel & ARCH_PERFMON_EVENTSEL_OS) !== 0n;
      p.countUsr = (sel & ARCH_PERFMON_EVENTSEL_USR) !== 0n;
      p.intr = (sel & ARCH_PERFMON_EVENTSEL_INT) !== 0n;
      p.source = shapedSource(sourceOfEvent(ev, um), sel);
      p.enabledAnyCpl = en && this.globallyEnabled(p) && allowed;
      p.countsInstructions = en && ev === 0xc0 && um === 0;
      p.countsBranches = en && ev === 0xc4 && um === 0;
      p.eventselHw = allowed ? sel : sel & ~ARCH_PERFMON_EVENTSEL_ENABLE;
    }
    let hw = 0n;
    for (const p of this.fixed) {
      const f = this.fixedField(p.index);
      const allowed = isFixedEventAllowed(this.filter, p.index);
      p.countOs = (f & 1) !== 0;
      p.countUsr = (f & 2) !== 0;
      p.intr = (f & 8) !== 0;
      p.source = FIXED_SOURCES[p.index] ?? EventSource.None;
      p.enabledAnyCpl = (f & 3) !== 0 && this.globallyEnabled(p) && allowed;
      // Fixed counter 0 is INST_RETIRED.ANY: its pseudo eventsel matches 0xC0/0x00 (intel_get_fixed_pmc_eventsel).
      p.countsInstructions = p.index === 0 && (f & 3) !== 0;
      if (allowed) hw |= BigInt(f) << BigInt(4 * p.index);
    }
    this.fixedCtrCtrlHw = hw;
    this.hwGeneration++;
    this.applyCpl();
    // A counter's source may have changed: its next delta starts from the current total of the new source.
    this.anyEnabled = this.gp.some((p) => p.enabledAnyCpl) || this.fixed.some((p) => p.enabledAnyCpl);
    if (this.events !== null) this.rebase(this.events);
  }

  private applyCpl(): void {
    const os = this.cpl === 0;
    for (const p of this.gp) p.active = this.perfBacked && p.enabledAnyCpl && (os ? p.countOs : p.countUsr);
    for (const p of this.fixed) p.active = this.perfBacked && p.enabledAnyCpl && (os ? p.countOs : p.countUsr);
  }

  private total(src: EventSource, ev: GuestEvents): number {
    if (this.totalValid[src] === 0) {
      this.totals[src] = eventTotal(src, ev, this.clock);
      this.totalValid[src] = 1;
    }
    return this.totals[src]!;
  }

  /**
   * Fold every active counter up to the guest's current event totals (counts since the last fold
   * happened at `this.cpl`), detect wraps, then switch to `cpl`. Exact at any instruction boundary.
   */
  sync(ev: GuestEvents, cpl: number): void {
    // Nothing can count (and nothing can start counting without recalc, which rebases): skip the fold. Kept
    // small so it inlines into every exit (the fold is a separate function).
    if (!this.anyEnabled) this.cpl = cpl;
    else this.fold(ev, cpl);
  }

  private fold(ev: GuestEvents, cpl: number): void {
    this.totalValid.fill(0);
    for (const p of this.gp) this.foldOne(p, ev, this.maskGP);
    for (const p of this.fixed) this.foldOne(p, ev, this.maskFX);
    if (cpl !== this.cpl) {
      this.cpl = cpl;
      this.applyCpl();
    }
  }

  private foldOne(p: Pmc, ev: GuestEvents, mask: number): void {
    const t = this.total(p.source, ev);
    if (p.active) {
      const v = p.counter + (t - p.last);
      if (v > mask) {
        p.counter = v % (mask + 1);
        this.overflow(p);
      } else {
        p.counter = v;
      }
    }
    p.last = t;
  }

  /** Re-base every counter on the current totals without counting (after recalc of sources). */
  rebase(ev: GuestEvents): void {
    this.totalValid.fill(0);
    for (const p of this.gp) p.last = this.total(p.source, ev);
    for (const p of this.fixed) p.last = this.total(p.source, ev);
  }

  /** __kvm_perf_overflow: status bit, and a PMI request if the counter's INT/PMI bit is set (R-PMI-1/2/5). */
  private overflow(p: Pmc): void {
    this.globalStatus |= 1n << BigInt(p.idx);
    this.overflows++;
    if (p.intr) this.pmiRequested = true;
  }

  /**
   * kvm_pmu_instruction_retired → kvm_pmu_trigger_event: KVM completed an exiting instruction (R-CNT-4).
   * Counters locally enabled for 0xC0/0x00 (FC0 included), globally enabled, allowed by the filter and
   * matching the CPL get +1; a wrap to 0 sets the status bit and may request a PMI.
   */
  instructionRetired(): void {
    if (this.anyEnabled) this.countEmulated();
  }

  private countEmulated(): void {
    const os = this.cpl === 0;
    for (const p of this.gp) this.emulatedIncrement(p, os, this.maskGP);
    for (const p of this.fixed) this.emulatedIncrement(p, os, this.maskFX);
  }

  /** kvm_pmu_branch_retired: KVM's emulator completed a branch (x86_emulate_instruction, ctxt->is_branch); the
   *  same rule as instructionRetired for counters of 0xC4/0x00 (no fixed counter counts branches). */
  branchRetired(): void {
    if (!this.anyEnabled) return;
    const os = this.cpl === 0;
    for (const p of this.gp) if (p.countsBranches) this.emulatedIncrement(p, os, this.maskGP, true);
  }

  private emulatedIncrement(p: Pmc, os: boolean, mask: number, branch = false): void {
    if (!(branch || p.countsInstructions) || !p.enabledAnyCpl || !(os ? p.countOs : p.countUsr)) return;
    p.counter = p.counter === mask ? 0 : p.counter + 1;
    if (p.counter === 0) this.overflow(p);
  }

  /**
   * Natively retired instructions the guest may run before the next counter event that needs KVM (a wrap
   * of a counter with INT/PMI set): exact for instruction-type events, a safe lower bound for the others
   * (the caller re-asks after running it). Infinity when nothing can interrupt.
   */
  instructionsUntilNextEvent(): number {
    return !this.anyEnabled || !this.perfBacked ? Infinity : this.nextEventBudget();
  }

  private nextEventBudget(): number {
    let best = Infinity;
    for (const p of this.gp) best = Math.min(best, this.budgetFor(p, this.maskGP));
    for (const p of this.fixed) best = Math.min(best, this.budgetFor(p, this.maskFX));
    return best;
  }

  private budgetFor(p: Pmc, mask: number): number {
    if (!p.active || !p.intr || p.source === EventSource.None) return Infinity;
    const remaining = mask + 1 - p.counter;
    const per = maxPerInstruction(p.source, this.maxCyclesPerInsn, this.clock);
    return Math.max(1, Math.floor(remaining / per));
  }

  /** Write a counter (pmc_write_counter, R-WR-5): replaces the count; the next read returns `value & mask`. */
  writeCounter(p: Pmc, value: bigint): void {
    const mask = p.type === "gp" ? this.maskGP : this.maskFX;
    p.counter = Number(value & BigInt(mask));
  }

  readCounter(p: Pmc): bigint {
    return BigInt(p.counter);
  }

  /** GP counter n or fixed counter i, if the vCPU has it. */
  gpPmc(n: number): Pmc | undefined {
    return n >= 0 && n < this.nGP ? this.gp[n] : undefined;
  }
  fixedPmc(i: number): Pmc | undefined {
    return i >= 0 && i < this.nFX ? this.fixed[i] : undefined;
  }
}
