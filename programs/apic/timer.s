; timer.s — the local APIC timer (issue 14 item 6): TSC-deadline mode through IA32_TSC_DEADLINE (0x6E0),
; one-shot and periodic modes through the initial/current count and the divide configuration, all on the
; model's TSC (guest cycles at the core clock, seen at the TSC rate), so each interrupt arrives at an exact
; instruction boundary: the first one where the TSC has reached the expiry. HLT with the timer armed sleeps
; until it fires. CPUID.1:ECX[24] (TSC-deadline) is on, as QEMU sets it. x2APIC mode (the flat guest ABI).
; vpmu: --host spr
        org 0x100000
        bits 64
%include "../lib/vpmu.inc"
%include "../pmu/rules.inc"

%macro WRMSR_V 2
        mov ecx, %1
        mov rax, %2
        mov rdx, rax
        shr rdx, 32
        wrmsr
%endmacro
; TSC_TO reg — reg := the 64-bit TSC (clobbers rax, rdx).
%macro TSC_TO 1
        rdtsc
        shl rdx, 32
        or rax, rdx
        mov %1, rax
%endmacro

        EXC_SETUP
        SET_IDT_GATE 0x30, timer_isr
        call apic_sw_enable
        mov eax, 1
        cpuid
        shr ecx, 24
        and ecx, 1
        REPORT_EQ rcx, 1, "CPUID.1:ECX.TSC_DEADLINE_TIMER"

        REPORT_PREFIX_PUSH "TSC deadline"
        WRMSR_V 0x832, 0x40030          ; LVTT: TSC-deadline mode, vector 0x30
        RD_EQ 0x6E0, 0, "IA32_TSC_DEADLINE reads 0 while disarmed"
        TSC_TO rbx
        lea r12, [rbx + 1000]
        mov rax, r12
        mov rdx, r12
        shr rdx, 32
        mov ecx, 0x6E0
        wrmsr
        sti
.spin:  TSC_TO r13                      ; the last TSC the loop saw before the interrupt
        cmp qword [rel fired], 0
        je .spin
        cli
        cmp r13, r12
        setb al
        movzx eax, al
        REPORT rax, "the last TSC read before the interrupt is below the deadline"
        mov rax, [rel isr_tsc]
        sub rax, r12
        REPORT_EQ rax, 77, "the handler's first RDTSC: deadline + 77 (event delivery, then the handler's first instructions)"
        RD_EQ 0x6E0, 0, "IA32_TSC_DEADLINE reads 0 once it fired"
        RD_EQ 0x839, 0, "current count is 0 in TSC-deadline mode"

        ; HLT: the vCPU sleeps until the deadline.
        mov qword [rel fired], 0
        TSC_TO rbx
        lea r12, [rbx + 50000]
        mov rax, r12
        mov rdx, r12
        shr rdx, 32
        mov ecx, 0x6E0
        wrmsr
        sti
        hlt
        cli
        mov rax, [rel fired]
        REPORT_EQ rax, 1, "HLT wakes on the timer interrupt"
        mov rax, [rel isr_tsc]
        sub rax, r12
        REPORT_EQ rax, 27, "after HLT: deadline + 27 (the halted vCPU wakes exactly at the deadline, then delivery)"

        ; A deadline already passed fires at once.
        mov qword [rel fired], 0
        WRMSR_V 0x6E0, 1
        sti
        nop
        cli
        mov rax, [rel fired]
        REPORT_EQ rax, 1, "a deadline in the past fires at the next boundary"
        ; Leaving TSC-deadline mode disarms the timer.
        WRMSR_V 0x6E0, 0xFFFFFFFFFFFF
        WRMSR_V 0x832, 0x10030
        RD_EQ 0x6E0, 0, "IA32_TSC_DEADLINE reads 0 outside TSC-deadline mode"
        REPORT_PREFIX_POP

        REPORT_PREFIX_PUSH "one-shot"
        mov qword [rel fired], 0
        WRMSR_V 0x83E, 0xB              ; divide by 1: one tick = 1 ns (KVM's APIC bus)
        WRMSR_V 0x832, 0x30             ; one-shot, vector 0x30, unmasked
        TSC_TO r12
        WRMSR_V 0x838, 100000           ; 100 us
        nop
        nop
        nop
        nop
        mov ecx, 0x839
        rdmsr
        mov r14, rax                    ; reported below: no console output while the timer runs
        sti
.wait1: cmp qword [rel fired], 0
        je .wait1
        cli
        RD_EQ 0x838, 100000, "initial count"
        REPORT_EQ r14, 99999, "current count a few instructions after the write (ns left at divide 1)"
        mov rax, [rel isr_tsc]
        sub rax, r12
        REPORT_EQ rax, 200041, "fires 100 us (200000 TSC cycles at 2 GHz) after the write (+41: the write, delivery, handler)"
        RD_EQ 0x839, 0, "current count 0 once the count ran out"
        REPORT_PREFIX_POP

        REPORT_PREFIX_PUSH "periodic"
        mov qword [rel fired], 0
        WRMSR_V 0x83E, 0x1              ; divide by 4
        WRMSR_V 0x832, 0x20030          ; periodic
        TSC_TO r12
        WRMSR_V 0x838, 100000           ; 400 us per period
        sti
.wait3: cmp qword [rel fired], 3
        jb .wait3
        cli
        WRMSR_V 0x838, 0                ; stop it
        mov rax, [rel isr_tsc]
        sub rax, r12
        REPORT_EQ rax, 2400041, "the third interrupt comes 3 periods (3 x 800000 TSC cycles) after the write (+41)"
        mov rax, [rel isr_tsc]
        sub rax, [rel isr_tsc_prev]
        REPORT_EQ rax, 800000, "one period between the second and third interrupt"
        RD_EQ 0x839, 0, "writing 0 to the initial count stops it"
        REPORT_PREFIX_POP
        REPORT_SUMMARY

timer_isr:
        push rax
        push rdx
        mov rax, [rel isr_tsc]
        mov [rel isr_tsc_prev], rax
        rdtsc
        shl rdx, 32
        or rax, rdx
        mov [rel isr_tsc], rax
        inc qword [rel fired]
        pop rdx
        pop rax
        push rcx
        push rax
        push rdx
        mov ecx, 0x80B
        xor eax, eax
        xor edx, edx
        wrmsr
        pop rdx
        pop rax
        pop rcx
        iretq

align 8
fired:        dq 0
isr_tsc:      dq 0
isr_tsc_prev: dq 0
