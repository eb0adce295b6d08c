/**
 * The mediated vPMU context switch: load (host → guest, before VM entry) and put (guest → host, after
 * VM exit) as explicit named steps over the vPMU state and the physical PMU, each recorded.
 * Facts: model.md §12.1 steps 1–9, §12.2 steps 0–5, P-8/P-9; pmu.c (kvm_mediated_pmu_load,
 * kvm_pmu_load_guest_pmcs, kvm_mediated_pmu_put, kvm_pmu_put_guest_pmcs), pmu_intel.c
 * (intel_mediated_pmu_load, intel_mediated_pmu_put) and the V4 patch (patch-v4-perf-metrics.txt).
 */
import {
  MSR_CORE_PERF_FIXED_CTR0,
  MSR_CORE_PERF_FIXED_CTR_CTRL,
  MSR_CORE_PERF_GLOBAL_CTRL,
  MSR_CORE_PERF_GLOBAL_OVF_CTRL,
  MSR_CORE_PERF_GLOBAL_STATUS_SET,
  MSR_IA32_EVNTSEL0,
  MSR_IA32_PMC0,
  MSR_PERF_METRICS,
} from "../arch/msr-index.js";
import { INTEL_RDPMC_FIXED } from "../arch/perf-event.js";
import type { HostPerf } from "../host/activity.js";
import { big } from "../host/halves.js";
import { HOST_OWNER, type PhysicalPmu } from "../host/physical-pmu.js";
import type { KvmPmu } from "./pmu.js";

/** One recorded step: "load 5: WRMSR 0x4c1 := 0x0" — `phase` and `step` are model.md's numbering. */
export interface SwitchStep {
  readonly phase: "load" | "put";
  readonly step: string;
  readonly text: string;
}

/** What the switch needs to know about the vCPU beyond its PMU state. */
export interface MediatedConfig {
  /** Owner tag for values the switch writes on the guest's behalf ("vcpu:0"). */
  readonly owner: string;
  /** vcpu_has_perf_metrics under V4/FIX (P-8/P-9); false for BASE whatever the caps say. */
  readonly perfMetrics: boolean;
}

/** Provenance ids of one owner's step tags (ProvenanceTable ids, built when the owner changes). */
interface StepIds {
  readonly owner: string;
  readonly load3Host: number;
  readonly load5: number;
  readonly load6: number;
  readonly load81: number;
  readonly load82: number;
  readonly load83: number;
  readonly adopt5: number;
  readonly adopt6: number;
  readonly adopt82: number;
  readonly put11: number;
  readonly put12: number;
  readonly put13: number;
  readonly put2: number;
  readonly put3: number;
}

const TWO32 = 0x100000000;
/** A selector below 2^35 (hardware reserves bits 63:35): its high half is below 2^3. */
const SEL_LIMIT_HI = 2 ** (35 - 32);

/**
 * The Number form of a bigint field of the vCPU's PMU (kvm_pmu keeps 64-bit values as BigInt): converted
 * when the field holds a different value than at the last call, so a switch over unchanged state converts
 * nothing. `lo`/`hi` are the two 32-bit halves.
 */
class Halves {
  private b = 0n;
  lo = 0;
  hi = 0;
  /** The bigint with halves (lo, hi) last seen or built (put reuses it instead of allocating). */
  get value(): bigint {
    return this.b;
  }
  of(b: bigint): this {
    if (b !== this.b) {
      this.b = b;
      this.lo = Number(b & 0xffffffffn);
      this.hi = Number((b >> 32n) & 0xffffffffn);
    }
    return this;
  }
  /** The bigint for halves (lo, hi): the cached one when they match. */
  fromHalves(lo: number, hi: number): bigint {
    if (lo !== this.lo || hi !== this.hi) {
      this.lo = lo;
      this.hi = hi;
      this.b = big(lo, hi);
    }
    return this.b;
  }
}

/**
 * Loads and puts that visit every register at the start of each switch, as `fullSwitch` does (the same values,
 * owners, leaks and exits: test/vmx/mediated-visit). The first calls of a function run without V8 type feedback,
 * so a first switch's full visit alone is never recorded, and code V8 optimised on one machine had none for it:
 * every new machine's first switch threw load's and put's optimised code away and recompiled them (issue 16,
 * W4). A few full visits more give that path its feedback on the first machine.
 */
