; Long mode from a Multiboot entry, as a real kernel gets there (issue 12 evidence): the loader leaves
; 32-bit protected mode with paging off (docs/loading.md); the kernel loads its own GDT, builds 4-level
; tables, enables PAE (CR4.PAE), long mode and NX (EFER.LME, EFER.NXE) and paging (CR0.PG), and far-jumps
; to a 64-bit code segment (SDM Vol. 3 §10.8.5 "Initializing IA-32e Mode"). In 64-bit mode it copies a
; routine to the last bytes below 2^64 and calls it there, takes page faults whose handler prints CR2 and
; the error code (SDM §4.7), and delivers INT 0x40, INT3 and the #PF on IST stacks of a 64-bit TSS
; loaded with LTR (SDM §8.7 "Task Management in 64-bit Mode", SDM §7.14.5 "Interrupt Stack Table").
; vpmu:
        bits 32
        org 0x100000
MB_FLAGS equ 0x00010003                 ; page-align modules, memory info, address fields (flag 16)
mb_header:
        dd 0x1BADB002
        dd MB_FLAGS
        dd -(0x1BADB002 + MB_FLAGS)
        dd mb_header                    ; header_addr
        dd mb_header                    ; load_addr
        dd image_end                    ; load_end_addr
        dd 0                            ; bss_end_addr: none
        dd start32                      ; entry_addr

PML4    equ 0x400000            ; the tables: 6 pages from 4 MiB
PDPT0   equ 0x401000            ; PML4[0]:   linear 0-512 GiB
PD0     equ 0x402000            ; PDPT0[0]:  0-1 GiB identity, 2 MiB pages
PDPT1   equ 0x403000            ; PML4[511]: the top 512 GiB
PD1     equ 0x404000            ; PDPT1[511]
PT1     equ 0x405000            ; PD1[511]:  the top 2 MiB in 4 KiB pages
TSS     equ 0x406000            ; the 64-bit TSS (104 bytes)
FRAME   equ 0x600000            ; behind the top page
FRAME2  equ 0x601000            ; behind the read-only page
IST1_TOP equ 0x510000           ; INT 0x40's and #BP's stack
IST2_TOP equ 0x520000           ; #PF's stack
TOP     equ 0xFFFFFFFFFFFFF000  ; PT1[511] → FRAME
RO      equ 0xFFFFFFFFFFFFE000  ; PT1[510] → FRAME2, read-only
NX      equ 0xFFFFFFFFFFFFD000  ; PT1[509] → FRAME, execute-disable
UNMAPPED equ 0xFFFFFFFFFFFFC000 ; PT1[508]: not present
P_RW    equ 0x3
PS      equ 0x80                ; a 2 MiB page in a PDE
CODE64  equ 0x08                ; the GDT below
DATA    equ 0x10
CODE32  equ 0x18
TSS_SEL equ 0x20
EFER    equ 0xC0000080

; 32-bit protected mode, paging off, CS/DS = the loader's flat selectors, ESP undefined.
start32:
        mov esp, 0x80000
        mov [entry_magic], eax          ; moffs: A3 in 32-bit code
        mov eax, cr0
        mov [entry_cr0], eax
        lgdt [gdtr]                     ; a 6-byte pseudo-descriptor in 32-bit code
        jmp CODE32:.own_cs              ; CS from our own GDT (still 32-bit code)
.own_cs:
        mov ax, DATA
        mov ds, ax
        mov es, ax
        mov ss, ax
        mov fs, ax
        mov gs, ax
        mov [cs32], cs
        ; Zero the seven table and TSS pages.
        cld
        mov edi, PML4
        mov ecx, 7 * 4096 / 4
        xor eax, eax
        rep stosd
        ; Identity map 0-1 GiB with 2 MiB pages: code, stacks, tables and frames stay where they are.
        mov dword [PML4], PDPT0 | P_RW
        mov dword [PDPT0], PD0 | P_RW
        mov edi, PD0
        mov eax, PS | P_RW
        mov ecx, 512
.pd0:   mov [edi], eax
        add edi, 8
        add eax, 0x200000
        loop .pd0
        ; The top of the address space (the high dwords are 0 but for XD).
        mov dword [PML4 + 511 * 8], PDPT1 | P_RW
        mov dword [PDPT1 + 511 * 8], PD1 | P_RW
        mov dword [PD1 + 511 * 8], PT1 | P_RW
        mov dword [PT1 + 511 * 8], FRAME | P_RW
        mov dword [PT1 + 510 * 8], FRAME2 | 1
        mov dword [PT1 + 509 * 8], FRAME | P_RW
        mov dword [PT1 + 509 * 8 + 4], 0x80000000
        ; The TSS: IST1 (offset 0x24), IST2 (0x2C), no I/O bitmap (base = limit + 1).
        mov dword [TSS + 0x24], IST1_TOP
        mov dword [TSS + 0x2C], IST2_TOP
        mov word [TSS + 0x66], 104
        ; PAE, then EFER.LME and NXE, then PG with CR3 pointing at the PML4 (SDM §10.8.5).
        mov eax, PML4
        mov cr3, eax
        mov eax, cr4
        or eax, 0x20
        mov cr4, eax
        mov ecx, EFER
        rdmsr
        or eax, 0x900
        wrmsr
        rdmsr
        mov [efer_before_pg], eax
        mov eax, cr0
        or eax, 0x80010000              ; PG, and WP so supervisor writes respect R/W
        mov cr0, eax
        mov ecx, EFER
        rdmsr
        mov [efer_compat], eax          ; LMA is set: compatibility mode until CS is 64-bit code
        jmp CODE64:long64

