/**
 * The Intel vendor half of the vPMU (arch/x86/kvm/vmx/pmu_intel.c): refresh from CPUID 0xA and
 * PERF_CAPABILITIES, MSR validity, get/set of every PMU MSR, RDPMC ECX decoding, and the supported
 * PERF_CAPABILITIES (vmx.c vmx_get_perf_capabilities). Facts: model.md §3, §5, §6, §7, §9, §13.
 */
import {
  PERF_CAP_FW_WRITES,
  PERF_CAP_PEBS_BASELINE,
  PERF_CAP_PEBS_FORMAT,
  PERF_CAP_PERF_METRICS,
  MSR_CORE_PERF_FIXED_CTR0,
  MSR_CORE_PERF_FIXED_CTR_CTRL,
  MSR_CORE_PERF_GLOBAL_CTRL,
  MSR_CORE_PERF_GLOBAL_INUSE,
  MSR_CORE_PERF_GLOBAL_OVF_CTRL,
  MSR_CORE_PERF_GLOBAL_STATUS,
  MSR_CORE_PERF_GLOBAL_STATUS_SET,
  MSR_IA32_DS_AREA,
  MSR_IA32_EVNTSEL0,
  MSR_IA32_PEBS_ENABLE,
  MSR_IA32_PERFCTR0,
  MSR_IA32_PMC0,
  MSR_PEBS_DATA_CFG,
  MSR_PERF_METRICS,
} from "../arch/msr-index.js";
import {
  GLOBAL_CTRL_EN_PERF_METRICS,
  INTEL_PMC_IDX_FIXED,
  ARCH_PERFMON_EVENTSEL_ANY,
  ARCH_PERFMON_EVENTSEL_CMASK,
  ARCH_PERFMON_EVENTSEL_EDGE,
  ARCH_PERFMON_EVENTSEL_EVENT,
  ARCH_PERFMON_EVENTSEL_INV,
  ARCH_PERFMON_EVENTSEL_UMASK,
  GLOBAL_STATUS_BUFFER_OVF,
  GLOBAL_STATUS_COND_CHG,
  HSW_IN_TX,
  HSW_IN_TX_CHECKPOINTED,
  INTEL_RDPMC_FIXED,
  INTEL_RDPMC_GP,
  INTEL_RDPMC_METRICS,
} from "../arch/perf-event.js";
import { kvmPmuCap } from "./capability.js";
import { intelGetMsrHalves } from "./intel-msr-read.js";
import { getLbrMsr, isValidLbrMsr, refreshLbr, setLbrMsr } from "./lbr.js";
import {
  MSR_FAIL,
  MSR_OK,
  type KvmPmu,
  type MsrData,
  type MsrRet,
  type PmuOps,
  type PmuRefreshInput,
  type Pmc,
  type RdpmcFault,
  type RdpmcTarget,
} from "./pmu.js";

export { KVM_MSR_RET_UNSUPPORTED, MSR_FAIL, MSR_OK, type MsrData, type MsrRet } from "./pmu.js";

/** EVNTSEL bit 34 and FIXED_CTR_CTRL bit 32 (+4 per counter): adaptive PEBS (perf_event.h ICL_EVENTSEL_ADAPTIVE,
 *  ICL_FIXED_0_ADAPTIVE); PEBS_DATA_CFG bits 3:0 and 31:24 are what KVM accepts (pebs_data_cfg_rsvd). */
const ICL_EVENTSEL_ADAPTIVE = 1n << 34n;
const ICL_FIXED_0_ADAPTIVE = 1n << 32n;
const PEBS_DATA_CFG_VALID = 0xff00000fn;
const FIXED_BITS = (i: number): bigint => 0xbn << BigInt(4 * i); // OS | USR | PMI (intel_fixed_bits_by_idx)
const ONES = (n: number): bigint => (1n << BigInt(n)) - 1n;

