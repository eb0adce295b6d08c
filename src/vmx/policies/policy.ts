/**
 * What an intercept policy is: a function from (module parameters, host PMU, guest vPMU model) to
 * the MSR bitmap, RDPMC exiting and the VMCS GLOBAL_CTRL controls, each with the rule that decided
 * it. Facts: model.md §1 (code states), §2 (knobs), R-MED-1/2, §6.1 (kvm_pmu_cap), §11.6–§11.8.
 */
import {
  MSR_CORE_PERF_FIXED_CTR0,
  MSR_CORE_PERF_FIXED_CTR_CTRL,
  MSR_CORE_PERF_GLOBAL_CTRL,
  MSR_CORE_PERF_GLOBAL_INUSE,
  MSR_CORE_PERF_GLOBAL_OVF_CTRL,
  MSR_CORE_PERF_GLOBAL_STATUS,
  MSR_CORE_PERF_GLOBAL_STATUS_SET,
  MSR_IA32_EVNTSEL0,
  MSR_IA32_PERF_CAPABILITIES,
  MSR_IA32_PERFCTR0,
  MSR_IA32_PMC0,
  MSR_PERF_METRICS,
} from "../../arch/msr-index.js";
import type { HostPreset } from "../../host/presets.js";
import type { CodeState } from "../../pmu/code-states.js";
import { MsrBitmap, MSR_TYPE_R, MSR_TYPE_W } from "../msr-bitmap.js";

/** A kernel code state: one row of feature predicates (src/pmu/code-states.ts, the one definition). */
export type { CodeState };

/** What the PMU decisions read from the KVM instance: module parameters (model.md §2) and the code state the
 *  kernel runs (model.md §1) — `kvm.params` as the instance holds them. */
export interface ModuleParams {
  readonly enablePmu: boolean;
  readonly enableMediatedPmu: boolean;
  readonly enableVmwareBackdoor: boolean;
  readonly codeState: CodeState;
}

/** The guest vPMU as KVM has realised it after refresh (model.md §6.3): what intercept decisions read. */
export interface GuestPmuView {
  readonly version: number;
  readonly nGP: number;
  readonly wGP: number;
  readonly nFX: number;
  readonly wFX: number;
  /** vcpu_get_perf_capabilities(): the guest's PERF_CAPABILITIES, 0 when CPUID.1:ECX.PDCM is clear. */
  readonly perfCapabilities: bigint;
}

export interface PolicyInput {
  readonly params: ModuleParams;
  readonly host: HostPreset;
  readonly guest: GuestPmuView;
}

/** One decision and the rule that made it ("R-INT-5: guest nFX 3 ≠ host nFX 4"). */
export interface Decision {
  readonly intercept: boolean;
  readonly rule: string;
}

export interface MsrIntercept {
  readonly index: number;
  readonly name: string;
  readonly read: Decision;
  readonly write: Decision;
}

export interface InterceptPlan {
  /** Policy id as the user named it (`legacy`, `base`, `v4`, `fix`, or the file's `name`). */
  readonly policy: string;
  /** Which KVM code the plan, the load/put and the vPMU emulation follow (the instance's, from `params`). */
  readonly codeState: CodeState;
  /** enable_mediated_pmu after R-MED-1, and kvm_vcpu_has_mediated_pmu (R-MED-2), with why. */
  readonly mediatedPmuEnabled: Decision;
  readonly vcpuMediated: Decision;
  /** KVM's fixed-counter limit for this code state (kvm_pmu_cap, R-CPUID-4). */
  readonly kvmMaxFixed: number;
  /** Every PMU MSR KVM's recalc touches or leaves at the default, in index order. */
  readonly msrs: readonly MsrIntercept[];
  /** Primary control bit 11 (model.md §11.7). */
  readonly rdpmcExiting: Decision;
  /** VM-entry "load IA32_PERF_GLOBAL_CTRL" and VM-exit "save"/"load" (model.md §11.3): set iff mediated. */
  readonly globalCtrlSwitch: Decision;
  /** Load/put move PERF_METRICS (P-8/P-9): V4/FIX with guest caps bit 15. */
  readonly perfMetricsSwitch: Decision;
  /** The bitmap page built from `msrs` (all other MSRs keep KVM's all-ones default). */
  readonly bitmap: MsrBitmap;
}

