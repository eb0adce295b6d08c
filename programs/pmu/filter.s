; filter.s — a PMU event filter the VMM installed (--pmu-filter, KVM_SET_PMU_EVENT_FILTER; model.md §10): the
; guest programs its counters as usual, but KVM does not back a denied event (R-FLT-4) or a fixed counter
; the bitmap denies (R-FLT-5), so they count nothing; an event the filter does not name counts exactly.
; The guest cannot see the filter: every MSR access succeeds.
; vpmu: --host icx --pmu-filter deny-instructions.json
        org 0x100000
        bits 64
%include "../lib/vpmu.inc"
%include "rules.inc"

        EXC_SETUP
        WR_OK MSR_CORE_PERF_GLOBAL_CTRL, 0, "GLOBAL_CTRL cleared"
        WR_OK MSR_IA32_PERFCTR0, 0, "PERFCTR0 cleared"
        WR_OK MSR_IA32_PERFCTR0 + 1, 0, "PERFCTR1 cleared"
        WR_OK MSR_CORE_PERF_FIXED_CTR0, 0, "FIXED_CTR0 cleared"
        WR_OK MSR_P6_EVNTSEL0, EVENT_INSTRUCTIONS | ARCH_PERFMON_EVENTSEL_OS | ARCH_PERFMON_EVENTSEL_ENABLE, "EVNTSEL0: instructions retired (denied)"
        WR_OK MSR_P6_EVNTSEL0 + 1, EVENT_BRANCHES | ARCH_PERFMON_EVENTSEL_OS | ARCH_PERFMON_EVENTSEL_ENABLE, "EVNTSEL1: branches retired"
        WR_OK MSR_CORE_PERF_FIXED_CTR_CTRL, INTEL_FIXED_0_KERNEL, "FC0 enabled at CPL 0 (denied by the bitmap)"
        mov ebx, 100
        mov ecx, MSR_CORE_PERF_GLOBAL_CTRL
        mov eax, 3                      ; GP0, GP1
        mov edx, 1                      ; FC0
        wrmsr
.loop:  dec ebx
        jnz .loop                       ; 100 branches retired
        mov ecx, MSR_CORE_PERF_GLOBAL_CTRL
        xor eax, eax
        xor edx, edx
        wrmsr
        RD_EQ MSR_IA32_PERFCTR0, 0, "denied event 0xC0 counted nothing"
        RD_EQ MSR_CORE_PERF_FIXED_CTR0, 0, "denied fixed counter 0 counted nothing"
        RD_EQ MSR_IA32_PERFCTR0 + 1, 100, "branches retired (not in the filter) counted every JNZ"
        RD_EQ MSR_P6_EVNTSEL0, EVENT_INSTRUCTIONS | ARCH_PERFMON_EVENTSEL_OS | ARCH_PERFMON_EVENTSEL_ENABLE, "EVNTSEL0 reads back as written"
        REPORT_SUMMARY
