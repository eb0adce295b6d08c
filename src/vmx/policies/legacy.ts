/**
 * LEGACY: the perf-backed vPMU. enable_mediated_pmu off, so vmx_recalc_pmu_msr_intercepts returns early
 * and every PMU MSR and RDPMC exits (R-INT-1; spec §1, §8.2, §11.6).
 */
import type { InterceptPolicy } from "./policy.js";
import { kernelPlan } from "./kvm-recalc.js";

export const legacyPolicy: InterceptPolicy = {
  id: "legacy",
  codeState: "legacy",
  plan: (input) => kernelPlan("legacy", "legacy", input),
};
