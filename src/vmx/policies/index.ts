/**
 * The intercept policies: one per kernel code state (src/pmu/code-states.ts) and lookup by name; a JSON file
 * policy is parsed by from-file.ts and used the same way.
 */
import { LEGACY } from "../../pmu/code-states.js";
import type { InterceptPolicy } from "./policy.js";
import { BUILTIN_POLICIES, kernelPolicy } from "./kvm-recalc.js";

export function findPolicy(id: string): InterceptPolicy | undefined {
  return BUILTIN_POLICIES.find((p) => p.id === id);
}

/** The LEGACY kernel's policy: what a machine without the mediated vPMU runs (R-INT-1). */
export const legacyPolicy: InterceptPolicy = kernelPolicy(LEGACY);

export { BUILTIN_POLICIES, kernelPolicy };
export { parsePolicyFile, POLICY_CONDITIONS } from "./from-file.js";
export type { PolicyFile, PolicyParse } from "./from-file.js";
export * from "./policy.js";
export {
  needRdpmcIntercept,
  needGlobalCtrlIntercept,
  needPerfMetricsIntercept,
  mediatedPmuEnabled,
  vcpuHasMediatedPmu,
} from "./rules.js";
export { kvmMaxFixed, kvmMaxGp } from "../../pmu/capability.js";