const FULL_VISITS = 32;

/** What a SwitchKey holds before its first `set`. */
const NO_KEY: object = Object.freeze({});

/**
 * `config` as the switch takes it. A guest's PERF_METRICS is switched only on a host that has the MSR: KVM
 * accepts a guest PERF_CAPABILITIES only within kvm_caps.supported_perf_cap, which holds bit 15 only when the
 * host has it (the V4 patch's vmx_get_perf_capabilities: `perf_cap |= host_perf_cap & PERF_CAP_PERF_METRICS`
 * under enable_mediated_pmu), and intel_mediated_pmu_load/put then write and RDPMC 0x329
 * unconditionally. Every plan derives the switch from the guest's capabilities (kernelPlanParts), so no
 * configuration reaches a mismatch; one would be a bug in the model, not bad input.
 */
function switchableConfig(phys: PhysicalPmu, config: MediatedConfig): MediatedConfig {
  if (config.perfMetrics && !phys.hasPerfMetrics)
    throw new Error("mediated switch: PERF_METRICS switched for a guest on a host without the MSR");
  return config;
}

/** Everything a switch step depends on besides the registers and saved values it compares: the vCPU's PMU, its
 *  counter arrays and their count, the hardware-copy generation (KvmPmu.hwGeneration) and the configuration.
 *  One object per direction, compared field by field (no array per switch). */
class SwitchKey {
  // A fresh key holds an object no PMU or configuration is (not null: V8 then compares objects only, and a new
  // machine's first switch does not throw away the code optimised on another machine's).
  private pmu: object = NO_KEY;
  private gp: object = NO_KEY;
  private fixed: object = NO_KEY;
  private gen = -1;
  private cfg: object = NO_KEY;
  private nGP = -1;
  private nFX = -1;

  matches(pmu: KvmPmu, cfg: MediatedConfig): boolean {
    return (
      this.pmu === pmu &&
      this.gp === pmu.gp &&
      this.fixed === pmu.fixed &&
      this.gen === pmu.hwGeneration &&
      this.cfg === cfg &&
      this.nGP === pmu.nGP &&
      this.nFX === pmu.nFX
    );
  }

  set(pmu: KvmPmu, cfg: MediatedConfig): void {
    this.pmu = pmu;
    this.gp = pmu.gp;
    this.fixed = pmu.fixed;
    this.gen = pmu.hwGeneration;
    this.cfg = cfg;
    this.nGP = pmu.nGP;
    this.nFX = pmu.nFX;
  }
}

function hex(lo: number, hi: number): string {
  return big(lo, hi).toString(16);
}

