/**
 * MSR numbers and the bit fields of the PMU-related MSRs, under the kernel's names so a grep in either
 * code base finds the other. Facts: arch/x86/include/asm/msr-index.h; SDM Vol. 4 (model.md §4, §5.5).
 */

export const MSR_IA32_TSC = 0x10;
export const MSR_IA32_APICBASE = 0x1b;
export const MSR_IA32_PRED_CMD = 0x49;
export const MSR_IA32_PERFCTR0 = 0xc1;
export const MSR_IA32_EVNTSEL0 = 0x186;
export const MSR_IA32_MISC_ENABLE = 0x1a0;
export const MSR_IA32_DEBUGCTLMSR = 0x1d9;
/** Model-specific LBR registers (msr-index.h; SDM Vol. 4, Skylake and later): filter and top of stack; the
 *  FROM/TO/INFO arrays start at the bases perf reports (src/host/presets.ts HostLbr). */
export const MSR_LBR_SELECT = 0x1c8;
export const MSR_LBR_TOS = 0x1c9;
export const MSR_LBR_NHM_FROM = 0x680;
export const MSR_LBR_NHM_TO = 0x6c0;
export const MSR_LBR_INFO_0 = 0xdc0;
export const MSR_CORE_PERF_FIXED_CTR0 = 0x309;
export const MSR_PERF_METRICS = 0x329;
export const MSR_IA32_PERF_CAPABILITIES = 0x345;
export const MSR_CORE_PERF_FIXED_CTR_CTRL = 0x38d;
export const MSR_CORE_PERF_GLOBAL_STATUS = 0x38e;
export const MSR_CORE_PERF_GLOBAL_CTRL = 0x38f;
export const MSR_CORE_PERF_GLOBAL_OVF_CTRL = 0x390;
export const MSR_CORE_PERF_GLOBAL_STATUS_SET = 0x391;
export const MSR_CORE_PERF_GLOBAL_INUSE = 0x392;
export const MSR_IA32_PEBS_ENABLE = 0x3f1;
export const MSR_PEBS_DATA_CFG = 0x3f2;
export const MSR_IA32_PMC0 = 0x4c1;
export const MSR_IA32_DS_AREA = 0x600;
export const MSR_FS_BASE = 0xc0000100;
export const MSR_GS_BASE = 0xc0000101;
export const MSR_KERNEL_GS_BASE = 0xc0000102;
export const MSR_TSC_AUX = 0xc0000103;
export const MSR_EFER = 0xc0000080;

/** IA32_EFER bits (msr-index.h _EFER_SCE.. ; SDM Vol. 3 §2.2.1 "Extended Feature Enable Register"). */
export const EFER_SCE = 1 << 0;
export const EFER_LME = 1 << 8;
export const EFER_LMA = 1 << 10;
export const EFER_NX = 1 << 11;

/** x2APIC registers (SDM Vol. 3 "x2APIC register address space": MSR 0x800 + (xAPIC offset >> 4)). */
export const X2APIC_ID = 0x802;
export const X2APIC_VERSION = 0x803;
export const X2APIC_TPR = 0x808;
export const X2APIC_PPR = 0x80a;
export const X2APIC_EOI = 0x80b;
export const X2APIC_SPIV = 0x80f;
export const X2APIC_LVTPC = 0x834;

/** IA32_APIC_BASE bits (msr-index.h MSR_IA32_APICBASE_BSP/_ENABLE, X2APIC_ENABLE). */
export const MSR_IA32_APICBASE_BSP = 1n << 8n;
export const X2APIC_ENABLE = 1n << 10n;
export const MSR_IA32_APICBASE_ENABLE = 1n << 11n;

/** IA32_PERF_CAPABILITIES bits (msr-index.h PERF_CAP_*; model.md §5.5). */
export const PERF_CAP_LBR_FMT = 0x3fn;
export const PERF_CAP_PEBS_TRAP = 1n << 6n;
export const PERF_CAP_ARCH_REG = 1n << 7n;
export const PERF_CAP_PEBS_FORMAT = 0xfn << 8n;
export const PERF_CAP_FREEZE_SMM = 1n << 12n;
export const PERF_CAP_FW_WRITES = 1n << 13n;
export const PERF_CAP_PEBS_BASELINE = 1n << 14n;
export const PERF_CAP_PERF_METRICS = 1n << 15n;
export const PERF_CAP_PEBS_OUTPUT_PT = 1n << 16n;
export const PERF_CAP_PEBS_TIMING_INFO = 1n << 17n;
/** The PEBS field group KVM treats as one unit (vmx.c vmx_get_perf_capabilities, PERF_CAP_PEBS_MASK). */
export const PERF_CAP_PEBS_MASK =
  PERF_CAP_PEBS_TRAP | PERF_CAP_ARCH_REG | PERF_CAP_PEBS_FORMAT | PERF_CAP_PEBS_BASELINE | PERF_CAP_PEBS_TIMING_INFO;

/** IA32_MISC_ENABLE bits the PMU involves (msr-index.h MSR_IA32_MISC_ENABLE_*): 11/12 set at vCPU reset
 *  (kvm_vcpu_reset), 7 read-only-ignored for guest writes (kvm_set_msr_common). */
export const MSR_IA32_MISC_ENABLE_EMON = 1n << 7n;
export const MSR_IA32_MISC_ENABLE_BTS_UNAVAIL = 1n << 11n;
export const MSR_IA32_MISC_ENABLE_PEBS_UNAVAIL = 1n << 12n;

/** IA32_PRED_CMD bit 0: indirect branch prediction barrier (msr-index.h PRED_CMD_IBPB). */
export const PRED_CMD_IBPB = 1n;
