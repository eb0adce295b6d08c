; skx.s — the Skylake-SP host as a LEGACY guest sees it: 4 GP counters (Hyper-Threading on), 3 fixed,
; no PEBS for guests (no PEBS-via-EPT), so PERF_CAPABILITIES = FW_WRITES and the host's LBR format 5
; (vmx_get_perf_capabilities) and MISC_ENABLE keeps PEBS-unavailable; reference cycles tick at 2/3 of the core clock (2 GHz TSC, 3 GHz core).
; vpmu: --host skx
        org 0x100000
        bits 64
%include "../lib/vpmu.inc"
%include "rules.inc"

        EXC_SETUP
        PMU_INIT
        REPORT_EQ qword [rel pmu_nr_gp], 4, "GP counters"
        REPORT_EQ qword [rel pmu_nr_fixed], 3, "fixed counters"
        REPORT_EQ qword [rel pmu_ebx_length], 7, "event mask length"
        RD_EQ 0x38F, 0xF, "GLOBAL_CTRL resets to 4 GP enables"
        RD_GP 0xC5, "IA32_PMC4 does not exist"
        RD_EQ 0x345, 0x2005, "PERF_CAPABILITIES = FW_WRITES | LBR format 5"
        RD_EQ 0x1A0, 0x1800, "MISC_ENABLE: BTS and PEBS unavailable (kvm_vcpu_reset)"
        RD_GP 0x3F1, "PEBS_ENABLE is not valid"
        ; 300 core cycles of nops on FC1 and FC2 together
        mov ecx, MSR_CORE_PERF_GLOBAL_CTRL
        xor eax, eax
        xor edx, edx
        wrmsr
        mov ecx, MSR_CORE_PERF_FIXED_CTR_CTRL
        mov eax, 0x330                  ; FC1 and FC2: OS | USR
        wrmsr
        mov ecx, MSR_CORE_PERF_GLOBAL_CTRL
        xor eax, eax
        mov edx, 6                      ; FC1, FC2
        wrmsr
        times 297 nop
        mov ecx, MSR_CORE_PERF_GLOBAL_CTRL
        xor eax, eax
        xor edx, edx                    ; 297 + mov, xor, xor = 300 cycles
        wrmsr
        RD_EQ 0x30A, 300, "FC1: 300 core cycles"
        RD_EQ 0x30B, 200, "FC2: 300 x 2/3 = 200 reference cycles (a multiple of 3 cycles: no edge effect)"
        REPORT_SUMMARY
