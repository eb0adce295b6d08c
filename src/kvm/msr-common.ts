/**
 * KVM's MSR emulation common to every vendor: kvm_get_msr_common / kvm_set_msr_common (x86.c) for the MSRs the
 * model has, the PMU ones through kvm_pmu_get_msr/kvm_pmu_set_msr, and the save list (kvm_probe_msr_to_save).
 * Facts: model.md §5, §6.5 (R-CFG-1..7), §7 (R-VAL-8/9, R-WR-12..14); x86.c, msrs.c.
 */
import {
  CPUID_1_ECX_DTES64,
  CPUID_1_EDX_DS,
  CPUID_7_EBX_RTM,
  CPUID_80000001_EDX_LM,
  CPUID_80000001_EDX_NX,
} from "../arch/cpuid.js";
import {
  PERF_CAP_LBR_FMT,
  PERF_CAP_PEBS_BASELINE,
  PERF_CAP_PEBS_FORMAT,
  PERF_CAP_PEBS_MASK,
  PERF_CAP_PERF_METRICS,
  MSR_IA32_MISC_ENABLE_BTS_UNAVAIL,
  MSR_IA32_MISC_ENABLE_EMON,
  MSR_IA32_MISC_ENABLE_PEBS_UNAVAIL,
  PRED_CMD_IBPB,
  MSR_CORE_PERF_FIXED_CTR0,
  MSR_CORE_PERF_FIXED_CTR_CTRL,
  MSR_CORE_PERF_GLOBAL_CTRL,
  MSR_CORE_PERF_GLOBAL_STATUS,
  MSR_IA32_APICBASE,
  MSR_IA32_DEBUGCTLMSR,
  MSR_IA32_DS_AREA,
  MSR_IA32_EVNTSEL0,
  MSR_IA32_MISC_ENABLE,
  MSR_IA32_PEBS_ENABLE,
  MSR_IA32_PERF_CAPABILITIES,
  MSR_IA32_PERFCTR0,
  MSR_IA32_PRED_CMD,
  MSR_IA32_TSC,
  MSR_TSC_AUX,
  MSR_EFER,
  EFER_LMA,
  EFER_LME,
  EFER_NX,
  EFER_SCE,
  MSR_PEBS_DATA_CFG,
  MSR_PERF_METRICS,
} from "../arch/msr-index.js";
import { MSR_IA32_TSC_DEADLINE } from "../arch/apicdef.js";
import { KVM_MAX_NR_GP_COUNTERS } from "../pmu/msrs.js";
import { debugctlWrite } from "../pmu/lbr.js";
import { KVM_MSR_RET_UNSUPPORTED, MSR_FAIL, MSR_OK, type MsrData, type MsrRet } from "../pmu/pmu.js";
import type { Kvm } from "./kvm.js";
import type { Vcpu } from "./vcpu.js";

/** The MSRs the local APIC owns: IA32_APIC_BASE, IA32_TSC_DEADLINE and the x2APIC range. */
function isLapicMsr(index: number): boolean {
  return index === MSR_IA32_APICBASE || index === MSR_IA32_TSC_DEADLINE || (index >= 0x800 && index <= 0x8ff);
}

/** kvm_get_msr_common + vmx_get_msr for the MSRs the model has; the value goes to out.data. */
export function getMsrCommon(vcpu: Vcpu, index: number, host: boolean, out: MsrData): MsrRet {
  switch (index) {
    case MSR_IA32_PERF_CAPABILITIES:
      if (!vcpu.guestHasPdcm()) return KVM_MSR_RET_UNSUPPORTED; // R-CFG-1/7, R-RD-7
      out.data = vcpu.perfCapabilities;
      return MSR_OK;
    case MSR_IA32_MISC_ENABLE:
      out.data = vcpu.miscEnable;
      return MSR_OK;
    case MSR_IA32_DEBUGCTLMSR:
      out.data = vcpu.debugctl;
      return MSR_OK;
    case MSR_IA32_TSC:
      out.data = vcpu.readTsc();
      return MSR_OK;
    case MSR_TSC_AUX:
      out.data = vcpu.tscAux;
      return MSR_OK;
    case MSR_EFER:
      out.data = BigInt(vcpu.cpu?.efer ?? 0); // vcpu->arch.efer: the guest CPU's EFER
      return MSR_OK;
    case MSR_IA32_PRED_CMD:
      return KVM_MSR_RET_UNSUPPORTED; // write-only
    case MSR_IA32_PERFCTR0:
    case MSR_IA32_PERFCTR0 + 1:
    case MSR_IA32_EVNTSEL0:
    case MSR_IA32_EVNTSEL0 + 1:
      // R-VAL-8 P6 exemption: reads of a non-existent counter/selector return 0.
      if (vcpu.pmu.isValidMsr(index)) return vcpu.pmu.getMsr(index, host, out);
      out.data = 0n;
      return MSR_OK;
  }
  if (isLapicMsr(index)) {
    const r = vcpu.lapic.readMsr(index);
    if (!r.ok) return MSR_FAIL;
    out.data = r.value;
    return MSR_OK;
  }
  if (vcpu.pmu.isValidMsr(index)) return vcpu.pmu.getMsr(index, host, out);
  return KVM_MSR_RET_UNSUPPORTED; // R-VAL-9, ignore_msrs off
}

