; pmi.s — overflow and the PMI (model.md §8.4): a counter preset to −N wraps on the N-th counted
; instruction, GLOBAL_STATUS gets its bit, the PMI arrives through LVTPC on the very next boundary, LVTPC
; auto-masks (Intel), a second overflow while masked sets its status bit but raises nothing, a PMI is
; held while IF = 0, and GLOBAL_OVF_CTRL clears status bits.
; vpmu: --host icx
        org 0x100000
        bits 64
%include "../lib/vpmu.inc"
%include "rules.inc"

        EXC_SETUP
        PMI_SETUP PMI_VECTOR, handler
        mov ecx, MSR_CORE_PERF_GLOBAL_CTRL
        xor eax, eax
        xor edx, edx
        wrmsr

        REPORT_PREFIX_PUSH "exact"
        mov ecx, MSR_IA32_PERFCTR0
        mov eax, -5
        wrmsr                           ; legacy alias: sign-extends to 2^48 - 5
        mov ecx, MSR_P6_EVNTSEL0
        mov eax, EVENT_INSTRUCTIONS | ARCH_PERFMON_EVENTSEL_OS | ARCH_PERFMON_EVENTSEL_INT | ARCH_PERFMON_EVENTSEL_ENABLE
        wrmsr
        sti
        mov ecx, MSR_CORE_PERF_GLOBAL_CTRL
        mov eax, 1
        wrmsr                           ; 1
        nop                             ; 2
        nop                             ; 3
        nop                             ; 4
        nop                             ; 5: wraps
.after: nop
        cli
        lea rax, [rel .after]
        REPORT_EQ qword [rel pmi_rip], rax, "the PMI interrupts the instruction after the wrap"
        REPORT_EQ qword [rel pmi_count], 1, "one PMI"
        REPORT_EQ qword [rel pmi_status], 1, "GLOBAL_STATUS bit 0 seen by the handler"
        RD_EQ MSR_X2APIC_LVTPC, APIC_LVT_MASKED | PMI_VECTOR, "LVTPC is masked by the delivery"
        REPORT_PREFIX_POP

        REPORT_PREFIX_PUSH "masked"
        mov ecx, MSR_IA32_PERFCTR0
        mov eax, -3
        wrmsr                           ; 1 (still counting)
        nop                             ; 2
        nop                             ; 3: wraps again, LVTPC masked
        nop
        mov ecx, MSR_CORE_PERF_GLOBAL_CTRL
        xor eax, eax
        wrmsr
        REPORT_EQ qword [rel pmi_count], 1, "no second PMI while LVTPC is masked"
        RD_EQ MSR_CORE_PERF_GLOBAL_STATUS, 1, "but the overflow is in GLOBAL_STATUS"
        WR_OK MSR_CORE_PERF_GLOBAL_OVF_CTRL, 1, "GLOBAL_OVF_CTRL write"
        RD_EQ MSR_CORE_PERF_GLOBAL_STATUS, 0, "GLOBAL_OVF_CTRL cleared it"
        REPORT_PREFIX_POP

        REPORT_PREFIX_PUSH "held"
        PMI_UNMASK PMI_VECTOR
        mov ecx, MSR_CORE_PERF_FIXED_CTR0
        mov eax, -2
        mov edx, 0xFFFF
        wrmsr
        mov ecx, MSR_CORE_PERF_FIXED_CTR_CTRL
        mov eax, INTEL_FIXED_0_KERNEL | INTEL_FIXED_0_ENABLE_PMI
        xor edx, edx
        wrmsr
        mov ecx, MSR_CORE_PERF_GLOBAL_CTRL
        xor eax, eax
        mov edx, 1
        wrmsr                           ; 1
        nop                             ; 2: FC0 wraps; IF = 0 so the PMI waits
        nop
        nop
        mov ecx, MSR_CORE_PERF_GLOBAL_CTRL
        xor eax, eax
        xor edx, edx
        wrmsr
        REPORT_EQ qword [rel pmi_count], 1, "nothing delivered while IF = 0"
        sti
        nop                             ; the STI shadow
.taken: nop
        cli
        lea rax, [rel .taken]
        REPORT_EQ qword [rel pmi_rip], rax, "delivered right after the STI shadow"
        REPORT_EQ qword [rel pmi_count], 2, "second PMI"
        mov rax, 1 << 32
        REPORT_EQ qword [rel pmi_status], rax, "GLOBAL_STATUS bit 32 (FC0)"
        REPORT_PREFIX_POP
        REPORT_SUMMARY

align 8
pmi_rip:    dq 0
pmi_count:  dq 0
pmi_status: dq 0

handler:
        push rax
        push rcx
        push rdx
        mov rax, [rsp + 24]
        mov [rel pmi_rip], rax
        inc qword [rel pmi_count]
        mov ecx, MSR_CORE_PERF_GLOBAL_STATUS
        rdmsr
        shl rdx, 32
        or rax, rdx
        mov [rel pmi_status], rax
        PMI_EOI
        pop rdx
        pop rcx
        pop rax
        iretq
