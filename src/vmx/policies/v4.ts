/**
 * V4: BASE + FC3 + "[PATCH V4 3/4] Support PERF_METRICS MSR in mediated vPMU" (spec §1, §13, P-4):
 * 0x329 passes through iff mediated and guest caps bit 15; R-INT-3/R-INT-5 unchanged (P-11) — the §14 leak.
 */
import type { InterceptPolicy } from "./policy.js";
import { kernelPlan } from "./kvm-recalc.js";

export const v4Policy: InterceptPolicy = {
  id: "v4",
  codeState: "v4",
  plan: (input) => kernelPlan("v4", "v4", input),
};
