; --trace-io of a Multiboot boot that touches the xAPIC page: MMIO accesses are listed among the port
; accesses, in guest order (mmio-read/mmio-write, the physical address, the APIC register reached). The
; kernel enters in 32-bit protected mode with paging off (linear = physical) and finds the APIC as RESET
; leaves it, in xAPIC mode at 0xFEE00000 (docs/apic.md). It does what kvm-unit-tests' start-up does
; there: read the ID and the version (a 4-byte and a 1-byte load), software-enable the APIC through SVR,
; send INIT and SIPI to all excluding self (no other CPU: no-ops) polling the ICR's delivery status, then
; switch to x2APIC mode, after which the page reads all ones. It prints a line through the 16550 after the
; first two loads and another at the end (so port and MMIO lines interleave), and ends
; through isa-debug-exit under QEMU's mapping (0 → status 1; 1 → status 3 if the APIC base is not the
; reset value).
; vpmu: --host spr --trace-io --exit-status qemu
        bits 32
        org 0x100000
MB_FLAGS equ 0x00010000                 ; bit 16: the address fields below say where to load and enter
mb_header:
        dd 0x1BADB002                   ; magic
        dd MB_FLAGS
        dd -(0x1BADB002 + MB_FLAGS)     ; checksum
        dd mb_header                    ; header_addr
        dd mb_header                    ; load_addr
        dd load_end                     ; load_end_addr
        dd 0                            ; bss_end_addr: none
        dd start                        ; entry_addr

APIC            equ 0xFEE00000
MSR_APIC_BASE   equ 0x1B
ICR_BUSY        equ 1 << 12

start:
        mov ecx, MSR_APIC_BASE
        rdmsr
        cmp eax, APIC | 0x900           ; enabled (bit 11), BSP (bit 8), x2APIC (bit 10) clear
        jne fail
        mov ebx, APIC
        mov eax, [ebx + 0x20]           ; ID
        mov al, [ebx + 0x30]            ; version, its low byte
        mov esi, xapic
        call puts
        mov ebx, APIC
        mov dword [ebx + 0xF0], 0x1FF   ; SVR: software enable, spurious vector 0xFF
        mov eax, [ebx + 0xF0]
        mov dword [ebx + 0x310], 0      ; ICR high: destination (ignored with a shorthand)
        mov dword [ebx + 0x300], 0xC4500 ; ICR low: INIT, assert, all excluding self
        call icr_wait
        mov dword [ebx + 0x300], 0xC4601 ; STARTUP, vector 1 (0x1000), all excluding self
        call icr_wait
        mov ecx, MSR_APIC_BASE          ; xAPIC -> x2APIC
        rdmsr
        or eax, 1 << 10
        wrmsr
        mov eax, [ebx + 0x30]           ; the page reads all ones in x2APIC mode
        mov esi, x2apic
        call puts
        xor eax, eax
        jmp done
fail:   mov esi, bad
        call puts
        mov eax, 1
done:   out 0xF4, eax

icr_wait:
        test dword [ebx + 0x300], ICR_BUSY
        jnz icr_wait
        ret

; puts: the NUL-terminated string at esi through the 16550, polling LSR.THRE before each byte.
puts:   mov dx, 0x3FD
        in al, dx
        test al, 0x20
        jz puts
        lodsb
        test al, al
        jz .end
        mov dx, 0x3F8
        out dx, al
        jmp puts
.end:   ret

xapic:  db "xAPIC", 13, 10, 0
x2apic: db "x2APIC", 13, 10, 0
bad:    db "not xAPIC", 13, 10, 0
load_end:
