; counting.s — the exact counting rules of the LEGACY vPMU (model.md §8.1): the enabling WRMSR is counted
; and the disabling one is not; every instruction KVM emulates and completes (RDMSR, WRMSR, RDPMC, CPUID,
; OUT) is counted once by KVM (R-CNT-4), a faulting one not at all; cycles, topdown slots, LLC events
; after CLFLUSH, and branch misses after IBPB follow the cost model of docs/vpmu.md.
; vpmu: --host spr
        org 0x100000
        bits 64
%include "../lib/vpmu.inc"
%include "rules.inc"

; START sel, ctrl_bit — GLOBAL_CTRL := 0, counter 0 := 0, selector 0 := sel (EN|OS|USR added), then
; GLOBAL_CTRL := 1 (counted). STOP — GLOBAL_CTRL := 0 (not counted) and rax := counter 0.
%macro START 1
        mov ecx, MSR_CORE_PERF_GLOBAL_CTRL
        xor eax, eax
        xor edx, edx
        wrmsr
        mov ecx, MSR_IA32_PERFCTR0
        wrmsr
        mov ecx, MSR_P6_EVNTSEL0
        mov eax, %1 | ARCH_PERFMON_EVENTSEL_OS | ARCH_PERFMON_EVENTSEL_USR | ARCH_PERFMON_EVENTSEL_ENABLE
        wrmsr
        mov ecx, MSR_CORE_PERF_GLOBAL_CTRL
        mov eax, 1
        wrmsr
%endmacro
%macro STOP 0
        mov ecx, MSR_CORE_PERF_GLOBAL_CTRL
        xor eax, eax
        xor edx, edx
        wrmsr
        mov ecx, MSR_IA32_PERFCTR0
        rdmsr
        shl rdx, 32
        or rax, rdx
%endmacro

        EXC_SETUP
        REPORT_PREFIX_PUSH "boundary"
        START EVENT_INSTRUCTIONS        ; 1: the enabling WRMSR
        STOP                            ; mov, xor, xor: 4
        REPORT_EQ rax, 4, "enabling WRMSR counted, disabling WRMSR not"
        START EVENT_INSTRUCTIONS        ; 1
        mov ecx, MSR_IA32_MISC_ENABLE   ; 2
        rdmsr                           ; 3: emulated RDMSR
        mov eax, 0                      ; 4
        cpuid                           ; 5: emulated CPUID
        xor ecx, ecx                    ; 6
        rdpmc                           ; 7: emulated RDPMC
        mov al, '.'                     ; 8
        out VPMU_CONSOLE_PORT, al       ; 9: OUT (the '.' before the next PASS), completed on re-entry
        STOP                            ; 12
        REPORT_EQ rax, 12, "RDMSR, CPUID, RDPMC and OUT are counted by KVM once each"
        SET_IDT_GATE 13, skip_gp        ; #GP: skip the 2-byte faulting instruction
        START EVENT_INSTRUCTIONS        ; 1
        mov ecx, 0x12345                ; 2
        rdmsr                           ; #GP: not retired, and KVM does not count it
        STOP                            ; + the handler's add, add, iretq (3) + mov, xor, xor (3)
        REPORT_EQ rax, 8, "a #GP-faulting RDMSR adds nothing (KVM injects #GP, no skip)"
        REPORT_PREFIX_POP

        REPORT_PREFIX_PUSH "events"
        START EVENT_CORE_CYCLES
        times 100 nop                   ; 100 cycles
        STOP                            ; + mov, xor, xor
        REPORT_EQ rax, 103, "core cycles: 100 nops + 3 (the WRMSRs exit: no guest cycles)"
        START EVENT_TOPDOWN_SLOTS
        times 100 nop
        STOP
        REPORT_EQ rax, 103 * 6, "topdown slots = cycles x 6 (Sapphire Rapids issue width)"
        mov esi, 0x800000
        mov rax, [rsi]                  ; bring the line in
        clflush [rsi]
        START EVENT_LLC_MISSES
        mov rax, [rsi]                  ; misses the LLC: it was flushed
        mov rax, [rsi]                  ; L1 hit
        STOP
        REPORT_EQ rax, 1, "LLC misses: one load after CLFLUSH"
        clflush [rsi]
        START EVENT_LLC_REFERENCES
        mov rax, [rsi]
        mov rax, [rsi + 64]             ; next line: cold, also an L1 miss
        mov rax, [rsi]
        STOP
        REPORT_EQ rax, 2, "LLC references: two L1 misses"
        ; Branch misses: a loop whose exit is mispredicted, after IBPB erased the history.
        mov ecx, MSR_IA32_PRED_CMD
        mov eax, 1
        xor edx, edx
        wrmsr
        START EVENT_BRANCH_MISSES
        mov ecx, 20
.l:     dec ecx
        jnz .l                          ; unseen backward branch: predicted taken; the exit mispredicts
        mov ecx, 20
.m:     dec ecx
        jnz .m
        STOP
        REPORT_EQ rax, 2, "branch misses: one loop exit each"
        REPORT_PREFIX_POP
        REPORT_SUMMARY

; skip_gp: #GP handler that resumes after a 2-byte RDMSR/WRMSR/RDPMC.
skip_gp:
        add rsp, 8                      ; the error code
        add qword [rsp], 2
        iretq
