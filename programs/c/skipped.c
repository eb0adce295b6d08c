// skipped.c — a run whose every test was skipped: report_summary() returns 77 >> 1 = 38, which
// isa-debug-exit under QEMU's mapping turns into status (38 << 1) | 1 = 77, kvm-unit-tests' "skipped"
// (vpmu test reports it as SKIP). Under --exit-status raw the status would be 38.
// vpmu: --exit-status qemu
#include "vpmu.h"

int main(void)
{
        report_prefix_push("skipped");
        report_skip("no PMU version %d here", 6);
        report_skip("nothing to count");
        report_prefix_pop();
        return report_summary();
}
