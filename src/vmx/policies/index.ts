/**
 * The named intercept policies (spec §1 code states) and lookup by name; a JSON file policy is
 * parsed by from-file.ts and used the same way.
 */
import type { InterceptPolicy } from "./policy.js";
import { legacyPolicy } from "./legacy.js";
import { basePolicy } from "./base.js";
import { v4Policy } from "./v4.js";
import { fixPolicy } from "./fix.js";

export const BUILTIN_POLICIES: readonly InterceptPolicy[] = [legacyPolicy, basePolicy, v4Policy, fixPolicy];

export function findPolicy(id: string): InterceptPolicy | undefined {
  return BUILTIN_POLICIES.find((p) => p.id === id);
}

export { legacyPolicy, basePolicy, v4Policy, fixPolicy };
export { parsePolicyFile, POLICY_CONDITIONS } from "./from-file.js";
export type { PolicyFile, PolicyParse } from "./from-file.js";
export * from "./policy.js";
export {
  needRdpmcIntercept,
  needGlobalCtrlIntercept,
  needPerfMetricsIntercept,
  mediatedPmuEnabled,
  vcpuHasMediatedPmu,
  kvmMaxFixed,
  kvmMaxGp,
} from "./rules.js";
