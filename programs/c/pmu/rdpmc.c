// rdpmc.c — the C twin of programs/pmu/rdpmc.s, with the same report lines: RDPMC emulation (model.md
// §9.3) under LEGACY, where every RDPMC exits: the ECX encoding, reads masked to the width, each #GP.
// vpmu: --host spr
#include "rules.h"

int main(void)
{
        u64 v;

        wr_ok(0x4C3, 0xFEDCBA987654, "GP2 := 0xfedcba987654 (full width)");
        wr_ok(0x30A, 0x123456789ABC, "FC1 := 0x123456789abc");
        rdpmc_eq(2, 0xFEDCBA987654, "RDPMC(2) reads GP counter 2");
        rdpmc_eq(0x40000001, 0x123456789ABC, "RDPMC(0x40000001) reads fixed counter 1");
        rdpmc_eq(0x40000002, 0, "RDPMC(0x40000002) reads fixed counter 2");
        rdpmc_gp(8, "RDPMC(8): GP index >= nGP");
        rdpmc_gp(64, "RDPMC(64)");
        rdpmc_gp(0x40000003, "RDPMC(0x40000003): fixed counter 3 is not exposed");
        rdpmc_gp(0x80000000, "RDPMC(0x80000000): the old fast-read bit is an undefined type");
        rdpmc_gp(0xC0000000, "RDPMC(0xc0000000)");
        rdpmc_gp(0x40010000, "RDPMC(0x40010000): type bits above bit 30");
        rdpmc_gp(0x20000000, "RDPMC(0x20000000): no metrics case in KVM's emulation (spec 9.3 step 6)");
        report(rdpmc_safe(0x10000, &v) == 0,
               "RDPMC(0x10000): VMware backdoor host TSC completes even with the backdoor off");
        return report_summary();
}