export class MediatedSwitch {
  /** Steps of the last load/put (cleared at each load), when `record` is on. */
  readonly steps: SwitchStep[] = [];
  record = false;
  /** Physical LVTPC delivery (R-PMI-4): NMI for the host, fixed on the mediated vector while loaded. */
  get lvtpc(): "nmi" | "mediated-fixed" {
    return this.lvtpcMediated ? "mediated-fixed" : "nmi";
  }
  /** `lvtpc` is "mediated-fixed" (a boolean: stored twice per exit, and a string store costs V8 a write barrier). */
  private lvtpcMediated = false;
  lvtpcMasked = false;
  /** Guest context is on the hardware (between load and put). */
  loaded = false;
  /** Counts of completed loads and puts (reports, tests). */
  loads = 0;
  puts = 0;
  private cfg: MediatedConfig;
  private ids: StepIds;
  /** The host can write the full-width counter alias (PERF_CAPABILITIES.FW_WRITES): the switch writes
   *  counters through 0x4C1+n, which does not exist otherwise (the write then does nothing, as before). */
  private readonly fw: boolean;
  private readonly statusSet: boolean;
  /** Slot bits of the GP counters, selectors and fixed counters (load steps 5 and 6). */
  private readonly counterSlots: number;
  /** Slot bits of PERF_METRICS, GLOBAL_STATUS and FIXED_CTR_CTRL (load steps 8.1–8.3; `>>>` and `<<` take the
   *  slot number modulo 32 alike, so a test of `w & globalSlots` asks what steps 8.x's `(w >>> s) & 1` do). */
  private readonly globalSlots: number;
  // Number forms of the vCPU PMU's GLOBAL_STATUS and PERF_METRICS (Halves). Put stores the bigint it built,
  // so the next load finds the very value it has the halves of. (The hardware selector copies and
  // FIXED_CTR_CTRL are read as the Number halves KvmPmu keeps with them.)
  private readonly gStatus = new Halves();
  private readonly gMetrics = new Halves();
  /** Visit every register at every load and put (the unoptimised switch; tests compare the two). */
  fullSwitch = false;
  /** Loads and puts at the start that visit every register (FULL_VISITS; test/vmx/mediated-visit sets 0, so
   *  that its guests skip from their first switches on). */
  fullVisits = FULL_VISITS;
  // Which registers a load must visit (issue 16, W4). A load step on a register is a function of that
  // register's value and owner tag, the vCPU-side value it reads (a saved counter, GLOBAL_STATUS,
  // PERF_METRICS, the hardware selector copies) and the configuration. A register no write touched since the
  // previous load's steps began (that load's own writes included: PhysicalPmu.takeSwitchChanged) whose
  // vCPU-side value is the one that load read was left as it was by that load, and the same step on the
  // same inputs leaves it as it is again: skipping it changes nothing. Put's steps are one comparison each
  // when they find nothing to scrub; they stay as they are.
  /** What the last load read: the saved counters, GLOBAL_STATUS, PERF_METRICS, and the key of everything
   *  else it depends on (a change visits every register). */
  private readonly ldGp: number[] = [];
  private readonly ldFx: number[] = [];
  private ldStatus = 0n;
  private ldMetrics = 0n;
  private readonly ldKey = new SwitchKey();
  /** KvmPmu.saved.n at the last load: unchanged, every saved value is the one that load read. */
  private ldWrites = -1;
  // The same for put's steps 2 and 3: physical changes since the last put's steps began (each switch folds
  // PhysicalPmu.takeSwitchChanged into both masks), and KvmPmu.saved.n when the last put ended.
  private ldMask = -1;
  private ptMask = -1;
  private readonly ptKey = new SwitchKey();
  private ptWrites = -1;

  constructor(
    readonly phys: PhysicalPmu,
    readonly hostPerf: HostPerf,
    config: MediatedConfig,
  ) {
    this.cfg = switchableConfig(phys, config);
    this.ids = this.stepIds(config.owner);
    this.fw = phys.canonical(MSR_IA32_PMC0) >= 0;
    this.statusSet = phys.canonical(MSR_CORE_PERF_GLOBAL_STATUS_SET) >= 0;
    this.counterSlots = phys.sFcc >= 31 ? -1 : (1 << phys.sFcc) - 1;
    this.globalSlots = (1 << phys.sMetrics) | (1 << phys.sStatus) | (1 << phys.sFcc);
  }

  get config(): MediatedConfig {
    return this.cfg;
  }
  set config(c: MediatedConfig) {
    this.cfg = switchableConfig(this.phys, c);
    if (c.owner !== this.ids.owner) this.ids = this.stepIds(c.owner);
  }

  /** Provenance tags are interned once per owner: the switch tags registers with small ints. */
  private stepIds(owner: string): StepIds {
    const t = this.phys.provs;
    const id = (o: string, src: string) => t.id(o, src);
    const adopted = " (hardware already equal, no write)";
    return {
      owner,
      load3Host: id(HOST_OWNER, "load step 3"),
      load5: id(owner, "load step 5"),
      load6: id(owner, "load step 6"),
      load81: id(owner, "load step 8.1"),
      load82: id(owner, "load step 8.2"),
      load83: id(owner, "load step 8.3"),
      adopt5: id(owner, `load step 5${adopted}`),
      adopt6: id(owner, `load step 6${adopted}`),
      adopt82: id(owner, `load step 8.2${adopted}`),
      put11: id(HOST_OWNER, "put step 1.1"),
      put12: id(HOST_OWNER, "put step 1.2"),
      put13: id(HOST_OWNER, "put step 1.3"),
      put2: id(HOST_OWNER, "put step 2"),
      put3: id(HOST_OWNER, "put step 3"),
    };
  }

