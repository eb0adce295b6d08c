/**
 * The PMU-related MSR catalogue: one row per MSR (or per indexed family), read by validity checks, the
 * KVM save/restore list, `explain` and docs/vpmu.md. Numbers: src/arch/msr-index.ts; rules:
 * model.md §4 and pmu_intel.c (intel_is_valid_msr, intel_pmu_get_msr, intel_pmu_set_msr).
 */
import {
  MSR_LBR_INFO_0,
  MSR_LBR_NHM_FROM,
  MSR_LBR_NHM_TO,
  MSR_LBR_SELECT,
  MSR_LBR_TOS,
  MSR_CORE_PERF_FIXED_CTR0,
  MSR_CORE_PERF_FIXED_CTR_CTRL,
  MSR_CORE_PERF_GLOBAL_CTRL,
  MSR_CORE_PERF_GLOBAL_INUSE,
  MSR_CORE_PERF_GLOBAL_OVF_CTRL,
  MSR_CORE_PERF_GLOBAL_STATUS,
  MSR_CORE_PERF_GLOBAL_STATUS_SET,
  MSR_IA32_APICBASE,
  MSR_IA32_DEBUGCTLMSR,
  MSR_IA32_DS_AREA,
  MSR_IA32_EVNTSEL0,
  MSR_IA32_MISC_ENABLE,
  MSR_IA32_PEBS_ENABLE,
  MSR_IA32_PERF_CAPABILITIES,
  MSR_IA32_PERFCTR0,
  MSR_IA32_PMC0,
  MSR_IA32_PRED_CMD,
  MSR_IA32_TSC,
  MSR_PEBS_DATA_CFG,
  MSR_PERF_METRICS,
} from "../arch/msr-index.js";

/** KVM's fixed limits (pmu.h KVM_MAX_NR_INTEL_GP_COUNTERS, KVM_MAX_NR_FIXED_COUNTERS). */
export const KVM_MAX_NR_GP_COUNTERS = 8;
export const KVM_MAX_NR_FIXED_COUNTERS = 4;
/** What kind of PMU register a catalogue row is (drives the generic handling in intel.ts). */
export type MsrKind =
  | "gp-counter"
  | "gp-counter-fw"
  | "eventsel"
  | "fixed-counter"
  | "fixed-ctr-ctrl"
  | "global-status"
  | "global-ctrl"
  | "global-ovf-ctrl"
  | "global-status-set"
  | "global-inuse"
  | "perf-metrics"
  | "perf-capabilities"
  | "pebs"
  | "ds-area"
  | "misc-enable"
  | "debugctl"
  | "lbr"
  | "tsc"
  | "pred-cmd"
  | "apic-base"
  | "x2apic";

export interface MsrRow {
  /** First MSR index of the row; `count` consecutive indices share the row (n = index − base). */
  readonly index: number;
  readonly count: number;
  /** Linux name (msr-index.h); for families the name of member 0. */
  readonly name: string;
  /** The SDM's name where it differs (model.md §4 naming trap). */
  readonly sdmName: string;
  readonly kind: MsrKind;
  /** When the MSR exists for the guest (validity rule, model.md §7.2). */
  readonly validWhen: string;
  readonly reset: string;
  /** The KVM function that handles it. */
  readonly kvm: string;
  /** Part of the PMU family KVM validates through kvm_pmu_is_valid_msr. */
  readonly pmu: boolean;
}

/** The model-specific LBR MSRs of the Skylake/Ice Lake server parts (32 entries; src/pmu/lbr.ts). */
const LBR_VALID = "legacy vPMU, guest PERF_CAPABILITIES LBR format = the host's and CPUID model = the host's";
const lbrRow = (index: number, count: number, name: string, sdmName: string): MsrRow => ({
  index,
  count,
  name,
  sdmName,
  kind: "lbr",
  validWhen: `${LBR_VALID} (intel_pmu_is_valid_lbr_msr)`,
  reset: "0 (cleared at refresh)",
  kvm: "intel_pmu_handle_lbr_msrs_access",
  pmu: true,
});
const LBR_ROWS: readonly MsrRow[] = [
  lbrRow(MSR_LBR_SELECT, 1, "MSR_LBR_SELECT", "MSR_LBR_SELECT"),
  lbrRow(MSR_LBR_TOS, 1, "MSR_LBR_TOS", "MSR_LASTBRANCH_TOS"),
  lbrRow(MSR_LBR_NHM_FROM, 32, "MSR_LBR_NHM_FROM", "MSR_LASTBRANCH_0_FROM_IP"),
  lbrRow(MSR_LBR_NHM_TO, 32, "MSR_LBR_NHM_TO", "MSR_LASTBRANCH_0_TO_IP"),
  lbrRow(MSR_LBR_INFO_0, 32, "MSR_LBR_INFO_0", "MSR_LBR_INFO_0"),
];

