; Exceptions through the guest IDT: the safe accessors return the vector instead of crashing, and the
; handler records the vector, error code and faulting RIP (SDM Vol. 3 ch. 6: #GP(0) for RDMSR/WRMSR of
; an MSR that does not exist, and for RDPMC of a counter that does not exist — here there is no PMU at
; all (no options: the bare platform, docs/guest-abi.md); #UD for UD2; #DE for DIV by zero, fault-like:
; RIP of the DIV).
; vpmu:
        org 0x100000
        bits 64
%include "../lib/vpmu.inc"

        EXC_SETUP

        REPORT_PREFIX_PUSH "rdmsr"
        mov ecx, 0x12345678
        mov eax, 0xAAAA
        mov edx, 0xBBBB
        SAFE_RDMSR
        REPORT_EQ rbx, 13, "unknown MSR raises #GP"
        REPORT_EQ qword [rel exc_error_code], 0, "error code 0"
        REPORT_EQ rax, 0xAAAA, "eax unchanged"
        REPORT_EQ rdx, 0xBBBB, "edx unchanged"
        REPORT_PREFIX_POP

        REPORT_PREFIX_PUSH "wrmsr"
        mov ecx, 0x12345678
        xor eax, eax
        xor edx, edx
        SAFE_WRMSR
        REPORT_EQ rbx, 13, "unknown MSR raises #GP"
        REPORT_PREFIX_POP

        REPORT_PREFIX_PUSH "rdpmc"
        xor ecx, ecx
        mov eax, 0xAAAA
        mov edx, 0xBBBB
        SAFE_RDPMC
        REPORT_EQ rbx, 13, "no PMU: RDPMC raises #GP"
        REPORT_EQ rax, 0xAAAA, "eax unchanged"
        REPORT_PREFIX_POP

        REPORT_PREFIX_PUSH "ud2"
        lea rax, [rel .after_ud2]
        mov [rel exc_fixup], rax
.ud2:
        ud2
.after_ud2:
        REPORT_EQ qword [rel exc_vector], 6, "vector 6 (#UD)"
        lea rax, [rel .ud2]
        REPORT_EQ qword [rel exc_rip], rax, "RIP of the ud2"
        REPORT_PREFIX_POP

        REPORT_PREFIX_PUSH "div"
        lea rax, [rel .after_div]
        mov [rel exc_fixup], rax
        mov eax, 1
        xor edx, edx
        xor ecx, ecx
.div:
        div ecx
.after_div:
        REPORT_EQ qword [rel exc_vector], 0, "vector 0 (#DE)"
        lea rax, [rel .div]
        REPORT_EQ qword [rel exc_rip], rax, "RIP of the div"
        REPORT_PREFIX_POP

        REPORT_SUMMARY