align 8
gdt:    dq 0
        dq 0x00209A0000000000           ; 0x08: 64-bit code (L=1, D=0), DPL 0
        dq 0x00CF92000000FFFF           ; 0x10: flat data
        dq 0x00CF9A000000FFFF           ; 0x18: flat 32-bit code
        dq 0x0000894060000067           ; 0x20: 64-bit TSS at 0x406000, limit 0x67, available (type 9)
        dq 0                            ;       base 63:32
gdt_end:
gdtr:   dw gdt_end - gdt - 1
        dd gdt
align 8
entry_magic:    dq 0                    ; (qwords: read whole in 64-bit code)
entry_cr0:      dq 0
efer_before_pg: dq 0
efer_compat:    dq 0
cs32:           dw 0

        bits 64
long64:
%include "../lib/vpmu.inc"
        EXC_SETUP
        SET_IDT_GATE 14, pf_handler
        SET_IDT_GATE 3, bp_handler
        SET_IDT_GATE 0x40, bp_handler
        mov byte [rel idt + 14 * 16 + 4], 2     ; the gate's IST field: #PF on IST2
        mov byte [rel idt + 3 * 16 + 4], 1      ; #BP on IST1
        mov byte [rel idt + 0x40 * 16 + 4], 1   ; INT 0x40 on IST1

        REPORT_PREFIX_PUSH "entry"
        REPORT_EQ qword [rel entry_magic], 0x2BADB002, "EAX = the Multiboot magic"
        REPORT_EQ qword [rel entry_cr0], 0x11, "CR0 = PE | ET: protected mode, paging off"
        movzx eax, word [rel cs32]
        REPORT_EQ rax, CODE32, "CS = our own 32-bit code selector after the far jump"
        REPORT_EQ qword [rel efer_before_pg], 0x900, "EFER = LME | NXE before CR0.PG"
        REPORT_EQ qword [rel efer_compat], 0xD00, "CR0.PG sets EFER.LMA"
        REPORT_PREFIX_POP

        REPORT_PREFIX_PUSH "long mode"
        mov ecx, EFER
        rdmsr
        REPORT_EQ rax, 0xD00, "EFER = LME | LMA | NXE"
        mov rax, cr0
        REPORT_EQ rax, 0x80010011, "CR0 = PG | WP | ET | PE"
        mov rax, cr4
        REPORT_EQ rax, 0x20, "CR4 = PAE"
        mov rax, cr3
        REPORT_EQ rax, PML4, "CR3 = the PML4"
        mov ax, cs
        movzx eax, ax
        REPORT_EQ rax, CODE64, "CS = the 64-bit code selector"
        mov rax, 0x123456789
        add rax, rax
        REPORT_EQ rax, 0x2468ACF12, "64-bit arithmetic"
        REPORT_PREFIX_POP

        REPORT_PREFIX_PUSH "TSS"
        mov ax, TSS_SEL
        ltr ax
        str ax
        movzx eax, ax
        REPORT_EQ rax, TSS_SEL, "STR reads the selector LTR loaded"
        movzx eax, byte [rel gdt + TSS_SEL + 5]
        REPORT_EQ rax, 0x8B, "LTR marks the descriptor busy (type 0xB)"
        lea rax, [rel .busy_done]
        mov [rel exc_fixup], rax
        mov ax, TSS_SEL
        ltr ax                          ; a busy TSS: #GP(selector)
.busy_done:
        REPORT_EQ qword [rel exc_vector], 13, "LTR of a busy TSS: #GP"
        REPORT_EQ qword [rel exc_error_code], TSS_SEL, "error code = the selector"
        REPORT_PREFIX_POP

        REPORT_PREFIX_PUSH "top page"
        ; Copy top_code so that its last byte is the last byte below 2^64, and call it there.
        lea rsi, [rel top_code]
        mov rdi, TOP + 4096 - (top_code_end - top_code)
        mov ecx, top_code_end - top_code
        rep movsb
        mov rbx, TOP + 4096 - (top_code_end - top_code)
        mov r8, rsp
        call rbx
        REPORT_EQ rax, TOP + 4096 - (top_code_end - top_code), "RIP-relative LEA there gives its own address"
        sub r8, 8
        REPORT_EQ rdx, r8, "it ran on our stack (RSP = caller's - 8)"
        REPORT_EQ rdi, 0, "RDI wrapped past 2^64 to 0 after the copy"
        mov rax, [FRAME + 4096 - (top_code_end - top_code)]
        REPORT_EQ rax, [rel top_code], "the bytes are in the frame behind it"
        REPORT_PREFIX_POP

        REPORT_PREFIX_PUSH "#PF"
        ; A write to a read-only page (CR0.WP = 1): P | W/R.
        lea rax, [rel .ro_done]
        mov [rel pf_resume], rax
        mov rbx, RO + 0x123
        mov r8, rsp
        mov byte [rbx], 1
