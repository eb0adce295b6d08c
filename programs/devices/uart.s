; The 16550 UART at 0x3F8 as the console, ended through isa-debug-exit with the raw status mapping (the
; guest ABI's default): exit status = the value written, 0 when every check passed. uart-qemu.s is the
; same guest under QEMU's mapping. Body: uart.inc.
; vpmu: --exit-status raw
        org 0x100000
        bits 64
%include "uart.inc"