/** kvm_set_msr_common + vmx_set_msr for the MSRs the model has. */
export function setMsrCommon(vcpu: Vcpu, index: number, data: bigint, host: boolean): MsrRet {
  switch (index) {
    case MSR_IA32_PERF_CAPABILITIES:
      return setPerfCapabilities(vcpu, data, host);
    case MSR_IA32_MISC_ENABLE: {
      const old = vcpu.miscEnable;
      if (!host) {
        // R-WR-14: BTS/PEBS-unavailable are read-only; EMON keeps its value silently.
        if (((old ^ data) & (MSR_IA32_MISC_ENABLE_BTS_UNAVAIL | MSR_IA32_MISC_ENABLE_PEBS_UNAVAIL)) !== 0n)
          return MSR_FAIL;
        data = (data & ~MSR_IA32_MISC_ENABLE_EMON) | (old & MSR_IA32_MISC_ENABLE_EMON);
      }
      vcpu.miscEnable = data;
      return MSR_OK;
    }
    case MSR_IA32_DEBUGCTLMSR: {
      // R-WR-13 (vmx_is_valid_debugctl, vmx_get_supported_debugctl): LBR and FREEZE_LBRS_ON_PMI only with
      // guest LBRs (or from the host when KVM offers LBRs); BTF and an unsupported LBR dropped, others #GP.
      const rtm = { hostRtm: vcpu.kvm.hostHas("rtm"), guestRtm: (vcpu.leaf(7).ebx & CPUID_7_EBX_RTM) !== 0 };
      const v = debugctlWrite(vcpu.pmu, vcpu.kvm.supportedPerfCapabilities(), data, host, rtm);
      if (v === null) return MSR_FAIL;
      vcpu.setDebugctl(v);
      return MSR_OK;
    }
    case MSR_IA32_TSC:
      vcpu.tscOffset = BigInt.asUintN(64, data - vcpu.rawTsc());
      return MSR_OK;
    case MSR_TSC_AUX:
      if (data >> 32n !== 0n) return MSR_FAIL;
      vcpu.tscAux = data;
      return MSR_OK;
    case MSR_EFER:
      return setEfer(vcpu, data, host);
    case MSR_IA32_PRED_CMD:
      if (!host && !vcpu.guestHasPredCmd()) return MSR_FAIL;
      if ((data & ~PRED_CMD_IBPB) !== 0n) return MSR_FAIL;
      if (data !== 0n) vcpu.cpu?.resetBranchPredictor?.();
      return MSR_OK;
    case MSR_IA32_PERFCTR0:
    case MSR_IA32_PERFCTR0 + 1:
    case MSR_IA32_EVNTSEL0:
    case MSR_IA32_EVNTSEL0 + 1:
      // R-VAL-8 P6 exemption: writes to a non-existent counter/selector are discarded.
      return vcpu.pmu.isValidMsr(index) ? vcpu.pmu.setMsr(index, data, host) : MSR_OK;
  }
  if (isLapicMsr(index)) return vcpu.lapic.writeMsr(index, data, host) ? MSR_OK : MSR_FAIL;
  if (vcpu.pmu.isValidMsr(index)) return vcpu.pmu.setMsr(index, data, host);
  return KVM_MSR_RET_UNSUPPORTED;
}

/** efer_reserved_bits once kvm_enable_efer_bits(EFER_NX) ran (the host has NX): SCE, LME, LMA, NX allowed. */
const EFER_RESERVED_BITS = ~BigInt(EFER_SCE | EFER_LME | EFER_LMA | EFER_NX);

/** set_efer (x86.c): reserved bits; for the guest, __kvm_valid_efer (LME/LMA need CPUID LM, NX needs
 *  CPUID NX — an exact 0x80000001 entry, kvm_find_cpuid_entry) and no LME change while paging; LMA stays
 *  KVM's; then vmx_set_efer, which in the model loads the CPU's EFER (isa/control.ts loadEfer). */
function setEfer(vcpu: Vcpu, data: bigint, host: boolean): MsrRet {
  const c = vcpu.cpu;
  if (c === null || (data & EFER_RESERVED_BITS) !== 0n) return MSR_FAIL;
  const efer = Number(data);
  if (!host) {
    const ext = vcpu.cpuidTable.find((e) => e.function === 0x80000001)?.edx ?? 0;
    if (efer & (EFER_LME | EFER_LMA) && !(ext & CPUID_80000001_EDX_LM)) return MSR_FAIL;
    if (efer & EFER_NX && !(ext & CPUID_80000001_EDX_NX)) return MSR_FAIL;
    if ((c.cr0 & 0x80000000) !== 0 && ((c.efer ^ efer) & EFER_LME) !== 0) return MSR_FAIL; // is_paging
  }
  c.loadEfer((efer & ~EFER_LMA) | (c.efer & EFER_LMA));
  return MSR_OK;
}

