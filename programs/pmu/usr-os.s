; usr-os.s — privilege filtering (R-CNT-1/2): GP0 counts instructions at CPL > 0 only (USR), GP1 at
; CPL 0 only (OS), GP2 at both, FC0 with its USR bit only. The guest drops to ring 3 with IRETQ, runs a
; known loop, and comes back through a #GP (HLT at CPL 3 faults; the faulting HLT does not retire). The
; CPU stops at every CPL change, so the vPMU folds counts at the exact boundary. Also RDPMC at CPL 3:
; #GP from the CPU itself while CR4.PCE = 0 (no exit, model.md §9.4), the counter's value once PCE = 1.
; vpmu: --host spr
        org 0x100000
        bits 64
%include "../lib/vpmu.inc"

        EXC_SETUP
        SET_IDT_GATE 13, back_to_ring0
        mov ecx, MSR_CORE_PERF_GLOBAL_CTRL
        xor eax, eax
        xor edx, edx
        wrmsr
        mov ecx, MSR_P6_EVNTSEL0
        mov eax, EVENT_INSTRUCTIONS | ARCH_PERFMON_EVENTSEL_USR | ARCH_PERFMON_EVENTSEL_ENABLE
        wrmsr
        mov ecx, MSR_P6_EVNTSEL0 + 1
        mov eax, EVENT_INSTRUCTIONS | ARCH_PERFMON_EVENTSEL_OS | ARCH_PERFMON_EVENTSEL_ENABLE
        wrmsr
        mov ecx, MSR_P6_EVNTSEL0 + 2
        mov eax, EVENT_INSTRUCTIONS | ARCH_PERFMON_EVENTSEL_OS | ARCH_PERFMON_EVENTSEL_USR | ARCH_PERFMON_EVENTSEL_ENABLE
        wrmsr
        mov ecx, MSR_CORE_PERF_FIXED_CTR_CTRL
        mov eax, INTEL_FIXED_0_USER
        wrmsr
        mov ecx, MSR_CORE_PERF_GLOBAL_CTRL
        mov eax, 7
        mov edx, 1
        wrmsr                           ; OS 1
        mov rbx, rsp                    ; OS 2
        push 0x23                       ; OS 3: SS (RPL 3)
        push rbx                        ; OS 4: RSP
        push 0x2                        ; OS 5: RFLAGS (IF = 0)
        push 0x1b                       ; OS 6: CS (RPL 3)
        lea rax, [rel user]             ; OS 7
        push rax                        ; OS 8
        iretq                           ; OS 9: retires at CPL 0
user:
        mov ecx, 10                     ; USR 1
.l:     dec ecx
        jnz .l                          ; USR 21
        hlt                             ; #GP at CPL 3 (not retired)
back_to_ring0:
        add rsp, 48                     ; OS 10: error code + frame
        mov ecx, MSR_CORE_PERF_GLOBAL_CTRL ; OS 11
        xor eax, eax                    ; OS 12
        xor edx, edx                    ; OS 13
        wrmsr
        mov ecx, MSR_IA32_PERFCTR0
        rdmsr
        REPORT_EQ rax, 21, "USR-only counter: the ring-3 loop"
        mov ecx, MSR_IA32_PERFCTR0 + 1
        rdmsr
        REPORT_EQ rax, 13, "OS-only counter: ring-0 instructions (IRETQ retires at CPL 0)"
        mov ecx, MSR_IA32_PERFCTR0 + 2
        rdmsr
        REPORT_EQ rax, 34, "OS|USR counter: both"
        mov ecx, MSR_CORE_PERF_FIXED_CTR0
        rdmsr
        REPORT_EQ rax, 21, "FC0 with USR only"

        ; RDPMC at CPL 3, first with CR4.PCE = 0, then with PCE = 1.
        SET_IDT_GATE 13, rdpmc_faulted
        mov qword [rel pass], 0
ring3_rdpmc:
        mov rbx, rsp
        push 0x23
        push rbx
        push 0x2
        push 0x1b
        lea rax, [rel user2]
        push rax
        iretq
user2:
        xor ecx, ecx
        rdpmc                           ; GP0 = 21
        mov r8, rax
        hlt                             ; back to ring 0 through #GP
rdpmc_faulted:
        add rsp, 8
        mov rax, [rsp]                  ; faulting RIP
        add rsp, 40
        cmp qword [rel pass], 0
        jne .second
        lea rdx, [rel user2 + 2]        ; the RDPMC (after xor ecx, ecx)
        cmp rax, rdx
        sete al
        movzx eax, al
        REPORT rax, "CR4.PCE = 0: RDPMC at CPL 3 raises #GP"
        mov qword [rel pass], 1
        mov rax, cr4
        or eax, 0x100
        mov cr4, rax
        jmp ring3_rdpmc
.second:
        REPORT_EQ r8, 21, "CR4.PCE = 1: RDPMC at CPL 3 exits and KVM returns GP0"
        REPORT_SUMMARY
align 8
pass:   dq 0
