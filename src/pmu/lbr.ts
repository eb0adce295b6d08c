/**
 * Guest LBRs in the legacy (perf-backed) vPMU: which LBR MSRs a vCPU has (lbr_desc->records from
 * x86_perf_get_lbr at refresh, pmu_intel.c intel_pmu_refresh / intel_pmu_is_valid_lbr_msr), their accesses
 * (intel_pmu_handle_lbr_msrs_access: the hardware LBR MSRs, which hold the guest's records while KVM's vLBR
 * perf event owns them), the DEBUGCTL bits KVM lets through (vmx.c vmx_get_supported_debugctl,
 * vmx_is_valid_debugctl) and the freeze-on-PMI emulation (intel_pmu_deliver_pmi). The hardware LBR stack is
 * the guest CPU's (src/isa/lbr.ts). The mediated vPMU and hosts with architectural LBRs get none of this:
 * vmx_get_perf_capabilities offers no LBR format there (capability.ts).
 */
import { MSR_LBR_SELECT, MSR_LBR_TOS } from "../arch/msr-index.js";
import { NO_LBR, type HostLbr } from "../host/presets.js";
import { LBR_INFO_MISPRED, LBR_SEL_MASK, type LastBranchRecords } from "../isa/lbr.js";
import { MSR_FAIL, MSR_OK, type KvmPmu, type MsrData, type MsrRet } from "./pmu.js";

/** IA32_DEBUGCTL bits (msr-index.h DEBUGCTLMSR_*). */
export const DEBUGCTLMSR_LBR = 1n << 0n;
export const DEBUGCTLMSR_BTF = 1n << 1n;
export const DEBUGCTLMSR_FREEZE_LBRS_ON_PMI = 1n << 11n;
export const DEBUGCTLMSR_BUS_LOCK_DETECT = 1n << 2n;
export const DEBUGCTLMSR_RTM_DEBUG = 1n << 15n;

/** intel_pmu_lbr_is_enabled: the vCPU has LBR records (refresh found a format and a consistent CPUID model). */
export function lbrIsEnabled(pmu: KvmPmu): boolean {
  return pmu.lbrRecords.nr > 0;
}

/** intel_pmu_refresh's LBR step: the host's records when the guest caps carries an LBR format and the guest
 *  CPUID model is the host's (cpuid_model_is_consistent), else none. The hardware stack starts cleared. */
export function refreshLbr(pmu: KvmPmu, caps: bigint, host: HostLbr | null, modelConsistent: boolean): void {
  pmu.lbrRecords = modelConsistent && (caps & 0x3fn) !== 0n && host !== null ? host : NO_LBR;
  pmu.lbrStack.configure(pmu.lbrRecords.nr);
}

/** intel_pmu_is_valid_lbr_msr: LBR_SELECT, LBR_TOS, and nr FROM, TO and (when present) INFO MSRs. */
export function isValidLbrMsr(pmu: KvmPmu, index: number): boolean {
  const r = pmu.lbrRecords;
  if (r.nr === 0) return false;
  if (index === MSR_LBR_SELECT || index === MSR_LBR_TOS) return true;
  if ((index >= r.from && index < r.from + r.nr) || (index >= r.to && index < r.to + r.nr)) return true;
  return r.info !== 0 && index >= r.info && index < r.info + r.nr;
}

/** A FROM/TO entry as the MSR reads it: the linear address, sign-extended to 64 bits. */
const addr64 = (a: number): bigint => BigInt.asUintN(64, BigInt(a));

/**
 * intel_pmu_handle_lbr_msrs_access, read (the vLBR event is always active in the model: no host perf user
 * competes for the LBRs, so the read reaches the hardware MSR and never the "return 0" path).
 */
export function getLbrMsr(pmu: KvmPmu, index: number, out: MsrData): MsrRet {
  const s = pmu.lbrStack;
  const r = pmu.lbrRecords;
  if (index === MSR_LBR_SELECT) out.data = BigInt(s.select);
  else if (index === MSR_LBR_TOS) out.data = BigInt(s.tos);
  else if (index >= r.from && index < r.from + r.nr) out.data = addr64(s.from[index - r.from]);
  else if (index >= r.to && index < r.to + r.nr) out.data = addr64(s.to[index - r.to]);
  else out.data = s.mispred[index - r.info] !== 0 ? LBR_INFO_MISPRED : 0n;
  return MSR_OK;
}

function canonical(v: bigint): boolean {
  const top = v >> 47n;
  return top === 0n || top === 0x1ffffn;
}

/**
 * intel_pmu_handle_lbr_msrs_access, write: the value goes to the hardware MSR, so the processor's own checks
 * apply (a #GP for bits LBR_SELECT does not implement, a TOS beyond the depth, a non-canonical FROM/TO
 * address). LBR_INFO keeps only MISPRED (bit 63): the model has no cycle counts or TSX flags to hold.
 */
export function setLbrMsr(pmu: KvmPmu, index: number, data: bigint): MsrRet {
  const s = pmu.lbrStack;
  const r = pmu.lbrRecords;
  if (index === MSR_LBR_SELECT) {
    if ((data & ~BigInt(LBR_SEL_MASK)) !== 0n) return MSR_FAIL;
    s.select = Number(data);
  } else if (index === MSR_LBR_TOS) {
    if (data >= BigInt(r.nr)) return MSR_FAIL;
    s.tos = Number(data);
  } else if (index >= r.from && index < r.from + r.nr) {
    if (!canonical(data)) return MSR_FAIL;
    s.from[index - r.from] = Number(BigInt.asIntN(64, data));
  } else if (index >= r.to && index < r.to + r.nr) {
    if (!canonical(data)) return MSR_FAIL;
    s.to[index - r.to] = Number(BigInt.asIntN(64, data));
  } else {
    s.mispred[index - r.info] = (data & LBR_INFO_MISPRED) !== 0n ? 1 : 0;
  }
  return MSR_OK;
}

