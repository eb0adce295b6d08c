; The smallest useful guest: print a line through the console port and end with status 0.
; vpmu:
        org 0x100000
        bits 64
%include "../lib/vpmu.inc"

        PRINTLN "hello from the guest"
        PRINT "rsp at entry: "
        PRINT_HEX rsp
        call console_nl
        EXIT 0
