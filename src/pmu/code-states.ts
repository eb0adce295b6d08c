/**
 * The kernel code states the model follows (model.md §1) as one table: each behaviour that differs between
 * LEGACY, BASE, V4 and FIX is a named feature predicate, and each code state is one row of them. pmu/, kvm/
 * and vmx/ ask a predicate, never a code state's name. It sits in pmu/ because that is the lowest layer
 * that asks (refresh, validity, RDPMC, kvm_pmu_cap). A new patch revision is one more row here, or a
 * policy file naming the same predicates (src/vmx/policies/from-file.ts "features").
 */

/** The feature predicates, each citing the kernel function or patch it models. */
export interface CodeStateFeatures {
  /** The mediated vPMU series is in the kernel ("[PATCH v6 NN/44]", pmu.c kvm_init_pmu_capability): without
   *  it enable_mediated_pmu stays off and every PMU access exits (R-INT-1). */
  readonly mediatedPmu: boolean;
  /** A mediated vCPU may have 4 fixed counters (KVM_MAX_NR_FIXED_COUNTERS): "KVM: x86/pmu: Support Intel
   *  fixed counter 3 on mediated vPMU" (pmu.c kvm_init_pmu_capability; R-CPUID-4, P-12). */
  readonly fixedCounter3: boolean;
  /** vmx_get_perf_capabilities offers PERF_CAPABILITIES.PERF_METRICS to a mediated vCPU
   *  ("[PATCH V4 3/4] Support PERF_METRICS MSR in mediated vPMU"; P-1). */
  readonly perfMetricsCap: boolean;
  /** intel_is_valid_msr accepts MSR_PERF_METRICS for a guest whose caps has bit 15 (PATCH V4 3/4; R-VAL-6, P-3). */
  readonly perfMetricsMsr: boolean;
  /** intel_pmu_refresh un-reserves GLOBAL_CTRL bit 48 for a guest whose caps has bit 15 (PATCH V4 3/4; P-6). */
  readonly globalCtrlPerfMetricsBit: boolean;
  /** vmx_recalc_pmu_msr_intercepts passes MSR_PERF_METRICS through to a mediated guest with caps bit 15
   *  (PATCH V4 3/4; P-4). */
  readonly perfMetricsPassThrough: boolean;
  /** kvm_mediated_pmu_load / put write, read and scrub MSR_PERF_METRICS for such a guest (PATCH V4 3/4; P-8/P-9). */
  readonly perfMetricsSwitch: boolean;
  /** kvm_need_perf_global_ctrl_intercept also asks kvm_need_perf_metrics_intercept: the global MSRs exit when
   *  the host has PERF_METRICS and the guest does not (FIX tree pmu.c; R-INT-4). */
  readonly globalCtrlInterceptOnMetricsMismatch: boolean;
  /** kvm_need_rdpmc_intercept also asks kvm_need_perf_metrics_intercept (FIX tree pmu.c; R-INT-4). */
  readonly rdpmcInterceptOnMetricsMismatch: boolean;
  /** intel_emulate_rdpmc returns the saved perf_metrics for ECX 0x20000000 when the guest has PERF_METRICS
   *  (FIX tree pmu_intel.c; model.md §9.3 step 6). */
  readonly rdpmcMetrics: boolean;
}

/** One kernel code state: a name and its feature predicates. */
export interface CodeState extends CodeStateFeatures {
  /** As `--kvm` names it. */
  readonly id: string;
  /** As reports print it ("code state FIX"). */
  readonly label: string;
}

/** The predicate names, in table order (for policy files, docs and tests). */
export const CODE_STATE_FEATURES: readonly (keyof CodeStateFeatures)[] = [
  "mediatedPmu",
  "fixedCounter3",
  "perfMetricsCap",
  "perfMetricsMsr",
  "globalCtrlPerfMetricsBit",
  "perfMetricsPassThrough",
  "perfMetricsSwitch",
  "globalCtrlInterceptOnMetricsMismatch",
  "rdpmcInterceptOnMetricsMismatch",
  "rdpmcMetrics",
];

const NO_FEATURES: CodeStateFeatures = {
  mediatedPmu: false,
  fixedCounter3: false,
  perfMetricsCap: false,
  perfMetricsMsr: false,
  globalCtrlPerfMetricsBit: false,
  perfMetricsPassThrough: false,
  perfMetricsSwitch: false,
  globalCtrlInterceptOnMetricsMismatch: false,
  rdpmcInterceptOnMetricsMismatch: false,
  rdpmcMetrics: false,
};

/** LEGACY: the perf-backed vPMU only (model.md §1). Also what a vPMU follows before its first refresh. */
export const LEGACY: CodeState = { id: "legacy", label: "LEGACY", ...NO_FEATURES };
/** BASE: upstream mediated vPMU as merged for Linux 7.0: 3 fixed counters, no PERF_METRICS (model.md §1). */
const BASE: CodeState = { ...LEGACY, id: "base", label: "BASE", mediatedPmu: true };
/** V4: BASE + FC3 + "[PATCH V4 3/4] Support PERF_METRICS MSR in mediated vPMU" (model.md §1, §13). */
const V4: CodeState = {
  ...BASE,
  id: "v4",
  label: "V4",
  fixedCounter3: true,
  perfMetricsCap: true,
  perfMetricsMsr: true,
  globalCtrlPerfMetricsBit: true,
  perfMetricsPassThrough: true,
  perfMetricsSwitch: true,
};
/** FIX: V4 + kvm_need_perf_metrics_intercept in the RDPMC and global-control decisions, and the RDPMC
 *  metrics read, as agreed in review (ZideChen0/linux-kernel pmu.c @93813402; model.md §1, §14). */
const FIX: CodeState = {
  ...V4,
  id: "fix",
  label: "FIX",
  globalCtrlInterceptOnMetricsMismatch: true,
  rdpmcInterceptOnMetricsMismatch: true,
  rdpmcMetrics: true,
};

/** The built-in code states, one row each. */
export const CODE_STATES: readonly CodeState[] = [LEGACY, BASE, V4, FIX];

/** The built-in code state named `id` ("legacy", "base", "v4", "fix"), or undefined. */
export function findCodeState(id: string): CodeState | undefined {
  return CODE_STATES.find((c) => c.id === id);
}

/** A code state named `id` from `base` with some predicates changed (a policy file's "features"). */
export function deriveCodeState(id: string, base: CodeState, features: Partial<CodeStateFeatures>): CodeState {
  return { ...base, ...features, id, label: id.toUpperCase() };
}
