; rdpmc.s — RDPMC emulation (model.md §9.3) under LEGACY, where every RDPMC exits (reason 15): the ECX
; encoding (type in 31:16, index in 15:0), GP and fixed reads masked to the width, and every #GP case.
; vpmu: --host spr
        org 0x100000
        bits 64
%include "../lib/vpmu.inc"
%include "rules.inc"

        EXC_SETUP
        WR_OK 0x4C3, 0xFEDCBA987654, "GP2 := 0xfedcba987654 (full width)"
        WR_OK 0x30A, 0x123456789ABC, "FC1 := 0x123456789abc"
        RDPMC_EQ 2, 0xFEDCBA987654, "RDPMC(2) reads GP counter 2"
        RDPMC_EQ 0x40000001, 0x123456789ABC, "RDPMC(0x40000001) reads fixed counter 1"
        RDPMC_EQ 0x40000002, 0, "RDPMC(0x40000002) reads fixed counter 2"
        RDPMC_GP 8, "RDPMC(8): GP index >= nGP"
        RDPMC_GP 64, "RDPMC(64)"
        RDPMC_GP 0x40000003, "RDPMC(0x40000003): fixed counter 3 is not exposed"
        RDPMC_GP 0x80000000, "RDPMC(0x80000000): the old fast-read bit is an undefined type"
        RDPMC_GP 0xC0000000, "RDPMC(0xc0000000)"
        RDPMC_GP 0x40010000, "RDPMC(0x40010000): type bits above bit 30"
        RDPMC_GP 0x20000000, "RDPMC(0x20000000): no metrics case in KVM's emulation (spec 9.3 step 6)"
        mov ecx, 0x10000
        SAFE_RDPMC
        test ebx, ebx
        sete bl
        movzx ebx, bl
        REPORT rbx, "RDPMC(0x10000): VMware backdoor host TSC completes even with the backdoor off"
        REPORT_SUMMARY