/** kvm_set_msr_common + vmx_set_msr for PERF_CAPABILITIES (§6.5 R-CFG-1..6). */
function setPerfCapabilities(vcpu: Vcpu, data: bigint, host: boolean): MsrRet {
  if (!host) return MSR_FAIL; // R-WR-12
  if (!vcpu.guestHasPdcm()) return data === 0n ? MSR_OK : MSR_FAIL; // R-CFG-1
  const supported = vcpu.kvm.supportedPerfCapabilities();
  // R-CFG-3: an LBR format must be the host's, with the host's CPUID model (cpuid_model_is_consistent).
  if ((data & PERF_CAP_LBR_FMT) !== 0n) {
    if ((data & PERF_CAP_LBR_FMT) !== (supported & PERF_CAP_LBR_FMT)) return MSR_FAIL;
    if (!vcpu.cpuidModelConsistent()) return MSR_FAIL;
  }
  if ((data & PERF_CAP_PEBS_FORMAT) !== 0n) {
    // R-CFG-3: the whole PEBS group, and guest DS + DTES64.
    if ((data & PERF_CAP_PEBS_MASK) !== (supported & PERF_CAP_PEBS_MASK)) return MSR_FAIL;
    const l1 = vcpu.leaf(1);
    if ((l1.edx & CPUID_1_EDX_DS) === 0 || (l1.ecx & CPUID_1_ECX_DTES64) === 0) return MSR_FAIL;
  }
  if ((data & ~supported) !== 0n) return MSR_FAIL; // R-CFG-2
  if (data === vcpu.perfCapabilities) return MSR_OK; // R-CFG-5
  vcpu.perfCapabilities = data;
  vcpu.refreshPmu();
  return MSR_OK;
}

/** kvm_is_advertised_msr: KVM's save/emulated list after probing (model.md §7.6). */
export function isAdvertisedMsr(kvm: Kvm, index: number): boolean {
  return msrsToSave(kvm).includes(index);
}

/**
 * KVM_GET_MSR_INDEX_LIST as the model has it (msrs.c kvm_init_msr_lists, model.md §7.6): what a host may read
 * as 0 / write 0 when the vCPU lacks it (kvm_do_msr_access). The PMU part is msrs_to_save_pmu in its order,
 * each kept by kvm_probe_msr_to_save — skipped entirely with enable_pmu off; fixed counters, counters and
 * selectors as kvm_pmu_cap has them; FIXED_CTR_CTRL, GLOBAL_STATUS, GLOBAL_CTRL when the host can read them
 * (PMU v2+); PEBS_ENABLE and DS_AREA when the host has PEBS and PEBS_DATA_CFG when it has PEBS baseline
 * (rdmsr_safe succeeds), whether or not guests get PEBS — mediated included. GLOBAL_OVF_CTRL is not in the
 * list, so a host read of it on a v1 vCPU fails. MSR_PERF_METRICS joins when the supported caps has bit 15
 * (P-10). The rest are emulated_msrs / msrs_to_save_base entries the model has.
 */
export function msrsToSave(kvm: Kvm): number[] {
  const out: number[] = [MSR_IA32_PERF_CAPABILITIES, MSR_IA32_TSC, MSR_IA32_MISC_ENABLE, MSR_IA32_APICBASE];
  if (!kvm.params.enablePmu) return out;
  const cap = kvm.pmuCap();
  const host = kvm.host;
  for (let i = 0; i < cap.nFX; i++) out.push(MSR_CORE_PERF_FIXED_CTR0 + i);
  if (host.pmuVersion >= 2)
    out.push(MSR_CORE_PERF_FIXED_CTR_CTRL, MSR_CORE_PERF_GLOBAL_STATUS, MSR_CORE_PERF_GLOBAL_CTRL);
  if ((host.perfCapabilities & PERF_CAP_PEBS_FORMAT) !== 0n) out.push(MSR_IA32_PEBS_ENABLE, MSR_IA32_DS_AREA);
  if ((host.perfCapabilities & PERF_CAP_PEBS_BASELINE) !== 0n) out.push(MSR_PEBS_DATA_CFG);
  const nGP = Math.min(cap.nGP, KVM_MAX_NR_GP_COUNTERS);
  for (let i = 0; i < nGP; i++) out.push(MSR_IA32_PERFCTR0 + i);
  for (let i = 0; i < nGP; i++) out.push(MSR_IA32_EVNTSEL0 + i);
  if ((kvm.supportedPerfCapabilities() & PERF_CAP_PERF_METRICS) !== 0n) out.push(MSR_PERF_METRICS); // P-10
  return out;
}
