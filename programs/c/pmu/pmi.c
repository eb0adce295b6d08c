// pmi.c — the C twin of programs/pmu/pmi.s, with the same report lines: overflow and the PMI (model.md
// §8.4). A counter preset to -N wraps on the N-th counted instruction, the PMI arrives through LVTPC on
// the very next boundary, LVTPC auto-masks, a second overflow while masked only sets its status bit, a
// PMI is held while IF = 0, and GLOBAL_OVF_CTRL clears status bits. The windows whose boundaries matter
// are asm blocks; the handler is C (nothing it does is counted by a check).
// vpmu: --host icx
#include "rules.h"

static volatile u64 pmi_rip, pmi_count, pmi_status;

static void pmi_handler(struct ex_regs *regs)
{
        pmi_rip = regs->rip;
        pmi_count++;
        pmi_status = rdmsr(MSR_CORE_PERF_GLOBAL_STATUS);
        apic_eoi();
}

int main(void)
{
        u64 after;

        pmi_setup(PMI_VECTOR, pmi_handler);
        wrmsr(MSR_CORE_PERF_GLOBAL_CTRL, 0);

        report_prefix_push("exact");
        asm volatile("mov $0xc1, %%ecx\n\tmov $-5, %%eax\n\twrmsr\n\t" /* legacy alias: 2^48 - 5 */
                     "mov $0x186, %%ecx\n\tmov %[sel], %%eax\n\twrmsr\n\t"
                     "sti\n\t"
                     "mov $0x38f, %%ecx\n\tmov $1, %%eax\n\twrmsr\n\t" /* 1 */
                     "nop\n\tnop\n\tnop\n\t"                           /* 2, 3, 4 */
                     "nop\n"                                           /* 5: wraps */
                     "1:\tnop\n\t"
                     "cli\n\t"
                     "lea 1b(%%rip), %[after]"
                     : [after] "=r"(after)
                     : [sel] "i"(EVENT_INSTRUCTIONS | ARCH_PERFMON_EVENTSEL_OS | ARCH_PERFMON_EVENTSEL_INT |
                                 ARCH_PERFMON_EVENTSEL_ENABLE),
                       "d"(0)
                     : "rax", "rcx", "memory");
        report_eq(pmi_rip, after, "the PMI interrupts the instruction after the wrap");
        report_eq(pmi_count, 1, "one PMI");
        report_eq(pmi_status, 1, "GLOBAL_STATUS bit 0 seen by the handler");
        rd_eq(MSR_X2APIC_LVTPC, APIC_LVT_MASKED | PMI_VECTOR, "LVTPC is masked by the delivery");
        report_prefix_pop();

        report_prefix_push("masked");
        u32 zero = 0;
        asm volatile("mov $0xc1, %%ecx\n\tmov $-3, %%eax\n\twrmsr\n\t" /* 1 (still counting) */
                     "nop\n\tnop\n\t"                                  /* 2, 3: wraps, LVTPC masked */
                     "nop\n\t"
                     "mov $0x38f, %%ecx\n\txor %%eax, %%eax\n\txor %%edx, %%edx\n\twrmsr"
                     : "+d"(zero)
                     :
                     : "rax", "rcx", "memory");
        report_eq(pmi_count, 1, "no second PMI while LVTPC is masked");
        rd_eq(MSR_CORE_PERF_GLOBAL_STATUS, 1, "but the overflow is in GLOBAL_STATUS");
        wr_ok(MSR_CORE_PERF_GLOBAL_OVF_CTRL, 1, "GLOBAL_OVF_CTRL write");
        rd_eq(MSR_CORE_PERF_GLOBAL_STATUS, 0, "GLOBAL_OVF_CTRL cleared it");
        report_prefix_pop();

        report_prefix_push("held");
        wrmsr(MSR_X2APIC_LVTPC, PMI_VECTOR); /* unmask again */
        wrmsr(MSR_CORE_PERF_FIXED_CTR0, 0xFFFFFFFFFFFE);
        wrmsr(MSR_CORE_PERF_FIXED_CTR_CTRL, INTEL_FIXED_0_KERNEL | INTEL_FIXED_0_ENABLE_PMI);
        asm volatile("mov $0x38f, %%ecx\n\txor %%eax, %%eax\n\tmov $1, %%edx\n\twrmsr\n\t" /* 1 */
                     "nop\n\t" /* 2: FC0 wraps; IF = 0 so the PMI waits */
                     "nop\n\tnop\n\t"
                     "mov $0x38f, %%ecx\n\txor %%eax, %%eax\n\txor %%edx, %%edx\n\twrmsr"
                     :
                     :
                     : "rax", "rcx", "rdx", "memory");
        report_eq(pmi_count, 1, "nothing delivered while IF = 0");
        asm volatile("sti\n\t"
                     "nop\n" /* the STI shadow */
                     "1:\tnop\n\t"
                     "cli\n\t"
                     "lea 1b(%%rip), %[after]"
                     : [after] "=r"(after)
                     :
                     : "memory");
        report_eq(pmi_rip, after, "delivered right after the STI shadow");
        report_eq(pmi_count, 2, "second PMI");
        report_eq(pmi_status, 1ull << 32, "GLOBAL_STATUS bit 32 (FC0)");
        report_prefix_pop();
        return report_summary();
}
