; R-PMI-3/R-PMI-4 with LVTPC masked on the mediated vPMU: the physical LVTPC carries the guest's mask bit,
; so a hardware counter that wraps sets GLOBAL_STATUS but raises no interrupt — no external-interrupt exit
; and no PMI for the guest, exactly as under the LEGACY emulation (which checks the virtual LVTPC mask).
; vpmu: --host spr --pmu mediated --kvm base --exits
        org 0x100000
        bits 64
%include "../lib/vpmu.inc"

        EXC_SETUP
        REPORT_PREFIX_PUSH "pmi-masked"
        PMI_SETUP PMI_VECTOR, pmi_handler
        mov eax, APIC_LVT_MASKED | PMI_VECTOR
        call apic_write_lvtpc
        mov ecx, MSR_IA32_PERFCTR0
        mov eax, -10
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
        REPORT_EQ qword [rel pmi_count], 0, "no PMI while LVTPC is masked"
        mov ecx, MSR_CORE_PERF_GLOBAL_STATUS
        rdmsr
        and eax, 1
        REPORT_EQ rax, 1, "GLOBAL_STATUS bit 0 set by the wrap"
        REPORT_PREFIX_POP
        REPORT_SUMMARY

pmi_handler:
        inc qword [rel pmi_count]
        PMI_EOI
        iretq

align 8
pmi_count: dq 0
