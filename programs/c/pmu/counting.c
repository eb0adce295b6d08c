// counting.c — the C twin of programs/pmu/counting.s, with the same report lines: the exact counting
// rules of the legacy vPMU (model.md §8.1). Each counted window is one asm block, so the counts do not
// depend on what gcc makes of the C around it.
// vpmu: --host spr
#include "pmu.h"

/* START: GLOBAL_CTRL := 0, counter 0 := 0, selector 0 := sel, GLOBAL_CTRL := 1 (counted: 1).
 * STOP: GLOBAL_CTRL := 0 (mov, xor, xor counted; the disabling WRMSR is not). */
#define START                                                                                          \
        "mov $0x38f, %%ecx\n\txor %%eax, %%eax\n\txor %%edx, %%edx\n\twrmsr\n\t"                       \
        "mov $0xc1, %%ecx\n\twrmsr\n\t"                                                                \
        "mov $0x186, %%ecx\n\tmov %[sel], %%eax\n\twrmsr\n\t"                                          \
        "mov $0x38f, %%ecx\n\tmov $1, %%eax\n\twrmsr\n\t"
#define STOP "mov $0x38f, %%ecx\n\txor %%eax, %%eax\n\txor %%edx, %%edx\n\twrmsr"

/* Counter 0's count of event over `body`, after `pre` ran uncounted; rsi = 0x800000 throughout. */
#define MEASURE(event, pre, body)                                                                      \
        ({                                                                                             \
                asm volatile("mov $0x800000, %%esi\n\t" pre "\n\t" START body "\n\t" STOP                 \
                             :                                                                         \
                             : [sel] "i"((event) | ARCH_PERFMON_EVENTSEL_OS | ARCH_PERFMON_EVENTSEL_USR | \
                                         ARCH_PERFMON_EVENTSEL_ENABLE)                                 \
                             : "rax", "rbx", "rcx", "rdx", "rsi", "memory");                           \
                rdmsr(MSR_IA32_PERFCTR0);                                                              \
        })

int main(void)
{
        report_prefix_push("boundary");
        report_eq(MEASURE(EVENT_INSTRUCTIONS, "", ""), 4, "enabling WRMSR counted, disabling WRMSR not");
        report_eq(MEASURE(EVENT_INSTRUCTIONS, "",
                          "mov $0x1a0, %%ecx\n\trdmsr\n\t"  /* 2, 3: emulated RDMSR */
                          "mov $0, %%eax\n\tcpuid\n\t"      /* 4, 5: emulated CPUID */
                          "xor %%ecx, %%ecx\n\trdpmc\n\t"   /* 6, 7: emulated RDPMC */
                          "mov $'.', %%al\n\tout %%al, $0xe9"), /* 8, 9: the '.' before the next PASS */
                  12, "RDMSR, CPUID, RDPMC and OUT are counted by KVM once each");
        set_idt_entry(GP_VECTOR, skip2_gp); /* #GP: skip the 2-byte faulting instruction */
        /* 1, mov 2, the faulting RDMSR nothing, skip2_gp 3, STOP 3 */
        report_eq(MEASURE(EVENT_INSTRUCTIONS, "", "mov $0x12345, %%ecx\n\trdmsr"), 8,
                  "a #GP-faulting RDMSR adds nothing (KVM injects #GP, no skip)");
        report_prefix_pop();

        report_prefix_push("events");
        report_eq(MEASURE(EVENT_CORE_CYCLES, "", ".rept 100\n\tnop\n\t.endr"), 103,
                  "core cycles: 100 nops + 3 (the WRMSRs exit: no guest cycles)");
        report_eq(MEASURE(EVENT_TOPDOWN_SLOTS, "", ".rept 100\n\tnop\n\t.endr"), 103 * 6,
                  "topdown slots = cycles x 6 (Sapphire Rapids issue width)");
        report_eq(MEASURE(EVENT_LLC_MISSES, "mov (%%rsi), %%rax\n\tclflush (%%rsi)",
                          "mov (%%rsi), %%rax\n\t"   /* misses the LLC: it was flushed */
                          "mov (%%rsi), %%rax"),     /* L1 hit */
                  1, "LLC misses: one load after CLFLUSH");
        report_eq(MEASURE(EVENT_LLC_REFERENCES, "clflush (%%rsi)",
                          "mov (%%rsi), %%rax\n\tmov 64(%%rsi), %%rax\n\tmov (%%rsi), %%rax"),
                  2, "LLC references: two L1 misses");
        /* A loop whose exit is mispredicted, after IBPB erased the branch history. */
        report_eq(MEASURE(EVENT_BRANCH_MISSES, "mov $0x49, %%ecx\n\tmov $1, %%eax\n\txor %%edx, %%edx\n\twrmsr",
                          "mov $20, %%ecx\n1:\tdec %%ecx\n\tjnz 1b\n\t"
                          "mov $20, %%ecx\n2:\tdec %%ecx\n\tjnz 2b"),
                  2, "branch misses: one loop exit each");
        report_prefix_pop();
        return report_summary();
}
