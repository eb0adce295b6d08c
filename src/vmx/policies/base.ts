/**
 * BASE: upstream mediated vPMU as merged for Linux 7.0 (spec §1): counters pass through, control MSRs
 * stay intercepted, KVM exposes at most 3 fixed counters, no PERF_METRICS (R-INT-2, R-INT-3, R-INT-5).
 */
import type { InterceptPolicy } from "./policy.js";
import { kernelPlan } from "./kvm-recalc.js";

export const basePolicy: InterceptPolicy = {
  id: "base",
  codeState: "base",
  plan: (input) => kernelPlan("base", "base", input),
};
