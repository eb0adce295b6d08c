; The 64-bit MSR/PMC macros of pmu.inc on the legacy vPMU (SPR: 48-bit GP counters, full-width writes).
; A full-width write (MSR_IA32_PMC0, model.md §5.7) stores all 48 bits; the legacy alias (MSR_IA32_PERFCTR0)
; sign-extends bit 31 of a 32-bit value to the counter width; RDMSR and RDPMC read the same counter.
; vpmu: --host spr --pmu legacy
        org 0x100000
        bits 64
%include "../lib/vpmu.inc"

        REPORT_PREFIX_PUSH "full-width"
        mov rbx, 0x0000_8765_4321_0FED
        WRMSR64 MSR_IA32_PMC0, rbx
        RDMSR64 MSR_IA32_PMC0
        REPORT_EQ rax, rbx, "RDMSR64 reads back all 48 bits"
        RDPMC64 0
        REPORT_EQ rax, rbx, "RDPMC64 of GP counter 0"
        REPORT_EQ rbx, 0x0000_8765_4321_0FED, "WRMSR64 preserved its value register"
        REPORT_PREFIX_POP

        REPORT_PREFIX_PUSH "legacy alias"
        WRMSR64 MSR_IA32_PERFCTR0, 0x8000_0000
        RDMSR64 MSR_IA32_PERFCTR0
        REPORT_EQ rax, 0x0000_FFFF_8000_0000, "bit 31 sign-extends to bit 47"
        REPORT_PREFIX_POP
        REPORT_SUMMARY
