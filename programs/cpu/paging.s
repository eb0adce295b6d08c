; Paging: the guest builds 4-level tables in 64-bit mode (SDM Vol. 3 §4.5), leaves vpmu's flat start
; state by loading CR3 (docs/guest-abi.md), maps a 4 KiB page at 0xFFFFFFFFFFFFF000 (the last page below
; 2^64), writes code there and runs it, rewrites it through an alias of the same frame, and takes page
; faults whose CR2 and error code (SDM §4.7: P, W/R, U/S, RSVD, I/D) the IDT handler reports. Also:
; the accessed and dirty flags the walk sets in memory, CR0.WP, XD with EFER.NXE, a stale TLB entry and
; INVLPG. Runs on the bare platform (no options).
; vpmu:
        org 0x100000
        bits 64
%include "../lib/vpmu.inc"

PML4    equ 0x400000            ; the tables: 6 pages from 4 MiB
PDPT0   equ 0x401000            ; PML4[0]:   linear 0-512 GiB
PD0     equ 0x402000            ; PDPT0[0]:  0-1 GiB, identity, 2 MiB pages
PDPT1   equ 0x403000            ; PML4[511]: the top 512 GiB
PD1     equ 0x404000            ; PDPT1[511]
PT1     equ 0x405000            ; PD1[511]:  the top 2 MiB in 4 KiB pages
FRAME   equ 0x600000            ; the code frame (also reachable at its identity address)
FRAME2  equ 0x601000            ; a data frame
TOP     equ 0xFFFFFFFFFFFFF000  ; PT1[511] → FRAME
RO      equ 0xFFFFFFFFFFFFE000  ; PT1[510] → FRAME2, read-only
NX      equ 0xFFFFFFFFFFFFD000  ; PT1[509] → FRAME, execute-disable
P_RW    equ 0x3                 ; present, writable (supervisor)
PS      equ 0x80                ; a 2 MiB page in a PDE
ACCESSED equ 0x20
DIRTY   equ 0x40

; PF_INFO — an INFO line with the last exception's error code and CR2 (in rax).
%macro PF_INFO 0
        PRINT "INFO: #PF: error code "
        PRINT_HEX qword [rel exc_error_code]
        PRINT ", CR2 "
        PRINT_HEX rax
        PRINTLN ""
%endmacro

        EXC_SETUP

        ; Zero the six table pages.
        mov rdi, PML4
        mov ecx, 6 * 4096 / 8
        xor eax, eax
.zero:  mov [rdi], rax
        add rdi, 8
        dec ecx
        jnz .zero
        ; Identity map 0-1 GiB with 2 MiB pages: code, stack, tables and frames stay where they are.
        mov qword [PML4], PDPT0 | P_RW
        mov qword [PDPT0], PD0 | P_RW
        mov rdi, PD0
        mov eax, PS | P_RW
        mov ecx, 512
.pd0:   mov [rdi], rax
        add rdi, 8
        add eax, 0x200000
        dec ecx
        jnz .pd0
        ; The top of the address space.
        mov qword [PML4 + 511 * 8], PDPT1 | P_RW
        mov qword [PDPT1 + 511 * 8], PD1 | P_RW
        mov qword [PD1 + 511 * 8], PT1 | P_RW
        mov qword [PT1 + 511 * 8], FRAME | P_RW
        mov qword [PT1 + 510 * 8], FRAME2 | 0x1
        mov rax, 0x8000000000000000 | FRAME | P_RW ; XD
        mov [PT1 + 509 * 8], rax
        mov rax, PML4
        mov cr3, rax                    ; translation from here on

        REPORT_PREFIX_PUSH "top page"
        ; mov eax, 42 ; ret — written through the top mapping itself.
        mov rdi, TOP
        mov dword [rdi], 0x00002ab8
        mov word [rdi + 4], 0xc300
        mov rax, TOP
        call rax
        REPORT_EQ rax, 42, "code written at 0xfffffffffffff000 runs there"
        mov rax, [PT1 + 511 * 8]
        and eax, ACCESSED | DIRTY
        REPORT_EQ rax, ACCESSED | DIRTY, "its PTE has A and D set"
        mov rax, [PML4 + 511 * 8]
        and eax, ACCESSED | DIRTY
        REPORT_EQ rax, ACCESSED, "the PML4E has A set, D untouched"
        ; mov eax, 7 ; ret — through the identity alias of the same frame.
        mov byte [FRAME + 1], 7
        mov rax, TOP
        call rax
        REPORT_EQ rax, 7, "a store through an alias reaches the decoded code"
        REPORT_PREFIX_POP

        REPORT_PREFIX_PUSH "#PF"
        ; Not present: a read of an unmapped address.
        lea rax, [rel .np_done]
        mov [rel exc_fixup], rax
        mov rbx, 0x0000700000000010
        mov rcx, [rbx]
.np_done:
        REPORT_EQ qword [rel exc_vector], 14, "read of an unmapped page: vector 14"
        REPORT_EQ qword [rel exc_error_code], 0, "error code 0 (not present, read, supervisor)"
        mov rax, cr2
        REPORT_EQ rax, rbx, "CR2 = the address"
        PF_INFO
        ; Write to a read-only page: allowed with CR0.WP = 0, #PF with WP = 1.
        mov rbx, RO + 8
        mov qword [rbx], 5
        REPORT_EQ qword [FRAME2 + 8], 5, "CR0.WP = 0: a supervisor write to a read-only page succeeds"
        mov rax, cr0
        or eax, 0x10000
        mov cr0, rax
        lea rax, [rel .wp_done]
        mov [rel exc_fixup], rax
        mov qword [rbx], 6
.wp_done:
        REPORT_EQ qword [rel exc_error_code], 3, "CR0.WP = 1: error code 3 (P, W/R)"
        mov rax, cr2
        REPORT_EQ rax, rbx, "CR2 = the address"
        PF_INFO
        ; Fetch from an XD page: reserved without EFER.NXE, execute-disable with it.
        lea rax, [rel .rsvd_done]
        mov [rel exc_fixup], rax
        mov rbx, NX
        jmp rbx
.rsvd_done:
        REPORT_EQ qword [rel exc_error_code], 9, "XD with EFER.NXE = 0: error code 9 (P, RSVD)"
        mov ecx, 0xc0000080
        rdmsr
        or eax, 0x800
        wrmsr
        lea rax, [rel .nx_done]
        mov [rel exc_fixup], rax
        jmp rbx
.nx_done:
        REPORT_EQ qword [rel exc_error_code], 0x11, "XD with EFER.NXE = 1: error code 0x11 (P, I/D)"
        mov rax, cr2
        REPORT_EQ rax, rbx, "CR2 = the target"
        PF_INFO
        REPORT_PREFIX_POP

        REPORT_PREFIX_PUSH "TLB"
        mov qword [FRAME2], 0x99
        mov rbx, TOP
        mov rax, [rbx]                  ; the code bytes, through the TLB entry
        mov qword [PT1 + 511 * 8], FRAME2 | P_RW
        mov rcx, [rbx]
        REPORT_EQ rcx, rax, "a changed PTE is not seen before INVLPG"
        invlpg [rbx]
        mov rcx, [rbx]
        REPORT_EQ rcx, 0x99, "INVLPG: the new frame"
        REPORT_PREFIX_POP

        REPORT_SUMMARY
