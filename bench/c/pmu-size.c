// pmu-size.c — a C guest of the size of kvm-unit-tests' x86 PMU test (about 2.7 x 10^9 instructions,
// paging on), for bench/c-guest.bench.mjs (issue 13 item 5). Like that test's measured loops it walks a
// buffer a cache line at a time; between walks it calls a small branchy function. The result is checked
// against its closed form, so a wrong CPU fails the run rather than only slowing it.
#include "vpmu.h"

#define LINES 16384 /* 1 MiB, one u64 in each 64-byte line */
#define ROUNDS 23500
#define STRIDE 8

static u64 buf[LINES * STRIDE];

/* One Collatz step: a data-dependent branch gcc keeps (noinline: a call per round, as a test's helpers). */
static __attribute__((noinline)) u64 step(u64 x)
{
        return (x & 1) ? 3 * x + 1 : x / 2;
}

int main(void)
{
        u64 sum = 0, x = 27;
        for (u64 r = 0; r < ROUNDS; r++) {
                for (u64 i = 0; i < LINES; i++) {
                        buf[i * STRIDE] += 1;
                        sum += buf[i * STRIDE];
                }
                x = step(x);
        }
        /* After round r every line holds r + 1, so sum = LINES * ROUNDS * (ROUNDS + 1) / 2; 27 reaches 1
         * after 111 steps and then cycles 1 -> 4 -> 2 -> 1. */
        u64 cycle[3] = { 1, 4, 2 };
        report(sum == (u64)LINES * ROUNDS * (ROUNDS + 1) / 2, "buffer walks: sum %lu", sum);
        report(x == cycle[(ROUNDS - 111) % 3], "Collatz steps: x = %lu", x);
        return report_summary();
}
