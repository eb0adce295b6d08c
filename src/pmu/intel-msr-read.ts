/**
 * intel_pmu_get_msr for a guest RDMSR that exited, as Numbers: one pre-resolved reader per MSR index (the
 * architectural PMU MSRs a guest reads on its PMI and context-switch paths), so an intercepted RDMSR (W4 of
 * issue 16) needs no BigInt, no switch over the MSR space and no counter lookup object. A reader answers only
 * where kvm_pmu_is_valid_msr + intel_pmu_get_msr (intel.ts) succeed with hostInitiated false, with the very
 * value they give; everywhere else it returns false and the caller takes that BigInt path, which decides.
 * test/pmu/msr-read.test.ts checks the two agree for every index and vCPU configuration it builds.
 * Facts: model.md §7.3 (R-RD-1..3), §5 (R-VAL-1..4); pmu_intel.c intel_pmu_get_msr, intel_is_valid_msr.
 */
import {
  MSR_CORE_PERF_FIXED_CTR0,
  MSR_CORE_PERF_FIXED_CTR_CTRL,
  MSR_CORE_PERF_GLOBAL_CTRL,
  MSR_CORE_PERF_GLOBAL_OVF_CTRL,
  MSR_CORE_PERF_GLOBAL_STATUS,
  MSR_IA32_EVNTSEL0,
  MSR_IA32_PERFCTR0,
  MSR_IA32_PMC0,
} from "../arch/msr-index.js";
import { KVM_MAX_NR_FIXED_COUNTERS, KVM_MAX_NR_GP_COUNTERS } from "./msrs.js";
import { MSR_HALVES_LIMIT, type KvmPmu, type MsrHalves, type MsrHalvesRead } from "./pmu.js";

const TWO32 = 0x100000000;
/** PERF_CAPABILITIES.FW_WRITES (bit 13): the full-width counter aliases exist (intel.ts fwWrites). */
const FW_WRITES_LO = 1 << 13;

/** A counter's value (R-RD-1/2: what pmu.readCounter gives, exact below 2^53) as EDX:EAX. */
function counterHalves(v: number, out: MsrHalves): true {
  out.lo = v >>> 0;
  out.hi = Math.floor(v / TWO32);
  return true;
}

/** GLOBAL_STATUS, GLOBAL_CTRL, GLOBAL_OVF_CTRL and FIXED_CTR_CTRL exist with version > 1 (hasGlobalCtrl). */
const globalStatus: MsrHalvesRead = (pmu, out) => {
  if (pmu.version <= 1) return false;
  out.lo = pmu.globalStatusLo;
  out.hi = pmu.globalStatusHi;
  return true;
};
const globalCtrl: MsrHalvesRead = (pmu, out) => {
  if (pmu.version <= 1) return false;
  out.lo = pmu.globalCtrlLo;
  out.hi = pmu.globalCtrlHi;
  return true;
};
const globalOvfCtrl: MsrHalvesRead = (pmu, out) => {
  if (pmu.version <= 1) return false;
  out.lo = 0;
  out.hi = 0;
  return true;
};
const fixedCtrCtrl: MsrHalvesRead = (pmu, out) => {
  if (pmu.version <= 1) return false;
  out.lo = pmu.fixedCtrCtrlLo;
  out.hi = pmu.fixedCtrCtrlHi;
  return true;
};

/** intel_msr_idx_to_pmc's aliases (msrToPmc): version 0 has no MSRs at all (intel_is_valid_msr). */
function legacyCounter(n: number): MsrHalvesRead {
  return (pmu, out) => pmu.version !== 0 && n < pmu.nGP && counterHalves(pmu.gp[n]!.counter, out);
}
function fullWidthCounter(n: number): MsrHalvesRead {
  return (pmu, out) =>
    pmu.version !== 0 &&
    n < pmu.nGP &&
    (pmu.perfCapabilitiesLo & FW_WRITES_LO) !== 0 &&
    counterHalves(pmu.gp[n]!.counter, out);
}
function eventsel(n: number): MsrHalvesRead {
  return (pmu: KvmPmu, out) => {
    if (pmu.version === 0 || n >= pmu.nGP) return false;
    const p = pmu.gp[n]!;
    out.lo = p.eventselLo;
    out.hi = p.eventselHi;
    return true;
  };
}
function fixedCounter(i: number): MsrHalvesRead {
  return (pmu, out) => pmu.version !== 0 && i < pmu.nFX && counterHalves(pmu.fixed[i]!.counter, out);
}

/** Intel's readers, indexed by MSR (below MSR_HALVES_LIMIT); undefined = the BigInt path. */
export const intelGetMsrHalves: readonly (MsrHalvesRead | undefined)[] = (() => {
  const t: (MsrHalvesRead | undefined)[] = new Array(MSR_HALVES_LIMIT).fill(undefined);
  t[MSR_CORE_PERF_GLOBAL_STATUS] = globalStatus;
  t[MSR_CORE_PERF_GLOBAL_CTRL] = globalCtrl;
  t[MSR_CORE_PERF_GLOBAL_OVF_CTRL] = globalOvfCtrl;
  t[MSR_CORE_PERF_FIXED_CTR_CTRL] = fixedCtrCtrl;
  for (let n = 0; n < KVM_MAX_NR_GP_COUNTERS; n++) {
    t[MSR_IA32_PERFCTR0 + n] = legacyCounter(n);
    t[MSR_IA32_PMC0 + n] = fullWidthCounter(n);
    t[MSR_IA32_EVNTSEL0 + n] = eventsel(n);
  }
  for (let i = 0; i < KVM_MAX_NR_FIXED_COUNTERS; i++) t[MSR_CORE_PERF_FIXED_CTR0 + i] = fixedCounter(i);
  return t;
})();
