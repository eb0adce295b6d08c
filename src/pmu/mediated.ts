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
  MSR_CORE_PERF_GLOBAL_STATUS,
  MSR_CORE_PERF_GLOBAL_STATUS_SET,
  MSR_IA32_EVNTSEL0,
  MSR_IA32_PMC0,
  MSR_PERF_METRICS,
} from "../arch/msr-index.js";
import { INTEL_RDPMC_FIXED, INTEL_RDPMC_METRICS } from "../arch/perf-event.js";
import type { HostPerf } from "../host/activity.js";
import type { PhysicalPmu, Provenance } from "../host/physical-pmu.js";
import type { KvmPmu } from "./pmu.js";

/** Provenance sources of the steps (constant strings: no formatting per register). */
const STEP_SOURCE: { readonly load: Readonly<Record<string, string>>; readonly put: Readonly<Record<string, string>> } =
  {
    load: {
      "3": "load step 3",
      "5": "load step 5",
      "6": "load step 6",
      "8.1": "load step 8.1",
      "8.2": "load step 8.2",
      "8.3": "load step 8.3",
    },
    put: { "1.1": "put step 1.1", "1.2": "put step 1.2", "1.3": "put step 1.3", "2": "put step 2", "3": "put step 3" },
  };
/** Sources for registers a load step found already holding the guest's value (adopted, not written). */
const ADOPT_SOURCE: Readonly<Record<string, string>> = {
  "5": "load step 5 (hardware already equal, no write)",
  "6": "load step 6 (hardware already equal, no write)",
  "8.2": "load step 8.2 (hardware already equal, no write)",
};

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

export class MediatedSwitch {
  /** Steps of the last load/put (cleared at each load), when `record` is on. */
  readonly steps: SwitchStep[] = [];
  record = false;
  /** Physical LVTPC delivery (R-PMI-4): NMI for the host, fixed on the mediated vector while loaded. */
  lvtpc: "nmi" | "mediated-fixed" = "nmi";
  lvtpcMasked = false;
  /** Guest context is on the hardware (between load and put). */
  loaded = false;
  /** Counts of completed loads and puts (reports, tests). */
  loads = 0;
  puts = 0;

  constructor(
    readonly phys: PhysicalPmu,
    readonly hostPerf: HostPerf,
    public config: MediatedConfig,
  ) {}

  /** Provenance tags are shared, immutable values: one object per (owner, source) for the whole run, so the
   *  switch allocates nothing per register (sources are the constant strings of STEP_SOURCE). */
  private readonly provs = new Map<string, Map<string, Provenance>>();
  private prov(owner: string, source: string): Provenance {
    let byOwner = this.provs.get(owner);
    if (byOwner === undefined) this.provs.set(owner, (byOwner = new Map()));
    let p = byOwner.get(source);
    if (p === undefined) byOwner.set(source, (p = { owner, source }));
    return p;
  }

  private note(phase: "load" | "put", step: string, text: string): void {
    if (this.record) this.steps.push({ phase, step, text });
  }

  private wr(phase: "load" | "put", step: string, msr: number, value: bigint, owner: string): void {
    const who = this.prov(owner, STEP_SOURCE[phase][step]);
    // KVM's own writes to MSRs the host CPU has cannot fault (they are the guest's validated values).
    this.phys.wrmsr(msr, value, who);
    if (this.record) this.note(phase, step, `WRMSR 0x${msr.toString(16)} := 0x${value.toString(16)}`);
  }

  /** Mark a register the step left alone because hardware already held the guest's value: the value is
   *  the guest's from here on (no write, no new information). */
  private adopt(phase: "load" | "put", step: string, msr: number): void {
    this.phys.retag(
      msr,
      this.prov(this.config.owner, phase === "load" ? ADOPT_SOURCE[step] : STEP_SOURCE[phase][step]),
    );
  }

