; --trace-io: the port accesses of a small boot, listed after the console (direction, port, size, value,
; the device register reached): mask the PICs after the usual ICW1..ICW4 remap, set up the 16550, print a
; line through it, read the fw_cfg signature and CPU count, touch an unassigned port, and end through
; isa-debug-exit under QEMU's status mapping (value 0 → status 1).
; vpmu: --trace-io --exit-status qemu
        org 0x100000
        bits 64

%macro OUTB 2
        mov al, %2
        out %1, al
%endmacro

        ; PICs: ICW1 (edge, cascade, ICW4), ICW2 (vectors 0x20 / 0x28), ICW3, ICW4 (8086), OCW1 mask all.
        OUTB 0x20, 0x11
        OUTB 0xa0, 0x11
        OUTB 0x21, 0x20
        OUTB 0xa1, 0x28
        OUTB 0x21, 0x04
        OUTB 0xa1, 0x02
        OUTB 0x21, 0x01
        OUTB 0xa1, 0x01
        OUTB 0x21, 0xff
        OUTB 0xa1, 0xff
        in al, 0x21                     ; IMR reads back
        ; 16550: 115200 8N1, FIFOs on.
        mov dx, 0x3fb
        mov al, 0x80
        out dx, al
        mov dx, 0x3f8
        mov al, 1
        out dx, al
        mov dx, 0x3f9
        xor eax, eax
        out dx, al
        mov dx, 0x3fb
        mov al, 3
        out dx, al
        mov dx, 0x3fa
        mov al, 0xc7
        out dx, al
        lea rsi, [rel text]
.put:   mov dx, 0x3fd
        in al, dx
        test al, 0x20
        jz .put
        lodsb
        test al, al
        jz .cfg
        mov dx, 0x3f8
        out dx, al
        jmp .put
        ; fw_cfg: the first signature byte, then the CPU count (16-bit, two byte reads).
.cfg:   mov dx, 0x510
        xor eax, eax
        out dx, ax
        inc dx
        in al, dx
        dec dx
        mov ax, 5
        out dx, ax
        inc dx
        in al, dx
        in al, dx
        in al, 0x80                     ; nothing there: reads 0xff
        xor eax, eax
        out 0xf4, al
text:   db "ok", 13, 10, 0
