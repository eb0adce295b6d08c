; A pass-through GLOBAL_CTRL write survives a long run without exits. The guest enables only fixed
; counter 0 (bit 32) with a native WRMSR, then retires over 2^20 instructions without a VM exit, past the
; points where vpmu-lab's run loop stops to re-derive budgets. No VM entry happens there, so nothing may
; load the VMCS guest GLOBAL_CTRL field (still the value the last exit saved: the GP enable bits) into
; the hardware (SDM: "load IA32_PERF_GLOBAL_CTRL" acts only on VM entry).
; vpmu: --host spr --pmu mediated --kvm fix
        org 0x100000
        bits 64
%include "../lib/vpmu.inc"
%include "../pmu/rules.inc"
ITER    equ 600000

        EXC_SETUP
        WR_OK MSR_CORE_PERF_FIXED_CTR0, 0, "FIXED_CTR0 cleared"
        WR_OK MSR_CORE_PERF_FIXED_CTR_CTRL, INTEL_FIXED_0_KERNEL, "FC0 counts instructions at CPL 0"
        mov ebx, ITER
        mov ecx, MSR_CORE_PERF_GLOBAL_CTRL
        xor eax, eax
        mov edx, 1
        wrmsr                           ; FC0 only (bit 32); counted, like any enabling WRMSR (count-loop.inc): 1
.spin:  dec ebx                         ; 1 + 2 * ITER
        jnz .spin
        rdmsr                           ; 2 * ITER + 2: GLOBAL_CTRL, still bit 32 alone
        mov r8, rdx                     ; + 3
        shl r8, 32                      ; + 4
        or r8, rax                      ; + 5
        mov ecx, MSR_CORE_PERF_FIXED_CTR0 ; + 6
        rdmsr                           ; reads 2 * ITER + 6
        shl rdx, 32
        or rax, rdx
        mov r9, rax
        mov rax, 1 << 32
        REPORT_EQ r8, rax, "GLOBAL_CTRL still holds the guest's value"
        REPORT_EQ r9, 2 * ITER + 6, "FC0 counted every instruction"
        REPORT_SUMMARY