/** The CPU features vmx_get_supported_debugctl asks about besides the LBRs: boot_cpu_has(X86_FEATURE_RTM)
 *  and the guest's CPUID.7.0:EBX.RTM. X86_FEATURE_BUS_LOCK_DETECT is in no preset (not modelled), so
 *  DEBUGCTL.BUS_LOCK_DETECT is never supported — as on a host without it. */
export interface DebugctlFeatures {
  readonly hostRtm: boolean;
  readonly guestRtm: boolean;
}

/**
 * vmx_get_supported_debugctl: LBR and FREEZE_LBRS_ON_PMI when KVM's supported caps has an LBR format and the
 * write is the host's or the vCPU has LBRs (intel_pmu_lbr_is_enabled); RTM_DEBUG when the host has RTM and
 * the write is the host's or the guest's CPUID has RTM ("KVM: VMX: Allow guest to set DEBUGCTL.RTM_DEBUG if
 * RTM is supported"); BUS_LOCK_DETECT likewise with X86_FEATURE_BUS_LOCK_DETECT, which no preset has.
 */
export function supportedDebugctl(
  pmu: KvmPmu,
  supportedCaps: bigint,
  hostInitiated: boolean,
  f: DebugctlFeatures,
): bigint {
  let v = 0n;
  if ((supportedCaps & 0x3fn) !== 0n && (hostInitiated || lbrIsEnabled(pmu)))
    v |= DEBUGCTLMSR_LBR | DEBUGCTLMSR_FREEZE_LBRS_ON_PMI;
  if (f.hostRtm && (hostInitiated || f.guestRtm)) v |= DEBUGCTLMSR_RTM_DEBUG;
  return v;
}

/**
 * vmx_is_valid_debugctl + vmx_set_msr(MSR_IA32_DEBUGCTLMSR): bits outside the supported set are a #GP except
 * BTF and LBR, which are dropped silently (kvm_pr_unimpl_wrmsr); the rest is kept. Returns the value the VMCS
 * guest field holds, or null for #GP.
 */
export function debugctlWrite(
  pmu: KvmPmu,
  supportedCaps: bigint,
  data: bigint,
  hostInitiated: boolean,
  f: DebugctlFeatures,
): bigint | null {
  const supported = supportedDebugctl(pmu, supportedCaps, hostInitiated, f);
  const invalid = data & ~supported & ~(DEBUGCTLMSR_BTF | DEBUGCTLMSR_LBR);
  if (invalid !== 0n) return null;
  return data & supported;
}

/** The hardware records guest branches while the guest's DEBUGCTL.LBR is set and the vCPU has LBRs (its
 *  records are the hardware's while the vLBR event runs). */
export function applyDebugctl(pmu: KvmPmu, stack: LastBranchRecords, debugctl: bigint): void {
  stack.on = lbrIsEnabled(pmu) && (debugctl & DEBUGCTLMSR_LBR) !== 0n;
}

/**
 * intel_pmu_deliver_pmi: for a vCPU with LBRs and PMU version 2 or 3, "freeze LBRs on PMI" is emulated by
 * clearing DEBUGCTL.LBR when FREEZE_LBRS_ON_PMI is set (intel_pmu_legacy_freezing_lbrs_on_pmi); the guest
 * sets LBR again to resume. Version 1 and 4+ guests get nothing. Returns the guest DEBUGCTL afterwards.
 */
export function lbrDeliverPmi(pmu: KvmPmu, debugctl: bigint): bigint {
  if (!lbrIsEnabled(pmu) || pmu.version <= 1 || pmu.version >= 4) return debugctl;
  return (debugctl & DEBUGCTLMSR_FREEZE_LBRS_ON_PMI) !== 0n ? debugctl & ~DEBUGCTLMSR_LBR : debugctl;
}

/** What `vpmu explain` says about the vCPU's LBRs, with the kernel's reason when it has none. */
export function lbrSummary(pmu: KvmPmu, host: HostLbr | null, archLbr: boolean, mediated: boolean): string {
  const r = pmu.lbrRecords;
  const hex = (n: number): string => "0x" + n.toString(16).toUpperCase();
  if (r.nr > 0)
    return `${r.nr} entries: FROM ${hex(r.from)}, TO ${hex(r.to)}${r.info ? `, INFO ${hex(r.info)}` : ""}, LBR_SELECT, TOS (legacy vPMU; DEBUGCTL.LBR records, FREEZE_LBRS_ON_PMI emulated for v2/v3)`;
  if (archLbr)
    return "none: the host has architectural LBRs, which KVM does not virtualize (vmx_get_perf_capabilities)";
  if (mediated) return "none: the mediated vPMU offers no LBRs (vmx_get_perf_capabilities)";
  if (host === null || pmu.version === 0) return "none (no host LBRs or no vPMU)";
  if ((pmu.perfCapabilities & 0x3fn) === 0n) return "none: PERF_CAPABILITIES has no LBR format";
  return "none: guest CPUID model differs from the host's (cpuid_model_is_consistent)";
}