.ro_done:
        REPORT_EQ qword [rel pf_cr2], RO + 0x123, "write to a read-only page: CR2"
        REPORT_EQ qword [rel pf_error], 3, "error code 3 (P, W/R)"
        REPORT_EQ qword [rel pf_rsp], IST2_TOP - 48, "the handler ran on IST2 (6 qwords with the error code)"
        REPORT_EQ qword [rel pf_frame_rsp], r8, "the frame holds the interrupted RSP"
        ; A read of a page that is not present.
        lea rax, [rel .np_done]
        mov [rel pf_resume], rax
        mov rbx, UNMAPPED + 0xFF8
        mov rax, [rbx]
.np_done:
        REPORT_EQ qword [rel pf_cr2], UNMAPPED + 0xFF8, "read of a page not present: CR2"
        REPORT_EQ qword [rel pf_error], 0, "error code 0"
        ; A fetch from an execute-disable page (EFER.NXE = 1): P | I/D.
        lea rax, [rel .nx_done]
        mov [rel pf_resume], rax
        mov rbx, NX + 0x40
        jmp rbx
.nx_done:
        REPORT_EQ qword [rel pf_cr2], NX + 0x40, "fetch from an XD page: CR2 = the target"
        REPORT_EQ qword [rel pf_error], 0x11, "error code 0x11 (P, I/D)"
        REPORT_PREFIX_POP

        REPORT_PREFIX_PUSH "IST"
        mov r8, rsp
        mov rax, 0x4040
        int 0x40
int_next:
        mov r10, rax
        REPORT_EQ qword [rel bp_rsp], IST1_TOP - 40, "INT 0x40 ran on IST1 (5 qwords, no error code)"
        lea rax, [rel int_next]
        REPORT_EQ qword [rel bp_frame_rip], rax, "the frame's RIP is the next instruction"
        REPORT_EQ qword [rel bp_frame_rsp], r8, "the frame holds the interrupted RSP"
        REPORT_EQ qword [rel bp_frame_cs], CODE64, "and CS"
        mov r9, rsp
        REPORT_EQ r9, r8, "IRETQ restores RSP"
        REPORT_EQ r10, 0x4041, "the handler ran once"
        int3
        REPORT_EQ qword [rel bp_rsp], IST1_TOP - 40, "INT3 (#BP) starts again at the IST1 top"
        REPORT_PREFIX_POP

        REPORT_SUMMARY

; Runs at the top of the address space: returns its own address (RAX) and the RSP it saw (RDX).
top_code:
        lea rax, [rel top_code]
        mov rdx, rsp
        ret
top_code_end:

; #PF on IST2: [rsp] = error code, then RIP, CS, RFLAGS, RSP, SS. Prints CR2 and the error code,
; records them and the stack it ran on, and resumes at pf_resume.
pf_handler:
        mov [rel pf_rsp], rsp
        push rax
        mov rax, cr2
        mov [rel pf_cr2], rax
        mov rax, [rsp + 8]
        mov [rel pf_error], rax
        mov rax, [rsp + 8 + 32]
        mov [rel pf_frame_rsp], rax
        PRINT "INFO: #PF handler: CR2 "
        PRINT_HEX qword [rel pf_cr2]
        PRINT ", error code "
        PRINT_HEX qword [rel pf_error]
        PRINTLN ""
        mov rax, [rel pf_resume]
        mov [rsp + 16], rax
        pop rax
        add rsp, 8
        iretq

; INT 0x40 and #BP on IST1: [rsp] = RIP after the INT, then CS, RFLAGS, RSP, SS. Records the stack and the frame,
; adds 1 to RAX.
bp_handler:
        mov [rel bp_rsp], rsp
        push rax
        mov rax, [rsp + 8]
        mov [rel bp_frame_rip], rax
        mov rax, [rsp + 8 + 8]
        mov [rel bp_frame_cs], rax
        mov rax, [rsp + 8 + 24]
        mov [rel bp_frame_rsp], rax
        pop rax
        inc rax
        iretq

align 8
pf_resume:       dq 0
pf_cr2:          dq 0
pf_error:        dq 0
pf_rsp:          dq 0
pf_frame_rsp:    dq 0
bp_rsp:       dq 0
bp_frame_cs:  dq 0
bp_frame_rsp: dq 0
bp_frame_rip: dq 0
image_end:
