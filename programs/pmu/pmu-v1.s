; pmu-v1.s — a version-1 PMU with one GP counter (--pmu-version 1 --gp 1): no fixed counters and no
; global MSRs (R-CPUID-3, R-VAL-4), the P6 exemption for counters 0–1 (R-VAL-8), and counting without a
; GLOBAL_CTRL (a v1 counter is enabled by its selector alone).
; vpmu: --host spr --pmu-version 1 --gp 1
        org 0x100000
        bits 64
%include "../lib/vpmu.inc"
%include "rules.inc"

        EXC_SETUP
        PMU_INIT
        REPORT_EQ qword [rel pmu_version], 1, "CPUID.0AH version"
        REPORT_EQ qword [rel pmu_nr_gp], 1, "CPUID.0AH GP counters"
        RD_GP 0x38F, "GLOBAL_CTRL does not exist in version 1"
        RD_GP 0x38D, "FIXED_CTR_CTRL does not exist in version 1"
        RD_GP 0x309, "fixed counter 0 does not exist in version 1"
        RD_EQ 0xC2, 0, "P6 exemption: PERFCTR1 reads 0"
        WR_OK 0xC2, 5, "P6 exemption: PERFCTR1 write is discarded"
        RD_EQ 0xC2, 0, "P6 exemption: still 0"
        WR_OK 0x187, 0x4300C0, "P6 exemption: EVNTSEL1 write is discarded"
        RD_EQ 0x187, 0, "P6 exemption: EVNTSEL1 reads 0"
        RD_GP 0xC3, "PERFCTR2 has no exemption"
        RD_GP 0x4C2, "A_PMC1 has no exemption"
        RDPMC_GP 0x40000000, "RDPMC of a fixed counter"
        ; count 100 iterations with only the selector (no global enable in v1)
        mov ecx, 0xC1
        xor eax, eax
        xor edx, edx
        wrmsr
        mov ecx, 0x186
        mov eax, 0x4300C4               ; EN | OS | USR | branches
        wrmsr
        mov ecx, 100
.l:     dec ecx
        jnz .l
        mov ecx, 0x186
        xor eax, eax
        wrmsr
        RD_EQ 0xC1, 100, "branches counted with the selector alone"
        REPORT_SUMMARY
