; The guest library's PMU pieces end to end (pmu.inc, apic.inc, exceptions.inc): read CPUID leaf 0xA,
; count a known loop exactly with GP counter 0, then let the counter overflow into a PMI.
; Counting boundary (model.md §8.1): the WRMSR that enables a counter is counted, the one that disables it
; is not; a counter written with -N overflows on the N-th counted instruction (model.md §5.7: the legacy
; alias sign-extends bit 31), sets GLOBAL_STATUS bit 0 (R-PMI-1) and, with INT set, raises a PMI
; through LVTPC that auto-masks LVTPC (R-PMI-2, R-PMI-3).
; vpmu: --host spr --pmu legacy
        org 0x100000
        bits 64
%include "../lib/vpmu.inc"

LOOPS equ 100

        EXC_SETUP
        PMU_INIT
        REPORT_PREFIX_PUSH "cpuid"
        REPORT_INFO_HEX "version", qword [rel pmu_version]
        REPORT_INFO_HEX "GP counters", qword [rel pmu_nr_gp]
        REPORT_INFO_HEX "GP width", qword [rel pmu_gp_width]
        REPORT_INFO_HEX "fixed counters", qword [rel pmu_nr_fixed]
        REPORT_PREFIX_POP
        cmp qword [rel pmu_version], 2
        jae count
        REPORT_SKIP "needs an architectural PMU of version 2 or later"
        REPORT_SUMMARY

count:
        REPORT_PREFIX_PUSH "count"
        mov ecx, MSR_IA32_PERFCTR0
        xor eax, eax
        xor edx, edx
        wrmsr
        mov ecx, MSR_P6_EVNTSEL0
        mov eax, EVENT_INSTRUCTIONS | ARCH_PERFMON_EVENTSEL_OS | ARCH_PERFMON_EVENTSEL_USR | ARCH_PERFMON_EVENTSEL_ENABLE
        wrmsr                           ; counted: 1
        mov ecx, LOOPS                  ; 1
.loop:
        dec ecx                         ; LOOPS
        jnz .loop                       ; LOOPS
        mov ecx, MSR_P6_EVNTSEL0        ; 1
        xor eax, eax                    ; 1
        wrmsr                           ; not counted
        mov ecx, MSR_IA32_PERFCTR0
        rdmsr
        shl rdx, 32
        or rax, rdx
        REPORT_EQ rax, 2 * LOOPS + 4, "instructions retired by the loop"
        REPORT_PREFIX_POP

        REPORT_PREFIX_PUSH "pmi"
        PMI_SETUP PMI_VECTOR, pmi_handler
        mov ecx, MSR_IA32_PERFCTR0
        mov eax, -10                    ; legacy alias: bit 31 sign-extends to the counter width
        xor edx, edx
        wrmsr
        mov ecx, MSR_P6_EVNTSEL0
        mov eax, EVENT_INSTRUCTIONS | ARCH_PERFMON_EVENTSEL_OS | ARCH_PERFMON_EVENTSEL_USR | ARCH_PERFMON_EVENTSEL_INT | ARCH_PERFMON_EVENTSEL_ENABLE
        sti
        wrmsr
        mov ecx, 50
.spin:
        dec ecx
        jnz .spin
        cli
        mov ecx, MSR_P6_EVNTSEL0
        xor eax, eax
        xor edx, edx
        wrmsr
        REPORT_EQ qword [rel pmi_count], 1, "one PMI (LVTPC masks itself on delivery)"
        ; -10 wraps on the 10th counted instruction: the enabling WRMSR, mov ecx, then dec/jnz pairs,
        ; so the 4th jnz wraps it and the PMI arrives before the next dec, with ecx = 50 - 4.
        REPORT_EQ qword [rel pmi_ecx], 46, "PMI at the exact instruction boundary"
        mov ecx, MSR_CORE_PERF_GLOBAL_STATUS
        rdmsr
        and eax, 1
        REPORT_EQ rax, 1, "GLOBAL_STATUS bit 0 set"
        call apic_read_lvtpc
        REPORT_EQ rax, APIC_LVT_MASKED | PMI_VECTOR, "LVTPC masked after delivery"
        REPORT_PREFIX_POP
        REPORT_SUMMARY

pmi_handler:
        inc qword [rel pmi_count]
        mov [rel pmi_ecx], rcx
        PMI_EOI
        iretq

align 8
pmi_count: dq 0
pmi_ecx:   dq 0
