; The smallest useful guest: print through the console port and end with status 0.
; vpmu:
        org 0x100000
        bits 64
%include "../lib/vpmu.inc"

        PRINTLN "hello from the guest"
        mov eax, 6
        mov ecx, 7
        mul ecx
        PRINT "6 * 7 = "
        PRINT_DEC rax
        PRINT " = "
        PRINT_HEX rax
        call console_nl
        EXIT 0