/** kvm_pmu_refresh + intel_pmu_refresh (model.md §6.3 steps 1–7). The caller requests intercept recalculation. */
export function intelPmuRefresh(pmu: KvmPmu, inp: PmuRefreshInput): void {
  pmu.reset();
  pmu.version = 0;
  pmu.nGP = 0;
  pmu.nFX = 0;
  pmu.wGP = 0;
  pmu.wFX = 0;
  pmu.maskGP = 0;
  pmu.maskFX = 0;
  pmu.availableEventTypes = 0;
  pmu.codeState = inp.codeState;
  pmu.eventselRsvd = 0xffffffff00000000n | ARCH_PERFMON_EVENTSEL_ANY;
  pmu.rawEventMask =
    ARCH_PERFMON_EVENTSEL_EVENT |
    ARCH_PERFMON_EVENTSEL_UMASK |
    ARCH_PERFMON_EVENTSEL_EDGE |
    ARCH_PERFMON_EVENTSEL_INV |
    ARCH_PERFMON_EVENTSEL_CMASK;
  pmu.fixedCtrCtrlRsvd = ~0n;
  pmu.globalCtrlRsvd = ~0n;
  pmu.globalStatusRsvd = ~0n;
  pmu.counterRsvd = ~0n;
  pmu.pebsEnableRsvd = ~0n;
  pmu.pebsDataCfgRsvd = ~0n;
  pmu.perfCapabilities = inp.perfCapabilities;
  pmu.mediated = false;
  pmu.perfBacked = true;
  pmu.guestDs = inp.ds;
  pmu.allocate(0, 0);
  refreshLbr(pmu, 0n, null, false); // memset(&lbr_desc->records, 0, ...)
  if (!inp.enablePmu) {
    finish(pmu);
    return;
  }

  const { eax, ebx, edx } = inp.cpuid0a;
  pmu.version = eax & 0xff; // R-CPUID-1: taken as-is
  if (pmu.version === 0) {
    finish(pmu);
    return;
  }
  pmu.mediated = inp.mediatedModule; // R-MED-2
  const cap = inp.cap;
  pmu.nGP = Math.min((eax >>> 8) & 0xff, cap.nGP);
  pmu.wGP = Math.min((eax >>> 16) & 0xff, cap.wGP);
  pmu.maskGP = 2 ** pmu.wGP - 1;
  const len = Math.min((eax >>> 24) & 0xff, cap.eventMaskLength);
  pmu.availableEventTypes = ~ebx & (len >= 32 ? 0xffffffff : (1 << len) - 1);
  if (inp.tsx) {
    pmu.eventselRsvd ^= HSW_IN_TX;
    pmu.rawEventMask |= HSW_IN_TX | HSW_IN_TX_CHECKPOINTED;
  }
  if (pmu.version > 1) {
    pmu.nFX = Math.min(edx & 0x1f, cap.nFX);
    pmu.wFX = Math.min((edx >>> 5) & 0xff, cap.wFX);
    pmu.maskFX = 2 ** pmu.wFX - 1;
    for (let i = 0; i < pmu.nFX; i++) pmu.fixedCtrCtrlRsvd &= ~FIXED_BITS(i);
    pmu.counterRsvd = ~(ONES(pmu.nGP) | (ONES(pmu.nFX) << BigInt(INTEL_PMC_IDX_FIXED)));
    pmu.globalCtrlRsvd = pmu.counterRsvd;
    // P-6 (V4/FIX, globalCtrlPerfMetricsBit): bit 48 stops being reserved iff the guest caps has PERF_METRICS.
    if (inp.codeState.globalCtrlPerfMetricsBit && (inp.perfCapabilities & PERF_CAP_PERF_METRICS) !== 0n)
      pmu.globalCtrlRsvd &= ~(1n << BigInt(GLOBAL_CTRL_EN_PERF_METRICS));
    // intel_pmu_refresh: STATUS has CTRL's layout plus CondChgd (63), and the DS buffer overflow bit (62)
    // only for a guest with CPUID DS.
    pmu.globalStatusRsvd = pmu.globalCtrlRsvd & ~GLOBAL_STATUS_COND_CHG;
    if (inp.ds) pmu.globalStatusRsvd &= ~GLOBAL_STATUS_BUFFER_OVF;
    // intel_pmu_refresh, PEBS (v2+ only): PEBS_ENABLE takes the GP bits; with PEBS baseline (adaptive PEBS)
    // also the fixed bits, EVNTSEL.ADAPTIVE, FIXED_CTR_CTRL's per-counter ADAPTIVE bits and PEBS_DATA_CFG's
    // bits 3:0 and 31:24. KVM's supported caps never carry baseline (vmx_get_perf_capabilities), so that
    // branch is reachable only through a refresh input that has it.
    if ((inp.perfCapabilities & PERF_CAP_PEBS_FORMAT) !== 0n) {
      if ((inp.perfCapabilities & PERF_CAP_PEBS_BASELINE) !== 0n) {
        pmu.pebsEnableRsvd = pmu.counterRsvd;
        pmu.eventselRsvd &= ~ICL_EVENTSEL_ADAPTIVE;
        pmu.pebsDataCfgRsvd = ~PEBS_DATA_CFG_VALID;
        for (let i = 0; i < pmu.nFX; i++) pmu.fixedCtrCtrlRsvd &= ~(ICL_FIXED_0_ADAPTIVE << BigInt(4 * i));
      } else {
        pmu.pebsEnableRsvd = ~ONES(pmu.nGP);
      }
    }
  }
  pmu.allocate(pmu.nGP, pmu.nFX);
  // Step 4.4 (LBR setup, any version ≥ 1): x86_perf_get_lbr when the caps has an LBR format and the CPUID
  // model is the host's.
  refreshLbr(pmu, inp.perfCapabilities, inp.lbr, inp.cpuidModelConsistent);
  // Step 5: GLOBAL_CTRL resets to "all GP counters enabled" (hardware reset value).
  if ((pmu.version > 1 || pmu.mediated) && pmu.nGP > 0) pmu.globalCtrl = ONES(pmu.nGP);
  finish(pmu);
}

function finish(pmu: KvmPmu): void {
  pmu.recalc();
}

/** GLOBAL_CTRL and friends exist (kvm_pmu_has_perf_global_ctrl: version > 1). */
function hasGlobalCtrl(pmu: KvmPmu): boolean {
  return pmu.version > 1;
}

function fwWrites(pmu: KvmPmu): boolean {
  return (pmu.perfCapabilities & PERF_CAP_FW_WRITES) !== 0n;
}

/** The counter an MSR index names, if the vCPU has it (intel_msr_idx_to_pmc, get_gp_pmc, get_fixed_pmc). */
export function msrToPmc(
  pmu: KvmPmu,
  msr: number,
): { pmc: Pmc; alias: "legacy" | "full-width" | "eventsel" | "fixed" } | undefined {
  const n = (base: number, count: number): number => (msr >= base && msr < base + count ? msr - base : -1);
  let i = n(MSR_IA32_PERFCTR0, pmu.nGP);
  if (i >= 0) return { pmc: pmu.gp[i]!, alias: "legacy" };
  i = n(MSR_IA32_PMC0, pmu.nGP);
  if (i >= 0 && fwWrites(pmu)) return { pmc: pmu.gp[i]!, alias: "full-width" };
  i = n(MSR_IA32_EVNTSEL0, pmu.nGP);
  if (i >= 0) return { pmc: pmu.gp[i]!, alias: "eventsel" };
  i = n(MSR_CORE_PERF_FIXED_CTR0, pmu.nFX);
  if (i >= 0) return { pmc: pmu.fixed[i]!, alias: "fixed" };
  return undefined;
}

/** kvm_pmu_is_valid_msr + intel_is_valid_msr (R-VAL-1..7, R-VAL-6 for 0x329). */
export function intelIsValidMsr(pmu: KvmPmu, msr: number): boolean {
  if (pmu.version === 0) return false;
  switch (msr) {
    case MSR_CORE_PERF_GLOBAL_STATUS:
    case MSR_CORE_PERF_GLOBAL_CTRL:
    case MSR_CORE_PERF_GLOBAL_OVF_CTRL:
    case MSR_CORE_PERF_FIXED_CTR_CTRL:
      return hasGlobalCtrl(pmu);
    case MSR_CORE_PERF_GLOBAL_STATUS_SET:
    case MSR_CORE_PERF_GLOBAL_INUSE:
      return false; // R-VAL-5: KVM exposes version ≤ 2 semantics
    case MSR_PERF_METRICS:
      return pmu.codeState.perfMetricsMsr && (pmu.perfCapabilities & PERF_CAP_PERF_METRICS) !== 0n;
    case MSR_IA32_PEBS_ENABLE:
      return (pmu.perfCapabilities & PERF_CAP_PEBS_FORMAT) !== 0n;
    case MSR_IA32_DS_AREA:
      return pmu.guestDs; // guest CPUID.1:EDX.DS
    case MSR_PEBS_DATA_CFG:
      return (
        (pmu.perfCapabilities & PERF_CAP_PEBS_BASELINE) !== 0n &&
        (pmu.perfCapabilities & PERF_CAP_PEBS_FORMAT) >> 8n > 3n
      );
    default:
      return msrToPmc(pmu, msr) !== undefined || isValidLbrMsr(pmu, msr);
  }
}

