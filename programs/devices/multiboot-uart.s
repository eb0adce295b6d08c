; A Multiboot kernel printing through the 16550 and ending through isa-debug-exit (multiboot-uart.inc),
; under vpmu's default status mapping: the pass value 0 is the exit status.
%include "multiboot-uart.inc"