  private note(phase: "load" | "put", step: string, text: string): void {
    if (this.record) this.steps.push({ phase, step, text });
  }

  /** The recorded form of a step's WRMSR. */
  private noteWr(phase: "load" | "put", step: string, msr: number, lo: number, hi: number): void {
    this.steps.push({ phase, step, text: `WRMSR 0x${msr.toString(16)} := 0x${hex(lo, hi)}` });
  }

  /** The registers this load or put (`last` = the previous one's key, `done` = how many such switches
   *  completed) must visit: the changed ones, or every one (−1) when recording, in the unoptimised mode, during
   *  the first `fullVisits` loads and puts, or when a key input changed. */
  private visit(pmu: KvmPmu, last: SwitchKey, dirty: number, done: number): number {
    if (this.record || this.fullSwitch || done < this.fullVisits || !last.matches(pmu, this.cfg)) return -1;
    return dirty;
  }

  /** Fold the physical file's changes since the last switch into both visit masks. */
  private takeChanged(): void {
    const m = this.phys.takeSwitchChanged(this);
    this.ldMask |= m;
    this.ptMask |= m;
  }

  /** A GP counter write through the full-width alias (the host's own value is within its width). */
  private writeGp(n: number, v: number, p: number): void {
    if (this.fw && v <= this.phys.gpMask) this.phys.writeGp(n, v, p);
  }

  /**
   * kvm_mediated_pmu_load (model.md §12.1 steps 2–8; step 1 is the caller's "is the vCPU mediated" check,
   * step 9 is the VM entry's GLOBAL_CTRL load, done by the VMCS). `guestLvtpcMasked` is the guest's
   * LVTPC mask bit (R-PMI-4). Every value is a Number here (issue 16): no BigInt, no Map per exit. The steps
   * that can only write or record something when an input changed are separate methods (loadCounters,
   * loadGlobals), so what runs at every VM entry stays small enough for V8 to inline into the entry (W4).
   */
  load(pmu: KvmPmu, guestLvtpcMasked: boolean): void {
    if (this.loaded) return;
    const rec = this.record;
    if (this.steps.length !== 0) this.steps.length = 0;
    const phys = this.phys;
    if (!this.hostPerf.idle) this.hostPerf.scheduleOut(phys, "load step 2");
    this.note("load", "2", "perf_load_guest_context: host events excluding the guest are scheduled out");
    phys.writeGlobalCtrl(0, 0, this.ids.load3Host);
    this.lvtpcMediated = true;
    this.lvtpcMasked = guestLvtpcMasked;
    if (rec) this.noteLoad34(guestLvtpcMasked);
    // "if RDPMC(n) ≠ saved": counters are exact numbers on both sides (widths ≤ 48).
    this.takeChanged();
    const w = this.visit(pmu, this.ldKey, this.ldMask, this.loads);
    this.ldMask = 0;
    if (w === -1) this.ldKey.set(pmu, this.cfg);
    // Some saved value may differ from the one the last load read (else only `w` can ask for a step).
    const cmp = w === -1 || pmu.saved.n !== this.ldWrites;
    this.ldWrites = pmu.saved.n;
    if (cmp || (w & this.counterSlots) !== 0) this.loadCounters(pmu, w, cmp);
    // Steps 7 and 8 read only PERF_METRICS, GLOBAL_STATUS and FIXED_CTR_CTRL: with none of their slots to visit
    // and no saved value changed, each finds its register as the last load left it.
    if (rec || cmp || (w & this.globalSlots) !== 0) this.loadGlobals(pmu, w, cmp, rec);
    this.loaded = true;
    this.loads++;
  }

  /** The recorded forms of load steps 3 and 4. */
  private noteLoad34(guestLvtpcMasked: boolean): void {
    this.noteWr("load", "3", MSR_CORE_PERF_GLOBAL_CTRL, 0, 0);
    this.note("load", "4", `LVTPC := fixed, mediated PMI vector${guestLvtpcMasked ? ", masked" : ""}`);
  }

