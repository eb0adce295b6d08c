; The 16550 UART guest of uart.s under QEMU's isa-debug-exit mapping: the value 0 written to port 0xF4
; ends the run with status (0 << 1) | 1 = 1, as `qemu-system-x86_64 -device isa-debug-exit` would (and
; as kvm-unit-tests' runner reads a pass).
; vpmu: --exit-status qemu
        org 0x100000
        bits 64
%include "uart.inc"
