; ipi.s — interrupts the local APIC delivers to its own vCPU (issue 14 item 6, issue 13 item 2): the x2APIC
; SELF_IPI MSR, ICR writes (kvm_x2apic_icr_write → kvm_apic_send_ipi) with the self and all-including-self
; shorthands and physical/broadcast destinations delivering, all-excluding-self and other APIC IDs as no-ops
; in a VM with one vCPU, INIT/SIPI to absent CPUs as no-ops, the delivery-status bit reading idle; TPR/PPR
; holding a vector in IRR, EOI releasing the next by priority; the same through the xAPIC MMIO ICR.
; Each handler appends its vector to a log and returns without EOI; the program EOIs.
; vpmu: --host spr
        org 0x100000
        bits 64
%include "../lib/vpmu.inc"
%include "../pmu/rules.inc"

APIC_MMIO equ 0xFEE00000

%macro LOG_IS 2
        mov rax, [rel log_buf]
        REPORT_EQ rax, %1, %2
        mov qword [rel log_buf], 0
        mov qword [rel log_n], 0
%endmacro
%macro WRMSR_V 2
        mov ecx, %1
        mov rax, %2
        mov rdx, rax
        shr rdx, 32
        wrmsr
%endmacro
%macro EOI 0
        WRMSR_V 0x80B, 0
%endmacro
%macro HANDLER 2
%1:
        push rax
        push rcx
        mov rcx, [rel log_n]
        lea rax, [rel log_buf]
        mov byte [rax + rcx], %2
        inc qword [rel log_n]
        pop rcx
        pop rax
        iretq
%endmacro

        EXC_SETUP
        SET_IDT_GATE 64, isr_64
        SET_IDT_GATE 65, isr_65
        SET_IDT_GATE 66, isr_66
        SET_IDT_GATE 80, isr_80
        SET_IDT_GATE 96, isr_96
        SET_IDT_GATE 112, isr_112
        SET_IDT_GATE 114, isr_114
        call apic_sw_enable
        sti

        REPORT_PREFIX_PUSH "x2APIC"
        WRMSR_V 0x83F, 0x40
        LOG_IS 0x40, "SELF_IPI delivers its vector at the next instruction boundary"
        RD_EQ 0x812, 1, "vector 0x40 is in service (ISR bits 95:64)"
        RD_EQ 0x80A, 0x40, "PPR is the in-service class"
        EOI
        RD_EQ 0x812, 0, "EOI clears it"
        WR_GP 0x83F, 0x140, "SELF_IPI bits 31:8 are reserved"

        WRMSR_V 0x808, 0x60
        WRMSR_V 0x83F, 0x50
        LOG_IS 0, "TPR 0x60 holds vector 0x50"
        RD_EQ 0x822, 0x10000, "vector 0x50 waits in IRR (bits 95:64, bit 16)"
        cli
        WRMSR_V 0x808, 0x70
        WRMSR_V 0x83F, 0x40
        WRMSR_V 0x83F, 0x60
        WRMSR_V 0x808, 0
        sti
        nop
        LOG_IS 0x60, "TPR 0: the highest pending vector is taken first"
        EOI
        LOG_IS 0x50, "EOI of 0x60 lets the next highest in: 0x50 (held since TPR 0x60)"
        EOI
        LOG_IS 0x40, "then 0x40"
        EOI
        RD_EQ 0x80A, 0, "nothing in service: PPR = TPR = 0"
        REPORT_PREFIX_POP

        REPORT_PREFIX_PUSH "x2APIC ICR"
        WRMSR_V 0x830, 0x40040
        LOG_IS 0x40, "self shorthand"
        EOI
        RD_EQ 0x830, 0x40040, "ICR reads back what was written; delivery status (bit 12) idle"
        WRMSR_V 0x830, 0x80070
        LOG_IS 0x70, "all-including-self shorthand"
        EOI
        WRMSR_V 0x830, 0xC0072
        LOG_IS 0, "all-excluding-self: no other vCPU, nothing happens"
        WRMSR_V 0x830, 0x72
        LOG_IS 0x72, "physical destination 0 (this vCPU's x2APIC ID)"
        EOI
        WRMSR_V 0x830, 0x500000072
        LOG_IS 0, "physical destination 5: an absent CPU, nothing happens"
        WRMSR_V 0x830, 0xFFFFFFFF00000072
        LOG_IS 0x72, "the broadcast destination 0xFFFFFFFF includes this vCPU"
        EOI
        WRMSR_V 0x830, 0x100000872
        LOG_IS 0x72, "logical destination cluster 0, bit 0 (this vCPU's LDR)"
        EOI
        WRMSR_V 0x830, 0xC4500
        WRMSR_V 0x830, 0xC4610
        LOG_IS 0, "INIT and SIPI to all-excluding-self: no CPU to start, no-ops"
        WRMSR_V 0x830, 0x41040
        LOG_IS 0x40, "a set delivery-status bit is ignored (KVM clears it)"
        EOI
        RD_EQ 0x830, 0x40040, "and reads back clear"
        WR_GP 0x830, 0x42040, "ICR bit 13 is reserved"
        WR_GP 0x830, 0x100040, "ICR bits 31:20 are reserved"
        REPORT_PREFIX_POP

        REPORT_PREFIX_PUSH "xAPIC ICR"
        WRMSR_V 0x1B, 0xFEE00100
        WRMSR_V 0x1B, 0xFEE00900
        mov r15d, APIC_MMIO
        mov dword [r15 + 0x310], 0
        mov dword [r15 + 0x300], 0x40041
        LOG_IS 0x41, "self shorthand through the MMIO ICR"
        mov dword [r15 + 0xB0], 0
        mov eax, [r15 + 0x300]
        REPORT_EQ rax, 0x40041, "the MMIO ICR reads back, delivery status idle"
        mov dword [r15 + 0x300], 0x42
        LOG_IS 0x42, "physical destination 0 from ICR2[31:24]"
        mov dword [r15 + 0xB0], 0
        mov dword [r15 + 0x310], 0x01000000
        mov dword [r15 + 0x300], 0x42
        LOG_IS 0, "physical destination 1: an absent CPU"
        mov dword [r15 + 0x310], 0xFF000000
        mov dword [r15 + 0x300], 0x42
        LOG_IS 0x42, "the xAPIC broadcast destination 0xFF"
        mov dword [r15 + 0xB0], 0
        mov dword [r15 + 0x300], 0xC4500
        LOG_IS 0, "INIT all-excluding-self: a no-op"
        mov eax, [r15 + 0x100 + 0x20]
        REPORT_EQ rax, 0, "nothing left in service"
        REPORT_PREFIX_POP
        REPORT_SUMMARY

        HANDLER isr_64, 64
        HANDLER isr_65, 65
        HANDLER isr_66, 66
        HANDLER isr_80, 80
        HANDLER isr_96, 96
        HANDLER isr_112, 112
        HANDLER isr_114, 114

align 8
log_buf: dq 0
log_n:   dq 0
