/**
 * Bit fields of the architectural PMU's control registers (IA32_PERFEVTSELx, GLOBAL_CTRL/STATUS) and the
 * counter indexing perf and KVM share. Facts: arch/x86/include/asm/perf_event.h; SDM Vol. 3 ch. 21 (model.md §5).
 */

/** IA32_PERFEVTSELx fields (perf_event.h ARCH_PERFMON_EVENTSEL_*). */
export const ARCH_PERFMON_EVENTSEL_EVENT = 0xffn;
export const ARCH_PERFMON_EVENTSEL_UMASK = 0xff00n;
export const ARCH_PERFMON_EVENTSEL_USR = 1n << 16n;
export const ARCH_PERFMON_EVENTSEL_OS = 1n << 17n;
export const ARCH_PERFMON_EVENTSEL_EDGE = 1n << 18n;
export const ARCH_PERFMON_EVENTSEL_PIN_CONTROL = 1n << 19n;
export const ARCH_PERFMON_EVENTSEL_INT = 1n << 20n;
export const ARCH_PERFMON_EVENTSEL_ANY = 1n << 21n;
export const ARCH_PERFMON_EVENTSEL_ENABLE = 1n << 22n;
export const ARCH_PERFMON_EVENTSEL_INV = 1n << 23n;
export const ARCH_PERFMON_EVENTSEL_CMASK = 0xff000000n;
/** TSX qualifiers of an event selector (perf_event.h HSW_IN_TX, HSW_IN_TX_CHECKPOINTED). */
export const HSW_IN_TX = 1n << 32n;
export const HSW_IN_TX_CHECKPOINTED = 1n << 33n;

/** INTEL_PMC_IDX_FIXED: fixed counter i is bit 32+i in GLOBAL_CTRL/STATUS (perf_event.h). */
export const INTEL_PMC_IDX_FIXED = 32;
/** GLOBAL_CTRL_EN_PERF_METRICS / GLOBAL_STATUS_PERF_METRICS_OVF_BIT: bit 48 of GLOBAL_CTRL and STATUS. */
export const GLOBAL_CTRL_EN_PERF_METRICS = 48;
/** GLOBAL_STATUS bits 62 (DS buffer overflow) and 63 (CondChgd) (perf_event.h). */
export const GLOBAL_STATUS_BUFFER_OVF = 1n << 62n;
export const GLOBAL_STATUS_COND_CHG = 1n << 63n;

/** RDPMC ECX types, bits 31:16 (pmu_intel.c INTEL_RDPMC_*, from perf_event.h INTEL_PMC_FIXED_RDPMC_*). */
export const INTEL_RDPMC_GP = 0;
export const INTEL_RDPMC_FIXED = 0x40000000;
export const INTEL_RDPMC_METRICS = 0x20000000;
