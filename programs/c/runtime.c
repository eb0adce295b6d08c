// runtime.c — the C guest runtime itself (docs/c-guests.md): printf's conversions, the report prefix
// stack, an exception handler that resumes, the *_safe accessors, CPUID, and the exit status; and that it
// was booted through the Multiboot entry, with the command line in the information block.
#include "asm.h"
#include "vpmu.h"
#include "x86.h"

static unsigned ud_seen;

/* #UD handler: count it and resume after the 2-byte UD2. */
static void skip_ud2(struct ex_regs *regs)
{
        ud_seen++;
        regs->rip += 2;
}

int main(void)
{
        char buf[16];

        report(mb_magic == MB_BOOT_MAGIC, "entered through Multiboot: EAX = 0x%lx", mb_magic);
        const u32 *info = (const u32 *)mb_info;
        if (info[0] & (1 << 2)) /* flags bit 2: cmdline at +16 */
                report_info("command line \"%s\"", (const char *)(u64)info[4]);

        printf("%d %i %d %u %u\n", 0, -1, -2147483647 - 1, 4294967295u, 7);
        printf("%x %X %lx %lu %ld\n", 0xbeefu, 0xbeefu, 0xfedcba9876543210ul, 18446744073709551615ul,
               -9223372036854775807l - 1);
        printf("[%5d] [%-5d] [%05d] [%05x] [%016lx] [%3s] [%-3s] [%c] [%p] [%%]\n", -42, -42, -42, 0xab,
               0x1234ul, "a", "b", 'z', (void *)0x100000);
        int n = snprintf(buf, sizeof(buf), "%s-%d", "truncated at sixteen", 42);
        printf("snprintf: %d \"%s\"\n", n, buf);

        report_prefix_push("prefixes");
        report_prefix_push("inner");
        report(true, "two prefixes");
        report_prefix_pop();
        report(true, "one prefix, %s", "formatted");
        report_prefix_pop();
        report_prefix_pop(); /* nothing left: no effect, as in kvm-unit-tests */
        report(true, "no prefix");

        report_prefix_push("exceptions");
        handle_exception(UD_VECTOR, skip_ud2);
        asm volatile("ud2");
        asm volatile("ud2");
        report(ud_seen == 2, "a C handler resumed after %u UD2s", ud_seen);
        handle_exception(UD_VECTOR, NULL);
        u64 v = 0;
        report(rdmsr_safe(0x12345, &v) == GP_VECTOR, "rdmsr_safe of an unknown MSR: #GP");
        report(rdmsr_safe(0x10, &v) == 0 && v != 0, "rdmsr_safe of IA32_TSC completes");
        report(wrmsr_safe(0x12345, 1) == GP_VECTOR, "wrmsr_safe of an unknown MSR: #GP");
        report(rdpmc_safe(0, &v) == GP_VECTOR, "rdpmc_safe without a PMU: #GP");
        report_prefix_pop();

        struct cpuid id = cpuid(0);
        char vendor[13];
        memcpy(vendor, &id.b, 4);
        memcpy(vendor + 4, &id.d, 4);
        memcpy(vendor + 8, &id.c, 4);
        vendor[12] = '\0';
        report(strcmp(vendor, "GenuineIntel") == 0, "CPUID vendor %s, max leaf 0x%x", vendor, id.a);
        report_skip("skipped on purpose");
        report_eq(1, 2, "report_eq prints what it expected");
        return report_summary();
}
