/**
 * The intercept rules of spec §11.6–§11.7 as small named functions that return the *reason*.
 * Facts: pmu.c (kvm_init_pmu_capability, kvm_need_any_pmc_intercept, kvm_need_perf_global_ctrl_intercept,
 * kvm_need_rdpmc_intercept), pmu.h (kvm_vcpu_has_mediated_pmu), FIX tree pmu.c
 * (kvm_need_perf_metrics_intercept), vmx.c (vmx_recalc_pmu_msr_intercepts, vmx_recalc_instruction_intercepts).
 */
import {
  PERF_CAP_FW_WRITES as HOST_FW_WRITES,
  PERF_CAP_PERF_METRICS as HOST_PERF_METRICS,
} from "../../arch/msr-index.js";
import type { HostPreset } from "../../host/presets.js";
import type { CodeState, Decision, GuestPmuView, ModuleParams } from "./policy.js";
import { PERF_CAP_PERF_METRICS } from "./policy.js";
import { KVM_MAX_NR_GP_COUNTERS } from "../../pmu/msrs.js";
import { kvmMaxFixed as kvmFixedLimit } from "../../pmu/intel.js";

const yes = (rule: string): Decision => ({ intercept: true, rule });
const no = (rule: string): Decision => ({ intercept: false, rule });

/**
 * R-MED-1: enable_mediated_pmu survives module init only on a host with PMU v4+, FW_WRITES, the VMX
 * GLOBAL_CTRL load controls and perf's mediated support (pmu_intel.c intel_pmu_is_mediated_pmu_supported).
 * `intercept: false` here means "mediated on".
 */
export function mediatedPmuEnabled(params: ModuleParams, host: HostPreset, codeState: CodeState): Decision {
  if (!params.enablePmu) return yes("§2: enable_pmu is off (no vPMU: every PMU MSR and RDPMC exits)");
  if (codeState === "legacy" || !params.enableMediatedPmu)
    return yes("R-INT-1: enable_mediated_pmu is off (LEGACY perf-backed vPMU)");
  if (host.pmuVersion < 4)
    return yes(`R-MED-1: host PMU version ${host.pmuVersion} < 4, enable_mediated_pmu forced off`);
  if ((host.perfCapabilities & HOST_FW_WRITES) === 0n)
    return yes("R-MED-1: host PERF_CAPABILITIES lacks FW_WRITES, enable_mediated_pmu forced off");
  if (!host.vmxLoadPerfGlobalCtrl)
    return yes("R-MED-1: CPU lacks the VMX load IA32_PERF_GLOBAL_CTRL controls, enable_mediated_pmu forced off");
  if (!host.perfMediated) return yes("R-MED-1: perf reports no mediated vPMU support, enable_mediated_pmu forced off");
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

/** kvm_pmu_cap.num_counters_gp: host GP count clamped to KVM_MAX_NR_INTEL_GP_COUNTERS (§6.1). */
export function kvmMaxGp(host: HostPreset): number {
  return Math.min(host.nGP, KVM_MAX_NR_GP_COUNTERS);
}

/** kvm_pmu_cap.num_counters_fixed: 3 in LEGACY/BASE; 4 in V4/FIX when mediated (R-CPUID-4, FC3 patch). */
export function kvmMaxFixed(host: HostPreset, codeState: CodeState, mediatedOn: boolean): number {
  return Math.min(host.nFX, kvmFixedLimit(codeState, mediatedOn));
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
  if ((host.perfCapabilities & HOST_PERF_METRICS) !== 0n && !guestHasPerfMetrics(guest))
    return "R-INT-4: host has PERF_METRICS, guest PERF_CAPABILITIES bit 15 clear";
  return null;
}

/** R-INT-3 (+ R-INT-4 under FIX): pass GLOBAL_STATUS/CTRL/OVF_CTRL through (kvm_need_perf_global_ctrl_intercept). */
export function needGlobalCtrlIntercept(
  codeState: CodeState,
  mediated: Decision,
  guest: GuestPmuView,
  host: HostPreset,
): Decision {
  if (mediated.intercept) return mediated;
  if (guest.version < 2) return yes(`R-INT-3: guest PMU version ${guest.version} < 2`);
  const mismatch = countMismatch(guest, host);
  if (mismatch) return yes(`R-INT-3: ${mismatch}`);
  if (codeState === "fix") {
    const m = needPerfMetricsIntercept(guest, host);
    if (m) return yes(m);
  }
  return no(
    `R-INT-3: mediated, version ≥ 2, nGP ${guest.nGP} and nFX ${guest.nFX} equal the host's` +
      (codeState === "fix" ? "; R-INT-4 holds" : ""),
  );
}

/** R-INT-5 (+ R-INT-4 under FIX): RDPMC exiting off only on an exact match (kvm_need_rdpmc_intercept). */
export function needRdpmcIntercept(
  codeState: CodeState,
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
  if (codeState === "fix") {
    const m = needPerfMetricsIntercept(guest, host);
    if (m) return yes(m);
  }
  return no(
    `R-INT-5: mediated, guest counters match the host exactly (${guest.nGP}×${guest.wGP}-bit GP, ${guest.nFX}×${guest.wFX}-bit fixed)` +
      (codeState === "fix" ? "; R-INT-4 holds" : ""),
  );
}
