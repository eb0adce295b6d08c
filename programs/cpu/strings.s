; String and locked instructions (issue 12 item 3), counted exactly by GP counter 0 (model.md §8.1: the
; WRMSR that enables the counter is counted, the one that disables it is not). A REP string instruction
; retires once however many iterations it runs (INST_RETIRED counts instructions; SDM "REP"); LOCK on
; a form that does not allow it raises #UD (SDM "LOCK"), with RIP on the instruction.
; vpmu: --host spr --pmu legacy
        org 0x100000
        bits 64
%include "../lib/vpmu.inc"

BUF equ 0x200000
N   equ 1000

        EXC_SETUP
        PMU_INIT

        REPORT_PREFIX_PUSH "rep"
        cld
        mov edi, BUF
        mov ecx, N
        mov eax, 0x5a5a5a5a
        rep stosd                       ; fills N dwords
        REPORT_EQ rcx, 0, "rep stosd counts RCX down to 0"
        REPORT_EQ rdi, BUF + 4 * N, "and advances RDI by 4 per element"
        mov esi, BUF
        mov edi, BUF + 0x10000
        mov ecx, N / 2
        rep movsq                       ; copies them
        mov dword [BUF + 4 * 700], 0    ; a difference at element 700
        mov esi, BUF
        mov edi, BUF + 0x10000
        mov ecx, N
        repe cmpsd
        REPORT_EQ rcx, N - 701, "repe cmpsd stops after the first difference"
        std
        mov edi, BUF + 4 * (N - 1)
        mov ecx, N
        xor eax, eax
        repne scasd                     ; backwards: the zero at element 700
        cld
        REPORT_EQ rdi, BUF + 4 * 699, "std: repne scasd scans down and stops past the match"
        REPORT_PREFIX_POP

        REPORT_PREFIX_PUSH "count"
        mov ecx, MSR_IA32_PERFCTR0
        xor eax, eax
        xor edx, edx
        wrmsr
        mov ecx, MSR_P6_EVNTSEL0
        mov eax, EVENT_INSTRUCTIONS | ARCH_PERFMON_EVENTSEL_OS | ARCH_PERFMON_EVENTSEL_USR | ARCH_PERFMON_EVENTSEL_ENABLE
        wrmsr                           ; counted: 1
        mov edi, BUF                    ; 1
        mov ecx, N                      ; 1
        xor eax, eax                    ; 1
        rep stosb                       ; 1 (N iterations)
        lock inc qword [BUF]            ; 1
        lock bts qword [BUF], 63        ; 1
        mov eax, 5                      ; 1
        lock xadd [BUF + 8], eax        ; 1
        mov ecx, MSR_P6_EVNTSEL0        ; 1
        xor eax, eax                    ; 1
        wrmsr                           ; not counted
        mov ecx, MSR_IA32_PERFCTR0
        rdmsr
        shl rdx, 32
        or rax, rdx
        REPORT_EQ rax, 11, "instructions retired: a REP of 1000 iterations is one"
        mov rax, 0x8000000000000001
        REPORT_EQ qword [BUF], rax, "lock inc then lock bts"
        REPORT_EQ qword [BUF + 8], 5, "lock xadd adds"
        REPORT_PREFIX_POP

        REPORT_PREFIX_PUSH "lock"
        lea rax, [rel .after]
        mov [rel exc_fixup], rax
.bad:
        lock add eax, ecx               ; register destination: #UD
.after:
        REPORT_EQ qword [rel exc_vector], 6, "lock with a register destination raises #UD"
        lea rax, [rel .bad]
        REPORT_EQ qword [rel exc_rip], rax, "at the locked instruction"
        REPORT_PREFIX_POP
        REPORT_SUMMARY