  /** Load steps 7 and 8 (8.1 PERF_METRICS, 8.2 GLOBAL_STATUS, 8.3 FIXED_CTR_CTRL) for the registers `w` names
   *  and, with `cmp`, those whose saved value changed. */
  private loadGlobals(pmu: KvmPmu, w: number, cmp: boolean, rec: boolean): void {
    const phys = this.phys;
    const ids = this.ids;
    if (rec)
      this.note(
        "load",
        "7",
        `counters the guest does not have are not touched (nGP ${pmu.nGP}/${phys.nGP}, nFX ${pmu.nFX}/${phys.nFX})`,
      );
    // P-8: after FC3 (step 6), and only for a guest with PERF_METRICS.
    if (this.cfg.perfMetrics) {
      if (((w >>> phys.sMetrics) & 1) !== 0 || (cmp && pmu.perfMetrics !== this.ldMetrics)) {
        this.ldMetrics = pmu.perfMetrics;
        const m = this.gMetrics.of(pmu.perfMetrics);
        phys.writePerfMetrics(m.lo, m.hi, ids.load81);
        if (rec) this.noteWr("load", "8.1", MSR_PERF_METRICS, m.lo, m.hi);
      }
    } else this.note("load", "8.1", "guest has no PERF_METRICS: 0x329 not written (P-8)");
    if (((w >>> phys.sStatus) & 1) !== 0 || (cmp && pmu.globalStatus !== this.ldStatus)) {
      this.ldStatus = pmu.globalStatus;
      this.loadStatus(pmu, rec);
    }
    if (((w >>> phys.sFcc) & 1) !== 0) {
      const lo = pmu.fixedCtrCtrlHwLo;
      const hi = pmu.fixedCtrCtrlHwHi;
      phys.writeFixedCtrCtrl(lo, hi, ids.load83);
      if (rec) this.noteWr("load", "8.3", MSR_CORE_PERF_FIXED_CTR_CTRL, lo, hi);
    }
  }

  /** Load steps 5 and 6 for the registers `w` names and, with `cmp`, those whose saved value changed. */
  private loadCounters(pmu: KvmPmu, w: number, cmp: boolean): void {
    const phys = this.phys;
    const ids = this.ids;
    const rec = this.record;
    const gp = pmu.gp;
    const physGp = phys.gp;
    const ldGp = this.ldGp;
    const sSel0 = phys.sSel0;
    for (let n = 0; n < pmu.nGP; n++) {
      const c = gp[n]!;
      const saved = c.counter;
      if (((w >>> n) & 1) !== 0 || (cmp && saved !== ldGp[n])) {
        ldGp[n] = saved;
        if (physGp[n] !== saved) {
          this.writeGp(n, saved, ids.load5);
          if (rec) this.noteWr("load", "5", MSR_IA32_PMC0 + n, saved % TWO32, Math.floor(saved / TWO32));
        } else if (this.fw) phys.tag(n, ids.adopt5);
      }
      if (((w >>> (sSel0 + n)) & 1) === 0) continue;
      const selLo = c.eventselHwLo;
      const selHi = c.eventselHwHi;
      // A selector at or above 2^35 would #GP on hardware: nothing is written (KVM validated it; never seen).
      if (selHi < SEL_LIMIT_HI) phys.writeSel(n, selHi * TWO32 + selLo, ids.load5);
      if (rec) this.noteWr("load", "5", MSR_IA32_EVNTSEL0 + n, selLo, selHi);
    }
    const fixed = pmu.fixed;
    const physFixed = phys.fixed;
    const ldFx = this.ldFx;
    const sFx0 = phys.sFx0;
    for (let i = 0; i < pmu.nFX; i++) {
      const saved = fixed[i]!.counter;
      if (((w >>> (sFx0 + i)) & 1) === 0 && !(cmp && saved !== ldFx[i])) continue;
      ldFx[i] = saved;
      if (physFixed[i] !== saved) {
        phys.writeFixed(i, saved % (phys.fxMask + 1), ids.load6);
        if (rec) this.noteWr("load", "6", MSR_CORE_PERF_FIXED_CTR0 + i, saved % TWO32, Math.floor(saved / TWO32));
      } else phys.tag(sFx0 + i, ids.adopt6);
    }
  }

