/* rules.h — one-line checks for the C twins in programs/c/pmu, as programs/pmu/rules.inc has them:
 * the access raises #GP, completes, or completes with a value (-1 standing for "it faulted"). */
#ifndef VPMU_RULES_H
#define VPMU_RULES_H

#include "pmu.h"

static inline void wr_ok(u32 msr, u64 value, const char *msg)
{
        report(wrmsr_safe(msr, value) == 0, "%s", msg);
}

static inline void rd_eq(u32 msr, u64 expected, const char *msg)
{
        u64 v;
        if (rdmsr_safe(msr, &v))
                v = -1ull;
        report_eq(v, expected, "%s", msg);
}

static inline void rdpmc_eq(u32 index, u64 expected, const char *msg)
{
        u64 v;
        if (rdpmc_safe(index, &v))
                v = -1ull;
        report_eq(v, expected, "%s", msg);
}

static inline void rdpmc_gp(u32 index, const char *msg)
{
        u64 v;
        report(rdpmc_safe(index, &v) == GP_VECTOR, "%s", msg);
}

#endif
