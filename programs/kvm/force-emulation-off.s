; force-emulation-off.s — without the module parameter force_emulation_prefix the prefix is what it
; starts with, ud2: #UD at the prefix (handle_ud reflects it; the exit is in the exit log).
; vpmu: --host spr
        org 0x100000
        bits 64
%include "../lib/vpmu.inc"

        EXC_SETUP
        lea rax, [rel .after]
        mov [rel exc_fixup], rax
        xor ebx, ebx
.fep:   db 0x0f, 0x0b, 0x6b, 0x76, 0x6d
        mov ebx, 1
.after: mov rax, [rel exc_vector]
        REPORT_EQ rax, 6, "the prefix is a #UD"
        mov rax, [rel exc_rip]
        lea rdx, [rel .fep]
        REPORT_EQ rax, rdx, "at the prefix's ud2"
        REPORT_EQ rbx, 0, "the instruction after it did not run"
        REPORT_SUMMARY
