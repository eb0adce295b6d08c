/**
 * vmx_recalc_intercepts for the kernel's own code states: the per-MSR decisions of
 * vmx.c vmx_recalc_pmu_msr_intercepts and the RDPMC control of vmx_recalc_instruction_intercepts,
 * following the feature predicates of the instance's code state (model.md §11.6 table, R-INT-1..5, P-4).
 */
import type { Decision, InterceptPlan, InterceptPolicy, MsrIntercept, PmuMsrRef, PolicyInput } from "./policy.js";
import { CODE_STATES, type CodeState } from "../../pmu/code-states.js";
import { PERF_CAP_FW_WRITES } from "../../arch/msr-index.js";
import { kvmMaxFixed, kvmMaxGp } from "../../pmu/capability.js";
import { bitmapFromDecisions, pmuMsrs } from "./policy.js";
import {
  guestHasPerfMetrics,
  mediatedPmuEnabled,
  needGlobalCtrlIntercept,
  needRdpmcIntercept,
  vcpuHasMediatedPmu,
} from "./rules.js";

const yes = (rule: string): Decision => ({ intercept: true, rule });
const no = (rule: string): Decision => ({ intercept: false, rule });

/** The decision for one PMU MSR under a kernel code state (read and write are always decided together:
 *  KVM uses MSR_TYPE_RW for every PMU MSR). */
export function kernelMsrDecision(msr: PmuMsrRef, mediated: Decision, globals: Decision, input: PolicyInput): Decision {
  const { guest } = input;
  if (mediated.intercept) return mediated;
  switch (msr.kind) {
    case "gp-counter":
      return msr.counter < guest.nGP
        ? no(`§11.6: GP counter ${msr.counter} exposed (nGP ${guest.nGP}), mediated pass-through`)
        : yes(`R-INT-2: GP counter ${msr.counter} not exposed (nGP ${guest.nGP}); hardware may hold host values`);
    case "gp-counter-fw":
      if (msr.counter >= guest.nGP)
        return yes(`R-INT-2: GP counter ${msr.counter} not exposed (nGP ${guest.nGP}); hardware may hold host values`);
      return (guest.perfCapabilities & PERF_CAP_FW_WRITES) !== 0n
        ? no(`§11.6: GP counter ${msr.counter} exposed and guest has FW_WRITES, mediated pass-through`)
        : yes("R-VAL-2: guest PERF_CAPABILITIES lacks FW_WRITES (bit 13)");
    case "fixed-counter":
      return msr.counter < guest.nFX
        ? no(`§11.6: fixed counter ${msr.counter} exposed (nFX ${guest.nFX}), mediated pass-through`)
        : yes(`R-INT-2: fixed counter ${msr.counter} not exposed (nFX ${guest.nFX}); hardware may hold host values`);
    case "eventsel":
      return yes("§11.6: selectors always intercepted (event filter, AnyThread)");
    case "fixed-ctrl":
      return yes("§11.6: FIXED_CTR_CTRL always intercepted (event filter, AnyThread)");
    case "global":
      return globals;
    case "global-v4":
      return yes("R-VAL-5: never passed through (KVM's recalc leaves the all-ones default)");
    case "perf-caps":
      return yes("§11.6: PERF_CAPABILITIES always intercepted");
    case "perf-metrics":
      if (!input.params.codeState.perfMetricsPassThrough)
        return yes(`P-4: ${input.params.codeState.label} has no PERF_METRICS support (all-ones default)`);
      return guestHasPerfMetrics(guest)
        ? no("P-4: mediated and guest PERF_CAPABILITIES bit 15 set, pass-through")
        : yes("P-4: guest PERF_CAPABILITIES bit 15 clear");
  }
}

/** The shared front half of every plan: mediated state, KVM limits, the global and RDPMC rules. */
export function kernelPlanParts(input: PolicyInput) {
  const { codeState } = input.params;
  const enabled = mediatedPmuEnabled(input.params, input.host);
  const mediated = vcpuHasMediatedPmu(enabled, input.guest);
  const maxFixed = kvmMaxFixed(input.host, codeState, !enabled.intercept);
  const refs = pmuMsrs(kvmMaxGp(input.host), maxFixed);
  const globals = needGlobalCtrlIntercept(input.params, mediated, input.guest, input.host);
  const rdpmc = needRdpmcIntercept(input.params, mediated, input.guest, input.host);
  const metricsSwitch: Decision =
    mediated.intercept || !codeState.perfMetricsSwitch
      ? yes(mediated.intercept ? mediated.rule : `P-8/P-9: ${codeState.label} does not switch PERF_METRICS`)
      : guestHasPerfMetrics(input.guest)
        ? no("P-8/P-9: guest has PERF_METRICS, load writes and put reads/scrubs 0x329")
        : yes("P-8/P-9: guest PERF_CAPABILITIES bit 15 clear, load/put skip 0x329");
  return { enabled, mediated, maxFixed, refs, globals, rdpmc, metricsSwitch };
}

export function kernelPlan(policy: string, input: PolicyInput): InterceptPlan {
  const p = kernelPlanParts(input);
  const msrs: MsrIntercept[] = p.refs.map((ref) => {
    const d = kernelMsrDecision(ref, p.mediated, p.globals, input);
    return { index: ref.index, name: ref.name, read: d, write: d };
  });
  return {
    policy,
    codeState: input.params.codeState,
    mediatedPmuEnabled: p.enabled,
    vcpuMediated: p.mediated,
    kvmMaxFixed: p.maxFixed,
    msrs,
    rdpmcExiting: p.rdpmc,
    globalCtrlSwitch: p.mediated,
    perfMetricsSwitch: p.metricsSwitch,
    bitmap: bitmapFromDecisions(msrs),
  };
}

/** The kernel's own policy for a code state: vmx_recalc_intercepts with no changes (`--kvm base` …). */
export function kernelPolicy(codeState: CodeState): InterceptPolicy {
  return { id: codeState.id, codeState, plan: (input) => kernelPlan(codeState.id, input) };
}

/** One policy per built-in code state (src/pmu/code-states.ts), in table order. */
export const BUILTIN_POLICIES: readonly InterceptPolicy[] = CODE_STATES.map(kernelPolicy);
