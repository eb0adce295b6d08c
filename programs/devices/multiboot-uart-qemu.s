; multiboot-uart.s under QEMU's isa-debug-exit mapping: the pass value 0 ends the run with status
; (0 << 1) | 1 = 1, as qemu-system-x86_64 -device isa-debug-exit would.
; vpmu: --exit-status qemu
%include "multiboot-uart.inc"