export const MSR_CATALOGUE: readonly MsrRow[] = [
  {
    index: MSR_IA32_PERFCTR0,
    count: 8,
    name: "MSR_IA32_PERFCTR0",
    sdmName: "IA32_PMC0",
    kind: "gp-counter",
    validWhen: "n < nGP (R-VAL-2; P6 exemption n ≤ 1, R-VAL-8)",
    reset: "0",
    kvm: "intel_pmu_set_msr",
    pmu: true,
  },
  {
    index: MSR_IA32_PMC0,
    count: 8,
    name: "MSR_IA32_PMC0",
    sdmName: "IA32_A_PMC0",
    kind: "gp-counter-fw",
    validWhen: "n < nGP and PERF_CAPABILITIES.FW_WRITES (R-VAL-2)",
    reset: "0",
    kvm: "intel_pmu_set_msr",
    pmu: true,
  },
  {
    index: MSR_IA32_EVNTSEL0,
    count: 8,
    name: "MSR_P6_EVNTSEL0",
    sdmName: "IA32_PERFEVTSEL0",
    kind: "eventsel",
    validWhen: "n < nGP (R-VAL-2; P6 exemption n ≤ 1)",
    reset: "0",
    kvm: "intel_pmu_set_msr",
    pmu: true,
  },
  {
    index: MSR_CORE_PERF_FIXED_CTR0,
    count: 4,
    name: "MSR_CORE_PERF_FIXED_CTR0",
    sdmName: "IA32_FIXED_CTR0",
    kind: "fixed-counter",
    validWhen: "version ≥ 2 and n < nFX (R-VAL-3)",
    reset: "0",
    kvm: "intel_pmu_set_msr",
    pmu: true,
  },
  {
    index: MSR_PERF_METRICS,
    count: 1,
    name: "MSR_PERF_METRICS",
    sdmName: "IA32_PERF_METRICS",
    kind: "perf-metrics",
    validWhen: "V4/FIX: guest PERF_CAPABILITIES bit 15 (R-VAL-6, P-3)",
    reset: "0",
    kvm: "intel_pmu_set_msr",
    pmu: true,
  },
  {
    index: MSR_IA32_PERF_CAPABILITIES,
    count: 1,
    name: "MSR_IA32_PERF_CAPABILITIES",
    sdmName: "IA32_PERF_CAPABILITIES",
    kind: "perf-capabilities",
    validWhen: "guest CPUID.1:ECX.PDCM (R-RD-7)",
    reset: "KVM-supported caps",
    kvm: "vmx_set_msr / kvm_set_msr_common",
    pmu: false,
  },
  {
    index: MSR_CORE_PERF_FIXED_CTR_CTRL,
    count: 1,
    name: "MSR_CORE_PERF_FIXED_CTR_CTRL",
    sdmName: "IA32_FIXED_CTR_CTRL",
    kind: "fixed-ctr-ctrl",
    validWhen: "version ≥ 2 (R-VAL-4)",
    reset: "0",
    kvm: "intel_pmu_set_msr",
    pmu: true,
  },
  {
    index: MSR_CORE_PERF_GLOBAL_STATUS,
    count: 1,
    name: "MSR_CORE_PERF_GLOBAL_STATUS",
    sdmName: "IA32_PERF_GLOBAL_STATUS",
    kind: "global-status",
    validWhen: "version ≥ 2 (R-VAL-4)",
    reset: "0",
    kvm: "kvm_pmu_set_msr",
    pmu: true,
  },
  {
    index: MSR_CORE_PERF_GLOBAL_CTRL,
    count: 1,
    name: "MSR_CORE_PERF_GLOBAL_CTRL",
    sdmName: "IA32_PERF_GLOBAL_CTRL",
    kind: "global-ctrl",
    validWhen: "version ≥ 2 (R-VAL-4)",
    reset: "GP enable bits 0..nGP−1",
    kvm: "kvm_pmu_set_msr",
    pmu: true,
  },
  {
    index: MSR_CORE_PERF_GLOBAL_OVF_CTRL,
    count: 1,
    name: "MSR_CORE_PERF_GLOBAL_OVF_CTRL",
    sdmName: "IA32_PERF_GLOBAL_OVF_CTRL",
    kind: "global-ovf-ctrl",
    validWhen: "version ≥ 2 (R-VAL-4)",
    reset: "reads 0",
    kvm: "kvm_pmu_set_msr",
    pmu: true,
  },
  {
    index: MSR_CORE_PERF_GLOBAL_STATUS_SET,
    count: 1,
    name: "MSR_CORE_PERF_GLOBAL_STATUS_SET",
    sdmName: "IA32_PERF_GLOBAL_STATUS_SET",
    kind: "global-status-set",
    validWhen: "never (KVM exposes version ≤ 2; R-VAL-5)",
    reset: "—",
    kvm: "—",
    pmu: true,
  },
  {
    index: MSR_CORE_PERF_GLOBAL_INUSE,
    count: 1,
    name: "MSR_CORE_PERF_GLOBAL_INUSE",
    sdmName: "IA32_PERF_GLOBAL_INUSE",
    kind: "global-inuse",
    validWhen: "never (R-VAL-5)",
    reset: "—",
    kvm: "—",
    pmu: true,
  },
  {
    index: MSR_IA32_PEBS_ENABLE,
    count: 1,
    name: "MSR_IA32_PEBS_ENABLE",
    sdmName: "IA32_PEBS_ENABLE",
    kind: "pebs",
    validWhen: "PERF_CAPABILITIES PEBS format ≠ 0 (LEGACY on a PEBS-via-EPT host); GP bits writable from v2",
    reset: "0",
    kvm: "intel_pmu_set_msr",
    pmu: true,
  },
  {
    index: MSR_PEBS_DATA_CFG,
    count: 1,
    name: "MSR_PEBS_DATA_CFG",
    sdmName: "MSR_PEBS_DATA_CFG",
    kind: "pebs",
    validWhen: "PEBS baseline and format > 3 (never: KVM's supported caps drop baseline)",
    reset: "0",
    kvm: "intel_pmu_set_msr",
    pmu: true,
  },
  {
    index: MSR_IA32_DS_AREA,
    count: 1,
    name: "MSR_IA32_DS_AREA",
    sdmName: "IA32_DS_AREA",
    kind: "ds-area",
    validWhen: "guest CPUID.1:EDX.DS (offered with guest PEBS); canonical values",
    reset: "0",
    kvm: "intel_pmu_set_msr",
    pmu: true,
  },
  {
    index: MSR_IA32_MISC_ENABLE,
    count: 1,
    name: "MSR_IA32_MISC_ENABLE",
    sdmName: "IA32_MISC_ENABLE",
    kind: "misc-enable",
    validWhen: "always",
    reset: "0x1800: bits 11, 12 (kvm_vcpu_reset; refresh leaves it alone)",
    kvm: "kvm_set_msr_common",
    pmu: false,
  },
  {
    index: MSR_IA32_DEBUGCTLMSR,
    count: 1,
    name: "MSR_IA32_DEBUGCTLMSR",
    sdmName: "IA32_DEBUGCTL",
    kind: "debugctl",
    validWhen: "always",
    reset: "0",
    kvm: "vmx_set_msr",
    pmu: false,
  },
  ...LBR_ROWS,
  {
    index: MSR_IA32_TSC,
    count: 1,
    name: "MSR_IA32_TSC",
    sdmName: "IA32_TIME_STAMP_COUNTER",
    kind: "tsc",
    validWhen: "always",
    reset: "0",
    kvm: "kvm_set_msr_common",
    pmu: false,
  },
  {
    index: MSR_IA32_PRED_CMD,
    count: 1,
    name: "MSR_IA32_PRED_CMD",
    sdmName: "IA32_PRED_CMD",
    kind: "pred-cmd",
    validWhen: "always (write-only; IBPB bit 0)",
    reset: "—",
    kvm: "kvm_set_msr_common",
    pmu: false,
  },
  {
    index: MSR_IA32_APICBASE,
    count: 1,
    name: "MSR_IA32_APICBASE",
    sdmName: "IA32_APIC_BASE",
    kind: "apic-base",
    validWhen: "always",
    reset:
      "0xFEE00D00 (x2APIC, enabled, BSP) for flat 64-bit guests; 0xFEE00900 (xAPIC, as after reset) for kernels entered through Multiboot",
    kvm: "kvm_set_apic_base",
    pmu: false,
  },
  {
    index: 0x800,
    count: 0x100,
    name: "APIC_BASE_MSR",
    sdmName: "x2APIC registers",
    kind: "x2apic",
    validWhen:
      "x2APIC enabled (the register file of docs/apic.md; in xAPIC mode the same registers are the MMIO page at 0xFEE00000)",
    reset: "LVTs masked",
    kvm: "kvm_x2apic_msr_write",
    pmu: false,
  },
];

/** The catalogue row covering `index`, or undefined (an unknown MSR: #GP with ignore_msrs off). */
export function findMsrRow(index: number): MsrRow | undefined {
  for (const row of MSR_CATALOGUE) {
    if (index >= row.index && index < row.index + row.count) return row;
  }
  return undefined;
}

/** The catalogue as the Markdown table docs/vpmu.md carries (test/pmu/msrs.test.ts keeps them equal). */
export function msrCatalogueMarkdown(): string {
  const hex = (n: number): string => "0x" + n.toString(16).toUpperCase();
  const lines = ["| MSR | Linux name | SDM name | Valid when | Reset | KVM handler |", "|---|---|---|---|---|---|"];
  for (const r of MSR_CATALOGUE) {
    const range = r.count > 1 ? `${hex(r.index)}–${hex(r.index + r.count - 1)}` : hex(r.index);
    lines.push(`| ${range} | ${r.name} | ${r.sdmName} | ${r.validWhen} | ${r.reset} | ${r.kvm} |`);
  }
  return lines.join("\n") + "\n";
}
