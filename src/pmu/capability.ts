/**
 * What KVM may offer a guest PMU on a host, decided once at module init: kvm_pmu_cap and the counter limits
 * (pmu.c kvm_init_pmu_capability), whether the mediated vPMU survives (R-MED-1), and the supported
 * PERF_CAPABILITIES (vmx.c vmx_get_perf_capabilities). Facts: model.md §2, §6.1, §13 (P-1).
 */
import {
  PERF_CAP_FW_WRITES,
  PERF_CAP_LBR_FMT,
  PERF_CAP_PEBS_BASELINE,
  PERF_CAP_PEBS_MASK,
  PERF_CAP_PERF_METRICS,
} from "../arch/msr-index.js";
import type { HostPreset } from "../host/presets.js";
import type { CodeState } from "./code-states.js";
import { KVM_MAX_NR_FIXED_COUNTERS, KVM_MAX_NR_GP_COUNTERS } from "./msrs.js";
import type { PmuCap } from "./pmu.js";

/** Fixed counters KVM supports without the FC3 patch (KVM_MAX_NR_INTEL_FIXED_COUNTERS before it). */
const FIXED_COUNTERS_WITHOUT_FC3 = 3;

/**
 * R-MED-1 (pmu_intel.c intel_pmu_is_mediated_pmu_supported, pmu.c kvm_init_pmu_capability): why this host
 * cannot run the mediated vPMU, or null if it can: PMU v4+, FW_WRITES, the VMX GLOBAL_CTRL load controls
 * and perf's mediated support.
 */
export function hostMediatedPmuUnsupported(host: HostPreset): string | null {
  if (host.pmuVersion < 4) return `host PMU version ${host.pmuVersion} < 4`;
  if ((host.perfCapabilities & PERF_CAP_FW_WRITES) === 0n) return "host PERF_CAPABILITIES lacks FW_WRITES";
  if (!host.vmxLoadPerfGlobalCtrl) return "no VMX load IA32_PERF_GLOBAL_CTRL controls";
  if (!host.perfMediated) return "perf does not support the mediated vPMU";
  return null;
}

/** kvm_pmu_cap.num_counters_gp: the host's GP count clamped to KVM_MAX_NR_INTEL_GP_COUNTERS (§6.1). */
export function kvmMaxGp(host: HostPreset): number {
  return Math.min(host.nGP, KVM_MAX_NR_GP_COUNTERS);
}

/** kvm_pmu_cap.num_counters_fixed: 4 only for a mediated vCPU of a kernel with the FC3 patch, else 3
 *  (R-CPUID-4, P-12), clamped to the host's count. */
export function kvmMaxFixed(host: HostPreset, codeState: CodeState, mediated: boolean): number {
  const limit = codeState.fixedCounter3 && mediated ? KVM_MAX_NR_FIXED_COUNTERS : FIXED_COUNTERS_WITHOUT_FC3;
  return Math.min(host.nFX, limit);
}

/** kvm_pmu_cap (pmu.c kvm_init_pmu_capability): host ∩ KVM limits; version ≤ 2 (model.md §6.1). */
export function kvmPmuCap(host: HostPreset, enablePmu: boolean, codeState: CodeState, mediated: boolean): PmuCap {
  if (!enablePmu) return { version: 0, nGP: 0, wGP: 0, nFX: 0, wFX: 0, eventMaskLength: 0, eventsUnavailable: 0 };
  return {
    version: Math.min(host.pmuVersion, 2),
    nGP: kvmMaxGp(host),
    wGP: host.wGP,
    nFX: kvmMaxFixed(host, codeState, mediated),
    wFX: host.wFX,
    eventMaskLength: host.eventMaskLength,
    eventsUnavailable: host.eventsUnavailable,
  };
}

/**
 * vmx_get_perf_capabilities: FW_WRITES always; the host's LBR format when the host has no architectural LBRs,
 * the vPMU is not mediated (the mediated series offers no LBRs) and perf reports a call-stack-capable LBR
 * stack (x86_perf_get_lbr, has_callstack); the PEBS group (minus baseline, which KVM disallows) if the host
 * supports PEBS-via-EPT and the vPMU is not mediated; PERF_METRICS only when mediated and the kernel has the
 * PERF_METRICS patch (perfMetricsCap, P-1).
 */
export function supportedPerfCapabilities(
  host: HostPreset,
  enablePmu: boolean,
  codeState: CodeState,
  mediated: boolean,
): bigint {
  if (!enablePmu) return 0n;
  let caps = PERF_CAP_FW_WRITES;
  if (!host.archLbr && !mediated && host.lbr?.hasCallstack === true && host.lbr.nr > 0)
    caps |= host.perfCapabilities & PERF_CAP_LBR_FMT;
  if (host.pebs && !mediated) caps |= host.perfCapabilities & PERF_CAP_PEBS_MASK & ~PERF_CAP_PEBS_BASELINE;
  if (codeState.perfMetricsCap && mediated) caps |= host.perfCapabilities & PERF_CAP_PERF_METRICS;
  return caps;
}