  /** Load step 8.2: GLOBAL_STATUS := the saved value, through OVF_CTRL (bits to clear) and STATUS_SET (bits
   *  to set); the hardware already equal is adopted. */
  private loadStatus(pmu: KvmPmu, rec: boolean): void {
    const phys = this.phys;
    const ids = this.ids;
    const g = this.gStatus.of(pmu.globalStatus);
    const hwLo = phys.statusLo;
    const hwHi = phys.statusHi;
    const tLo = (g.lo ^ hwLo) >>> 0;
    const tHi = (g.hi ^ hwHi) >>> 0;
    if ((hwLo & tLo) !== 0 || (hwHi & tHi) !== 0) {
      phys.clearStatus(hwLo & tLo, hwHi & tHi, ids.load82);
      if (rec) this.noteWr("load", "8.2", MSR_CORE_PERF_GLOBAL_OVF_CTRL, (hwLo & tLo) >>> 0, (hwHi & tHi) >>> 0);
    }
    if ((g.lo & tLo) !== 0 || (g.hi & tHi) !== 0) {
      if (this.statusSet) phys.setStatus(g.lo & tLo, g.hi & tHi, ids.load82);
      if (rec) this.noteWr("load", "8.2", MSR_CORE_PERF_GLOBAL_STATUS_SET, (g.lo & tLo) >>> 0, (g.hi & tHi) >>> 0);
    }
    if ((tLo | tHi) === 0) phys.tag(phys.sStatus, ids.adopt82);
  }

  /**
   * kvm_mediated_pmu_put (model.md §12.2 steps 1–5; step 0 is the VM exit's GLOBAL_CTRL save/load, done by
   * the VMCS, which must already have happened). Saves the guest's hardware state into `pmu` and scrubs it.
   * Steps 1.1–1.3 run (putGlobals) unless each would find nothing to store or scrub, and steps 2 and 3
   * (putCounters) as below: the rest stays small enough for V8 to inline into the exit (W4).
   */
  put(pmu: KvmPmu): void {
    if (!this.loaded) return;
    if (this.steps.length !== 0) this.steps.length = 0;
    const phys = this.phys;
    this.takeChanged();
    const w = this.visit(pmu, this.ptKey, this.ptMask, this.puts);
    this.ptMask = 0;
    if (w === -1) this.ptKey.set(pmu, this.cfg);
    // Step 1.1 stores GLOBAL_STATUS only when it differs and scrubs a non-zero one; 1.2 scrubs a non-zero
    // FIXED_CTR_CTRL; 1.3 stores and scrubs PERF_METRICS the same way (RDPMC when the CPU has no MSR). A full
    // visit runs them whatever they would find (the reference the tests compare the skips against).
    if (
      w === -1 ||
      this.record ||
      (phys.statusLo | phys.statusHi | pmu.globalStatusLo | pmu.globalStatusHi) !== 0 ||
      (pmu.fixedCtrCtrlHwLo | pmu.fixedCtrCtrlHwHi) !== 0 ||
      (this.cfg.perfMetrics && (phys.metricsLo | phys.metricsHi | pmu.perfMetricsLo | pmu.perfMetricsHi) !== 0)
    )
      this.putGlobals(pmu);
    // Steps 2 and 3 on registers no write touched since the last put's steps began, with no saved value
    // written since it ended, store and write what is already there: skipped (see ldMask above).
    if (w === -1 || (w & this.counterSlots) !== 0 || pmu.saved.n !== this.ptWrites) this.putCounters(pmu);
    this.lvtpcMediated = false;
    this.note("put", "4", "LVTPC := NMI");
    this.ptWrites = pmu.saved.n;
    this.loaded = false;
    this.puts++;
  }