export interface InterceptPolicy {
  readonly id: string;
  /** The kernel a machine for this policy runs (KVM is built with it; the plan reads it from `params`). */
  readonly codeState: CodeState;
  /** vmx_recalc_intercepts for this policy. */
  plan(input: PolicyInput): InterceptPlan;
}

/** What kind of PMU MSR an index is, and which counter it names (for rules that look at counters). */
export type PmuMsrKind =
  | "gp-counter"
  | "gp-counter-fw"
  | "eventsel"
  | "fixed-counter"
  | "global"
  | "fixed-ctrl"
  | "perf-metrics"
  | "perf-caps"
  | "global-v4";

export interface PmuMsrRef {
  readonly index: number;
  readonly name: string;
  readonly kind: PmuMsrKind;
  /** Counter number for counter/selector MSRs, -1 otherwise. */
  readonly counter: number;
}

/**
 * The PMU MSRs a policy decides over: GP counters (both aliases) and selectors up to KVM's GP limit,
 * fixed counters up to KVM's fixed limit, the global MSRs, PERF_METRICS and PERF_CAPABILITIES —
 * the set vmx.c vmx_recalc_pmu_msr_intercepts walks, plus the ones it leaves at the default.
 */
export function pmuMsrs(kvmMaxGp: number, kvmMaxFixed: number): PmuMsrRef[] {
  const out: PmuMsrRef[] = [];
  for (let i = 0; i < kvmMaxGp; i++)
    out.push({ index: MSR_IA32_PERFCTR0 + i, name: `MSR_IA32_PERFCTR${i}`, kind: "gp-counter", counter: i });
  for (let i = 0; i < kvmMaxGp; i++)
    out.push({ index: MSR_IA32_EVNTSEL0 + i, name: `MSR_P6_EVNTSEL${i}`, kind: "eventsel", counter: i });
  for (let i = 0; i < kvmMaxFixed; i++)
    out.push({
      index: MSR_CORE_PERF_FIXED_CTR0 + i,
      name: `MSR_CORE_PERF_FIXED_CTR${i}`,
      kind: "fixed-counter",
      counter: i,
    });
  out.push({ index: MSR_PERF_METRICS, name: "MSR_PERF_METRICS", kind: "perf-metrics", counter: -1 });
  out.push({ index: MSR_IA32_PERF_CAPABILITIES, name: "MSR_IA32_PERF_CAPABILITIES", kind: "perf-caps", counter: -1 });
  out.push({
    index: MSR_CORE_PERF_FIXED_CTR_CTRL,
    name: "MSR_CORE_PERF_FIXED_CTR_CTRL",
    kind: "fixed-ctrl",
    counter: -1,
  });
  out.push({ index: MSR_CORE_PERF_GLOBAL_STATUS, name: "MSR_CORE_PERF_GLOBAL_STATUS", kind: "global", counter: -1 });
  out.push({ index: MSR_CORE_PERF_GLOBAL_CTRL, name: "MSR_CORE_PERF_GLOBAL_CTRL", kind: "global", counter: -1 });
  out.push({
    index: MSR_CORE_PERF_GLOBAL_OVF_CTRL,
    name: "MSR_CORE_PERF_GLOBAL_OVF_CTRL",
    kind: "global",
    counter: -1,
  });
  out.push({
    index: MSR_CORE_PERF_GLOBAL_STATUS_SET,
    name: "MSR_CORE_PERF_GLOBAL_STATUS_SET",
    kind: "global-v4",
    counter: -1,
  });
  out.push({ index: MSR_CORE_PERF_GLOBAL_INUSE, name: "MSR_CORE_PERF_GLOBAL_INUSE", kind: "global-v4", counter: -1 });
  for (let i = 0; i < kvmMaxGp; i++)
    out.push({ index: MSR_IA32_PMC0 + i, name: `MSR_IA32_PMC${i}`, kind: "gp-counter-fw", counter: i });
  return out.sort((a, b) => a.index - b.index);
}

export function hex(n: number | bigint): string {
  return "0x" + n.toString(16);
}

/** Build the 4 KiB page from per-MSR decisions; everything else keeps the all-ones default (§11.1). */
export function bitmapFromDecisions(msrs: readonly MsrIntercept[]): MsrBitmap {
  const b = new MsrBitmap();
  for (const m of msrs) {
    b.setIntercept(m.index, MSR_TYPE_R, m.read.intercept);
    b.setIntercept(m.index, MSR_TYPE_W, m.write.intercept);
  }
  return b;
}
