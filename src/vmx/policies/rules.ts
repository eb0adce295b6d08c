/**
 * The intercept rules of model.md §11.6–§11.7 as small named functions that return the *reason*.
 * Facts: pmu.c (kvm_init_pmu_capability, kvm_need_any_pmc_intercept, kvm_need_perf_global_ctrl_intercept,
 * kvm_need_rdpmc_intercept), pmu.h (kvm_vcpu_has_mediated_pmu), FIX tree pmu.c
 * (kvm_need_perf_metrics_intercept), vmx.c (vmx_recalc_pmu_msr_intercepts, vmx_recalc_instruction_intercepts).
 */
import { PERF_CAP_PERF_METRICS } from "../../arch/msr-index.js";
import type { HostPreset } from "../../host/presets.js";
import { hostMediatedPmuUnsupported } from "../../pmu/capability.js";
import type { Decision, GuestPmuView, ModuleParams } from "./policy.js";

const yes = (rule: string): Decision => ({ intercept: true, rule });
const no = (rule: string): Decision => ({ intercept: false, rule });

/**
 * enable_mediated_pmu after module init: off without the mediated vPMU series (R-INT-1), else forced off by
 * R-MED-1 on a host that cannot support it (src/pmu/capability.ts). `intercept: false` here means "mediated on".
 */
export function mediatedPmuEnabled(params: ModuleParams, host: HostPreset): Decision {
  if (!params.enablePmu) return yes("§2: enable_pmu is off (no vPMU: every PMU MSR and RDPMC exits)");
  if (!params.codeState.mediatedPmu || !params.enableMediatedPmu)
    return yes("R-INT-1: enable_mediated_pmu is off (LEGACY perf-backed vPMU)");
  const unsupported = hostMediatedPmuUnsupported(host);
  if (unsupported !== null) return yes(`R-MED-1: ${unsupported}, enable_mediated_pmu forced off`);
  return no(
    `R-MED-1: host ${host.id} supports the mediated vPMU (v${host.pmuVersion}, FW_WRITES, VMX GLOBAL_CTRL controls)`,
  );
}

/** R-MED-2 (pmu.h kvm_vcpu_has_mediated_pmu): enable_mediated_pmu && version != 0. `intercept: false` = mediated. */
export function vcpuHasMediatedPmu(enabled: Decision, guest: GuestPmuView): Decision {
  if (enabled.intercept) return enabled;
  if (guest.version === 0) return yes("R-MED-2: guest PMU version 0, vCPU not mediated");
  return no(`R-MED-2: enable_mediated_pmu on and guest PMU version ${guest.version}`);
}

export function guestHasPerfMetrics(guest: GuestPmuView): boolean {
  return (guest.perfCapabilities & PERF_CAP_PERF_METRICS) !== 0n;
}

/** kvm_need_any_pmc_intercept: guest counter counts differ from the raw host PMU (kvm_host_pmu). */
function countMismatch(guest: GuestPmuView, host: HostPreset): string | null {
  if (guest.nGP !== host.nGP) return `guest nGP ${guest.nGP} ≠ host nGP ${host.nGP}`;
  if (guest.nFX !== host.nFX) return `guest nFX ${guest.nFX} ≠ host nFX ${host.nFX}`;
  return null;
}

/** R-INT-4 (FIX tree kvm_need_perf_metrics_intercept): host has PERF_METRICS and the guest caps lack it. */
export function needPerfMetricsIntercept(guest: GuestPmuView, host: HostPreset): string | null {
  if ((host.perfCapabilities & PERF_CAP_PERF_METRICS) !== 0n && !guestHasPerfMetrics(guest))
    return "R-INT-4: host has PERF_METRICS, guest PERF_CAPABILITIES bit 15 clear";
  return null;
}

/** R-INT-3 (+ R-INT-4 with globalCtrlInterceptOnMetricsMismatch): pass GLOBAL_STATUS/CTRL/OVF_CTRL through (kvm_need_perf_global_ctrl_intercept). */
export function needGlobalCtrlIntercept(
  params: ModuleParams,
  mediated: Decision,
  guest: GuestPmuView,
  host: HostPreset,
): Decision {
  if (mediated.intercept) return mediated;
  if (guest.version < 2) return yes(`R-INT-3: guest PMU version ${guest.version} < 2`);
  const mismatch = countMismatch(guest, host);
  if (mismatch) return yes(`R-INT-3: ${mismatch}`);
  const r4 = params.codeState.globalCtrlInterceptOnMetricsMismatch;
  if (r4) {
    const m = needPerfMetricsIntercept(guest, host);
    if (m) return yes(m);
  }
  return no(
    `R-INT-3: mediated, version ≥ 2, nGP ${guest.nGP} and nFX ${guest.nFX} equal the host's` +
      (r4 ? "; R-INT-4 holds" : ""),
  );
}

/** R-INT-5 (+ R-INT-4 with rdpmcInterceptOnMetricsMismatch): RDPMC exiting off only on an exact match (kvm_need_rdpmc_intercept). */
export function needRdpmcIntercept(
  params: ModuleParams,
  mediated: Decision,
  guest: GuestPmuView,
  host: HostPreset,
): Decision {
  if (params.enableVmwareBackdoor) return yes("R-INT-5: enable_vmware_backdoor forces RDPMC exiting");
  if (mediated.intercept) return mediated;
  const mismatch = countMismatch(guest, host);
  if (mismatch) return yes(`R-INT-5: ${mismatch}`);
  if (guest.wGP !== host.wGP) return yes(`R-INT-5: guest GP width ${guest.wGP} ≠ host GP width ${host.wGP}`);
  if (guest.wFX !== host.wFX) return yes(`R-INT-5: guest fixed width ${guest.wFX} ≠ host fixed width ${host.wFX}`);
  const r4 = params.codeState.rdpmcInterceptOnMetricsMismatch;
  if (r4) {
    const m = needPerfMetricsIntercept(guest, host);
    if (m) return yes(m);
  }
  return no(
    `R-INT-5: mediated, guest counters match the host exactly (${guest.nGP}×${guest.wGP}-bit GP, ${guest.nFX}×${guest.wFX}-bit fixed)` +
      (r4 ? "; R-INT-4 holds" : ""),
  );
}