  /** Put steps 1.1 (GLOBAL_STATUS), 1.2 (FIXED_CTR_CTRL) and 1.3 (PERF_METRICS, P-9). */
  private putGlobals(pmu: KvmPmu): void {
    const rec = this.record;
    const phys = this.phys;
    const ids = this.ids;
    const stLo = phys.statusLo;
    const stHi = phys.statusHi;
    // Stores of the saved values are counted (KvmPmu.saved): only a different value is stored (compared as
    // halves, KvmPmu's Number copies: no BigInt per exit).
    if (pmu.globalStatusLo !== stLo || pmu.globalStatusHi !== stHi)
      pmu.globalStatus = this.gStatus.fromHalves(stLo, stHi);
    if (rec) this.note("put", "1.1", `global_status := 0x${hex(stLo, stHi)}`);
    if ((stLo | stHi) !== 0) {
      phys.clearStatus(stLo, stHi, ids.put11);
      if (rec) this.noteWr("put", "1.1", MSR_CORE_PERF_GLOBAL_OVF_CTRL, stLo, stHi);
    }
    if ((pmu.fixedCtrCtrlHwLo | pmu.fixedCtrCtrlHwHi) !== 0) {
      phys.writeFixedCtrCtrl(0, 0, ids.put12);
      if (rec) this.noteWr("put", "1.2", MSR_CORE_PERF_FIXED_CTR_CTRL, 0, 0);
    }
    if (this.cfg.perfMetrics) {
      // P-9: read with RDPMC(0x2000_0000) before step 3 clears FC3; scrub if non-zero.
      const mLo = phys.metricsLo;
      const mHi = phys.metricsHi;
      if (pmu.perfMetricsLo !== mLo || pmu.perfMetricsHi !== mHi) pmu.perfMetrics = this.gMetrics.fromHalves(mLo, mHi);
      if (rec) this.note("put", "1.3", `perf_metrics := RDPMC(0x20000000) = 0x${hex(mLo, mHi)}`);
      if ((mLo | mHi) !== 0) {
        phys.writePerfMetrics(0, 0, ids.put13);
        if (rec) this.noteWr("put", "1.3", MSR_PERF_METRICS, 0, 0);
      }
    } else {
      this.note("put", "1.3", "guest has no PERF_METRICS: 0x329 neither read nor scrubbed (P-9)");
    }
  }

  /** Put steps 2 and 3: saved := RDPMC(n), then scrub the counter and its selector. */
  private putCounters(pmu: KvmPmu): void {
    const phys = this.phys;
    const ids = this.ids;
    const rec = this.record;
    // saved := RDPMC(n): the physical counter value, an exact number.
    const gp = pmu.gp;
    const physGp = phys.gp;
    for (let n = 0; n < pmu.nGP; n++) {
      const v = physGp[n]!;
      const c = gp[n]!;
      if (c.counter !== v) c.counter = v;
      if (rec) this.note("put", "2", `gp[${n}] := RDPMC(${n}) = 0x${v.toString(16)}`);
      if (v !== 0) {
        this.writeGp(n, 0, ids.put2);
        if (rec) this.noteWr("put", "2", MSR_IA32_PMC0 + n, 0, 0);
      }
      if ((c.eventselHwLo | c.eventselHwHi) !== 0) {
        phys.writeSel(n, 0, ids.put2);
        if (rec) this.noteWr("put", "2", MSR_IA32_EVNTSEL0 + n, 0, 0);
      }
    }
    const fixed = pmu.fixed;
    const physFixed = phys.fixed;
    for (let i = 0; i < pmu.nFX; i++) {
      const v = physFixed[i]!;
      const c = fixed[i]!;
      if (c.counter !== v) c.counter = v;
      if (rec)
        this.note("put", "3", `fixed[${i}] := RDPMC(0x${(INTEL_RDPMC_FIXED | i).toString(16)}) = 0x${v.toString(16)}`);
      if (v !== 0) {
        phys.writeFixed(i, 0, ids.put3);
        if (rec) this.noteWr("put", "3", MSR_CORE_PERF_FIXED_CTR0 + i, 0, 0);
      }
    }
  }

  /** Put step 5 (perf_put_guest_context): host events back on the PMU. Separate so the I-1 check can run
   *  between the end of KVM's put and the host's restore (model.md §14.5 "the host model may then put its
   *  own value back"). */
  hostRestore(): void {
    if (!this.hostPerf.idle) this.hostPerf.restore(this.phys, "put step 5");
    if (this.record)
      this.note("put", "5", `perf_put_guest_context: host activity ${this.hostPerf.activity.id} restores its events`);
  }
}