  /**
   * kvm_mediated_pmu_load (model.md §12.1 steps 2–8; step 1 is the caller's "is the vCPU mediated" check,
   * step 9 is the VM entry's GLOBAL_CTRL load, done by the VMCS). `guestLvtpcMasked` is the guest's
   * LVTPC mask bit (R-PMI-4).
   */
  load(pmu: KvmPmu, guestLvtpcMasked: boolean): void {
    if (this.loaded) return;
    this.steps.length = 0;
    const o = this.config.owner;
    this.hostPerf.scheduleOut(this.phys, "load step 2");
    this.note("load", "2", "perf_load_guest_context: host events excluding the guest are scheduled out");
    this.wr("load", "3", MSR_CORE_PERF_GLOBAL_CTRL, 0n, "host");
    this.lvtpc = "mediated-fixed";
    this.lvtpcMasked = guestLvtpcMasked;
    if (this.record) this.note("load", "4", `LVTPC := fixed, mediated PMI vector${guestLvtpcMasked ? ", masked" : ""}`);
    // "if RDPMC(n) ≠ saved": counters are exact numbers on both sides (widths ≤ 48), compared without BigInt.
    for (let n = 0; n < pmu.nGP; n++) {
      const saved = pmu.gp[n].counter;
      if (this.phys.gp[n] !== saved) this.wr("load", "5", MSR_IA32_PMC0 + n, BigInt(saved), o);
      else this.adopt("load", "5", MSR_IA32_PMC0 + n);
      this.wr("load", "5", MSR_IA32_EVNTSEL0 + n, pmu.gp[n].eventselHw, o);
    }
    for (let i = 0; i < pmu.nFX; i++) {
      const saved = pmu.fixed[i].counter;
      if (this.phys.fixed[i] !== saved) this.wr("load", "6", MSR_CORE_PERF_FIXED_CTR0 + i, BigInt(saved), o);
      else this.adopt("load", "6", MSR_CORE_PERF_FIXED_CTR0 + i);
    }
    if (this.record)
      this.note(
        "load",
        "7",
        `counters the guest does not have are not touched (nGP ${pmu.nGP}/${this.phys.nGP}, nFX ${pmu.nFX}/${this.phys.nFX})`,
      );
    // P-8: after FC3 (step 6), and only for a guest with PERF_METRICS.
    if (this.config.perfMetrics) this.wr("load", "8.1", MSR_PERF_METRICS, pmu.perfMetrics, o);
    else this.note("load", "8.1", "guest has no PERF_METRICS: 0x329 not written (P-8)");
    const hw = this.phys.rdmsr(MSR_CORE_PERF_GLOBAL_STATUS) as bigint;
    const toggle = pmu.globalStatus ^ hw;
    if (hw & toggle) this.wr("load", "8.2", MSR_CORE_PERF_GLOBAL_OVF_CTRL, hw & toggle, o);
    if (pmu.globalStatus & toggle)
      this.wr("load", "8.2", MSR_CORE_PERF_GLOBAL_STATUS_SET, pmu.globalStatus & toggle, o);
    if (toggle === 0n) this.adopt("load", "8.2", MSR_CORE_PERF_GLOBAL_STATUS);
    this.wr("load", "8.3", MSR_CORE_PERF_FIXED_CTR_CTRL, pmu.fixedCtrCtrlHw, o);
    this.loaded = true;
    this.loads++;
  }

  /**
   * kvm_mediated_pmu_put (model.md §12.2 steps 1–5; step 0 is the VM exit's GLOBAL_CTRL save/load, done by
   * the VMCS, which must already have happened). Saves the guest's hardware state into `pmu` and scrubs it.
   */
  put(pmu: KvmPmu): void {
    if (!this.loaded) return;
    this.steps.length = 0;
    const st = this.phys.rdmsr(MSR_CORE_PERF_GLOBAL_STATUS) as bigint;
    pmu.globalStatus = st;
    if (this.record) this.note("put", "1.1", `global_status := 0x${st.toString(16)}`);
    if (st !== 0n) this.wr("put", "1.1", MSR_CORE_PERF_GLOBAL_OVF_CTRL, st, "host");
    if (pmu.fixedCtrCtrlHw !== 0n) this.wr("put", "1.2", MSR_CORE_PERF_FIXED_CTR_CTRL, 0n, "host");
    if (this.config.perfMetrics) {
      // P-9: read with RDPMC(0x2000_0000) before step 3 clears FC3; scrub if non-zero.
      pmu.perfMetrics = this.phys.rdpmc(INTEL_RDPMC_METRICS) as bigint;
      if (this.record) this.note("put", "1.3", `perf_metrics := RDPMC(0x20000000) = 0x${pmu.perfMetrics.toString(16)}`);
      if (pmu.perfMetrics !== 0n) this.wr("put", "1.3", MSR_PERF_METRICS, 0n, "host");
    } else {
      this.note("put", "1.3", "guest has no PERF_METRICS: 0x329 neither read nor scrubbed (P-9)");
    }
    // saved := RDPMC(n): the physical counter value, an exact number (no BigInt on the exit path).
    for (let n = 0; n < pmu.nGP; n++) {
      const v = this.phys.gp[n];
      pmu.gp[n].counter = v;
      if (this.record) this.note("put", "2", `gp[${n}] := RDPMC(${n}) = 0x${v.toString(16)}`);
      if (v !== 0) this.wr("put", "2", MSR_IA32_PMC0 + n, 0n, "host");
      if (pmu.gp[n].eventselHw !== 0n) this.wr("put", "2", MSR_IA32_EVNTSEL0 + n, 0n, "host");
    }
    for (let i = 0; i < pmu.nFX; i++) {
      const v = this.phys.fixed[i];
      pmu.fixed[i].counter = v;
      if (this.record)
        this.note("put", "3", `fixed[${i}] := RDPMC(0x${(INTEL_RDPMC_FIXED | i).toString(16)}) = 0x${v.toString(16)}`);
      if (v !== 0) this.wr("put", "3", MSR_CORE_PERF_FIXED_CTR0 + i, 0n, "host");
    }
    this.lvtpc = "nmi";
    this.note("put", "4", "LVTPC := NMI");
    this.loaded = false;
    this.puts++;
  }

  /** Put step 5 (perf_put_guest_context): host events back on the PMU. Separate so the I-1 check can run
   *  between the end of KVM's put and the host's restore (model.md §14.5 "the host model may then put its
   *  own value back"). */
  hostRestore(): void {
    this.hostPerf.restore(this.phys, "put step 5");
    if (this.record)
      this.note("put", "5", `perf_put_guest_context: host activity ${this.hostPerf.activity.id} restores its events`);
  }
}
