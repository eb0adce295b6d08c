/**
 * FIX: V4 + R-INT-4 (ZideChen0/linux-kernel pmu.c kvm_need_perf_metrics_intercept, spec §14.3): RDPMC and the
 * global MSRs are intercepted when the host has PERF_METRICS and the guest does not.
 */
import type { InterceptPolicy } from "./policy.js";
import { kernelPlan } from "./kvm-recalc.js";

export const fixPolicy: InterceptPolicy = {
  id: "fix",
  codeState: "fix",
  plan: (input) => kernelPlan("fix", "fix", input),
};