/** kvm_pmu_get_msr + intel_pmu_get_msr for a valid MSR (model.md §7.3): the value goes to `out.data`. */
export function intelPmuGetMsr(pmu: KvmPmu, msr: number, hostInitiated: boolean, out: MsrData): MsrRet {
  switch (msr) {
    case MSR_CORE_PERF_GLOBAL_STATUS:
      out.data = pmu.globalStatus;
      return MSR_OK;
    case MSR_CORE_PERF_GLOBAL_CTRL:
      out.data = pmu.globalCtrl;
      return MSR_OK;
    case MSR_CORE_PERF_GLOBAL_OVF_CTRL:
      out.data = 0n;
      return MSR_OK;
    case MSR_CORE_PERF_FIXED_CTR_CTRL:
      out.data = pmu.fixedCtrCtrl;
      return MSR_OK;
    case MSR_PERF_METRICS: // R-RD-6, P-5
      if (!hostInitiated) return MSR_FAIL;
      out.data = pmu.perfMetrics;
      return MSR_OK;
    case MSR_IA32_PEBS_ENABLE:
      out.data = pmu.pebsEnable;
      return MSR_OK;
    case MSR_IA32_DS_AREA:
      out.data = pmu.dsArea;
      return MSR_OK;
    case MSR_PEBS_DATA_CFG:
      out.data = pmu.pebsDataCfg;
      return MSR_OK;
  }
  const hit = msrToPmc(pmu, msr);
  if (hit === undefined) return isValidLbrMsr(pmu, msr) ? getLbrMsr(pmu, msr, out) : MSR_FAIL;
  out.data = hit.alias === "eventsel" ? hit.pmc.eventsel : pmu.readCounter(hit.pmc); // R-RD-3 / R-RD-1/2: counter & mask
  return MSR_OK;
}

/** What a successful write changed, so the caller knows whether counting must be re-derived. */
export interface SetMsrEffect {
  readonly reprogram: boolean;
}

