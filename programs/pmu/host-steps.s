; host-steps.s — what the VMM does between two KVM_RUNs (--step; docs/vpmu.md "Host steps", issue 14 item 11):
; KVM_RUN for 3000 instructions, KVM_SET_MSRS PERFCTR0 := 1000000 (host-initiated), KVM_RUN for 12000 more,
; then KVM_SET_PMU_EVENT_FILTER denying instructions retired; the guest then runs to its end. The guest
; counts instructions retired on GP0 through three loops and sees the host's value land inside the first and
; the filter stop the count inside the second. --expect-exit asserts on the exit log: the guest's
; EVNTSEL0 write exits, and later a read of PERFCTR0 does.
; vpmu: --host spr --pmu legacy --step run:3000 --step set-msr:0xc1=1000000 --step run:12000 --step set-filter:deny-instructions.json --expect-exit "MSR_WRITE (0x186) value=0x4200c0" --expect-exit "MSR_READ (0xc1)"
        org 0x100000
        bits 64
%include "../lib/vpmu.inc"
%include "rules.inc"

        EXC_SETUP
        WRMSR64 MSR_IA32_PERFCTR0, 0
        WRMSR64 MSR_P6_EVNTSEL0, EVENT_INSTRUCTIONS | ARCH_PERFMON_EVENTSEL_OS | ARCH_PERFMON_EVENTSEL_ENABLE
        WRMSR64 MSR_CORE_PERF_GLOBAL_CTRL, 1
        mov ebx, 5000
.l1:    dec ebx
        jnz .l1                         ; 10000 instructions: the KVM_SET_MSRS lands in here
        RDMSR64 MSR_IA32_PERFCTR0
        mov r12, rax
        mov ebx, 5000
.l2:    dec ebx
        jnz .l2                         ; 10000 more: the filter lands in here
        RDMSR64 MSR_IA32_PERFCTR0
        mov r13, rax
        mov ebx, 100
.l3:    dec ebx
        jnz .l3                         ; denied: counts nothing
        RDMSR64 MSR_IA32_PERFCTR0
        mov r14, rax
        REPORT_INFO_HEX "PERFCTR0 after loop 1", r12
        REPORT_INFO_HEX "PERFCTR0 after loop 2", r13
        mov rax, r12
        sub rax, 1000000
        cmp rax, 10000
        setb al
        movzx eax, al
        REPORT rax, "the host's 1000000 landed inside loop 1 (fewer than 10000 counted after it)"
        mov rax, r13
        sub rax, r12
        cmp rax, 10000
        setb al
        movzx eax, al
        REPORT rax, "the filter landed inside loop 2 (fewer than its 10000 instructions counted)"
        REPORT_EQ r14, r13, "denied: loop 3 counted nothing"
        REPORT_SUMMARY
