/*
 * report.c — test results in the format of kvm-unit-tests lib/report.c (the same lines as
 * programs/lib/report.inc), and the end of a run.
 */
#include "asm.h"
#include "vpmu.h"
#include "x86.h"

static unsigned tests, failures, skipped;
static char prefixes[256];

/* Push "prefix: " onto the prefix string; a prefix that does not fit is fatal, as in report.c. */
void report_prefix_push(const char *prefix)
{
        size_t len = strlen(prefixes);
        int n = snprintf(prefixes + len, sizeof(prefixes) - len, "%s: ", prefix);
        if (len + (size_t)n >= sizeof(prefixes)) {
                prefixes[len] = '\0';
                report_abort("report prefix \"%s\" does not fit in %u bytes", prefix,
                             (unsigned)sizeof(prefixes));
        }
}

/* Drop the innermost prefix: cut after the second-to-last ": " (nothing when there is none). */
void report_prefix_pop(void)
{
        size_t len = strlen(prefixes);
        if (len == 0)
                return;
        size_t cut = 0;
        for (size_t i = 0; i + 2 < len; i++)
                if (prefixes[i] == ':' && prefixes[i + 1] == ' ')
                        cut = i + 2;
        prefixes[cut] = '\0';
}

static void line(const char *tag, const char *fmt, va_list va)
{
        printf("%s: %s", tag, prefixes);
        vprintf(fmt, va);
        putchar('\n');
}

void report(bool pass, const char *fmt, ...)
{
        va_list va;
        va_start(va, fmt);
        tests++;
        if (!pass)
                failures++;
        line(pass ? "PASS" : "FAIL", fmt, va);
        va_end(va);
}

void report_eq(u64 value, u64 expected, const char *fmt, ...)
{
        va_list va;
        va_start(va, fmt);
        tests++;
        line(value == expected ? "PASS" : "FAIL", fmt, va);
        va_end(va);
        if (value == expected)
                return;
        failures++;
        va_start(va, fmt);
        printf("INFO: %s", prefixes);
        vprintf(fmt, va);
        printf(": expected 0x%016lx, got 0x%016lx\n", expected, value);
        va_end(va);
}

void report_skip(const char *fmt, ...)
{
        va_list va;
        va_start(va, fmt);
        tests++;
        skipped++;
        line("SKIP", fmt, va);
        va_end(va);
}

void report_info(const char *fmt, ...)
{
        va_list va;
        va_start(va, fmt);
        line("INFO", fmt, va);
        va_end(va);
}

int report_summary(void)
{
        printf("SUMMARY: %u tests", tests);
        if (failures)
                printf(", %u unexpected failures", failures);
        if (skipped)
                printf(", %u skipped", skipped);
        putchar('\n');
        /* kvm-unit-tests' values, written to isa-debug-exit as they are: under QEMU's (v << 1) | 1 mapping
         * (vpmu --exit-status qemu) 0 ends with status 1 (pass), 1 with 3 (fail), and 77 >> 1 with 77,
         * the autotools "skipped" status. */
        if (failures)
                return 1;
        return tests == skipped ? 77 >> 1 : 0;
}

void report_abort(const char *fmt, ...)
{
        va_list va;
        va_start(va, fmt);
        line("ABORT", fmt, va);
        va_end(va);
        failures++;
        exit(report_summary());
}