/** kvm_pmu_set_msr + intel_pmu_set_msr for a valid MSR (model.md §7.4). The caller folds counts first. */
export function intelPmuSetMsr(pmu: KvmPmu, msr: number, data: bigint, hostInitiated: boolean): MsrRet {
  data = BigInt.asUintN(64, data);
  switch (msr) {
    case MSR_CORE_PERF_GLOBAL_STATUS:
      if (!hostInitiated) return MSR_FAIL; // R-WR-9: read-only to the guest
      if ((data & pmu.globalStatusRsvd) !== 0n) return MSR_FAIL;
      pmu.globalStatus = data;
      return MSR_OK;
    case MSR_CORE_PERF_GLOBAL_CTRL:
      if ((data & pmu.globalCtrlRsvd) !== 0n) return MSR_FAIL; // R-WR-8
      if (pmu.globalCtrl !== data) {
        pmu.globalCtrl = data;
        pmu.recalc();
      }
      return MSR_OK;
    case MSR_CORE_PERF_GLOBAL_OVF_CTRL:
      if ((data & pmu.globalStatusRsvd) !== 0n) return MSR_FAIL; // R-WR-10
      if (!hostInitiated) pmu.globalStatus &= ~data;
      return MSR_OK;
    case MSR_CORE_PERF_FIXED_CTR_CTRL:
      if ((data & pmu.fixedCtrCtrlRsvd) !== 0n) return MSR_FAIL; // R-WR-7
      if (pmu.fixedCtrCtrl !== data) {
        pmu.fixedCtrCtrl = data;
        pmu.recalc();
      }
      return MSR_OK;
    case MSR_PERF_METRICS:
      if (!hostInitiated) return MSR_FAIL; // R-WR-11, P-5
      pmu.perfMetrics = data;
      return MSR_OK;
    case MSR_IA32_PEBS_ENABLE:
      if ((data & pmu.pebsEnableRsvd) !== 0n) return MSR_FAIL;
      pmu.pebsEnable = data;
      return MSR_OK;
    case MSR_IA32_DS_AREA:
      if (!isCanonical(data)) return MSR_FAIL;
      pmu.dsArea = data;
      return MSR_OK;
    case MSR_PEBS_DATA_CFG:
      if ((data & pmu.pebsDataCfgRsvd) !== 0n) return MSR_FAIL;
      pmu.pebsDataCfg = data;
      return MSR_OK;
  }
  const hit = msrToPmc(pmu, msr);
  if (hit === undefined) return isValidLbrMsr(pmu, msr) ? setLbrMsr(pmu, msr, data) : MSR_FAIL;
  const p = hit.pmc;
  switch (hit.alias) {
    case "full-width":
      if ((data & ~BigInt(pmu.maskGP)) !== 0n) return MSR_FAIL; // R-WR-1 (guest and host)
      pmu.writeCounter(p, data);
      return MSR_OK;
    case "legacy":
      // R-WR-2: a guest write sign-extends bit 31; R-WR-3: a host write does not.
      pmu.writeCounter(p, hostInitiated ? data : BigInt.asUintN(64, BigInt.asIntN(32, data)));
      return MSR_OK;
    case "fixed":
      pmu.writeCounter(p, data); // R-WR-4: truncated to the width
      return MSR_OK;
    case "eventsel": {
      let rsvd = pmu.eventselRsvd;
      // R-WR-6: IN_TXCP is legal on GP counter 2 only, when TSX is allowed.
      if (p.index === 2 && (pmu.rawEventMask & HSW_IN_TX_CHECKPOINTED) !== 0n) rsvd ^= HSW_IN_TX_CHECKPOINTED;
      if ((data & rsvd) !== 0n) return MSR_FAIL;
      if (data !== p.eventsel) {
        p.eventsel = data;
        pmu.recalc();
      }
      return MSR_OK;
    }
  }
}

function isCanonical(v: bigint): boolean {
  const top = v >> 47n;
  return top === 0n || top === 0x1ffffn;
}

/** intel_rdpmc_ecx_to_pmc: the counter ECX names (read under its width's mask), or why it names nothing. */
export function intelRdpmcEcxToPmc(pmu: KvmPmu, ecx: number): RdpmcTarget | RdpmcFault {
  const type = (ecx & 0xffff0000) >>> 0;
  const idx = ecx & 0xffff;
  if (type === INTEL_RDPMC_GP) return idx < pmu.nGP ? pmu.gp[idx]! : "GP index ≥ nGP";
  if (type === INTEL_RDPMC_FIXED) return idx < pmu.nFX ? pmu.fixed[idx]! : "fixed index ≥ nFX";
  // §9.3 step 6: the FIX tree (intel_emulate_rdpmc) reads the saved perf_metrics for the metrics type, index 0,
  // when the guest has PERF_METRICS; BASE and V4 have no metrics case (V4 inferred, model.md §15).
  if (type === INTEL_RDPMC_METRICS)
    return pmu.codeState.rdpmcMetrics &&
      ecx === INTEL_RDPMC_METRICS &&
      (pmu.perfCapabilities & PERF_CAP_PERF_METRICS) !== 0n
      ? "metrics"
      : "metrics type not emulated";
  return "undefined counter type";
}

/** Whether the vCPU's model uses a GLOBAL_CTRL at all (exported for explain/docs). */
export { hasGlobalCtrl };

/** Intel's kvm_pmu_ops (pmu_intel.c intel_pmu_ops): what common code (src/pmu/pmu.ts) calls. */
export const intelPmuOps: PmuOps = {
  pmuCap: kvmPmuCap,
  refresh: intelPmuRefresh,
  isValidMsr: intelIsValidMsr,
  getMsr: intelPmuGetMsr,
  getMsrHalves: intelGetMsrHalves,
  setMsr: intelPmuSetMsr,
  rdpmcEcxToPmc: intelRdpmcEcxToPmc,
};
