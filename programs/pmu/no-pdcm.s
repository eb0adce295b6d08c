; no-pdcm.s — a guest CPUID without PDCM (--no-pdcm): IA32_PERF_CAPABILITIES does not exist for the
; guest (#GP), so FW_WRITES reads as 0 and the full-width aliases are invalid (vcpu_get_perf_capabilities).
; vpmu: --host icx --no-pdcm
        org 0x100000
        bits 64
%include "../lib/vpmu.inc"
%include "rules.inc"

        EXC_SETUP
        PMU_INIT
        REPORT_EQ qword [rel pmu_pdcm], 0, "CPUID.1:ECX.PDCM is clear"
        RD_GP 0x345, "PERF_CAPABILITIES raises #GP"
        RD_GP 0x4C1, "A_PMC0 is not valid (FW_WRITES reads as 0)"
        RD_EQ 0xC1, 0, "the legacy alias exists"
        REPORT_SUMMARY
