/* pmu.h — PMU and x2APIC numbers (SDM Vol. 4 MSR tables, Vol. 3 ch. 21 and §12.12; the names are
 * Linux's msr-index.h / perf_event.h ones, as in programs/lib/pmu.inc and apic.inc). */
#ifndef VPMU_PMU_H
#define VPMU_PMU_H

#include "x86.h"

#define MSR_IA32_PERFCTR0 0xC1 /* legacy alias of GP counter 0; +n */
#define MSR_P6_EVNTSEL0 0x186  /* IA32_PERFEVTSEL0; +n */
#define MSR_IA32_MISC_ENABLE 0x1A0
#define MSR_IA32_PRED_CMD 0x49
#define MSR_CORE_PERF_FIXED_CTR0 0x309
#define MSR_IA32_PERF_CAPABILITIES 0x345
#define MSR_CORE_PERF_FIXED_CTR_CTRL 0x38D
#define MSR_CORE_PERF_GLOBAL_STATUS 0x38E
#define MSR_CORE_PERF_GLOBAL_CTRL 0x38F
#define MSR_CORE_PERF_GLOBAL_OVF_CTRL 0x390
#define MSR_IA32_PMC0 0x4C1 /* full-width alias of GP counter 0; +n */

#define ARCH_PERFMON_EVENTSEL_USR (1u << 16)
#define ARCH_PERFMON_EVENTSEL_OS (1u << 17)
#define ARCH_PERFMON_EVENTSEL_INT (1u << 20)
#define ARCH_PERFMON_EVENTSEL_ENABLE (1u << 22)

#define EVENT_CORE_CYCLES 0x003C
#define EVENT_INSTRUCTIONS 0x00C0
#define EVENT_LLC_REFERENCES 0x4F2E
#define EVENT_LLC_MISSES 0x412E
#define EVENT_BRANCH_MISSES 0x00C5
#define EVENT_TOPDOWN_SLOTS 0x01A4

#define INTEL_FIXED_0_KERNEL (1u << 0)
#define INTEL_FIXED_0_USER (1u << 1)
#define INTEL_FIXED_0_ENABLE_PMI (1u << 3)
#define INTEL_PMC_IDX_FIXED 32
#define RDPMC_FIXED (1u << 30)

#define MSR_X2APIC_EOI 0x80B
#define MSR_X2APIC_SPIV 0x80F
#define MSR_X2APIC_LVTPC 0x834
#define APIC_SPIV_APIC_ENABLED (1u << 8)
#define APIC_LVT_MASKED (1u << 16)
#define PMI_VECTOR 32 /* the vector kvm-unit-tests' x86/pmu.c uses */

/* SVR := 0x1FF (software enable, spurious vector 0xFF): while SVR bit 8 is clear KVM keeps every LVT
 * masked (lapic.c kvm_lapic_reg_write). Then LVTPC := fixed delivery on vector, unmasked. */
static inline void pmi_setup(u8 vector, handler_t handler)
{
        handle_exception(vector, handler);
        wrmsr(MSR_X2APIC_SPIV, APIC_SPIV_APIC_ENABLED | 0xFF);
        wrmsr(MSR_X2APIC_LVTPC, vector);
}

static inline void apic_eoi(void)
{
        wrmsr(MSR_X2APIC_EOI, 0);
}

#endif
