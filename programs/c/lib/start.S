/*
 * start.S — how a C guest gets from the Multiboot hand-off to main() (docs/c-guests.md).
 *
 * A Multiboot v1 loader (QEMU's -kernel, vpmu run X.elf) enters mb_entry32 in 32-bit protected mode
 * with paging off, EAX = 0x2BADB002 and EBX = the information block (Multiboot 0.6.96 §3.2). From
 * there: our GDT, flat data segments, CR4.PAE, CR3 = identity tables for 0-4 GiB in 2 MiB
 * pages, EFER.LME, CR0.PG, and a far jump through the 64-bit code descriptor (SDM Vol. 3 §10.8.5
 * "Initializing IA-32e Mode"). start64 then sets the stack, loads the IDT (idt.c), switches the APIC
 * to x2APIC mode (apic.c) and calls main();
 * main's return value is the exit status.
 */
#include "asm.h"

        .intel_syntax noprefix

/* Multiboot v1 header: magic, flags, checksum (the three sum to 0 mod 2^32). Flags bit 16 is clear:
 * the loader places the image by its ELF program headers. It must lie in the first 8 KiB of the file,
 * 4-byte aligned: the linker script puts .multiboot first. */
        .section .multiboot, "a"
        .balign 4
        .long MB_MAGIC
        .long MB_FLAGS
        .long -(MB_MAGIC + MB_FLAGS)

        .section .text.start, "ax"
        .code32
        .globl mb_entry32
mb_entry32:
        mov [mb_magic], eax
        mov [mb_info], ebx
        lgdt [gdt_desc]
        mov ax, SEL_DATA
        mov ds, ax
        mov es, ax
        mov fs, ax
        mov gs, ax
        mov ss, ax
        mov eax, cr4
        or eax, CR4_PAE
        mov cr4, eax
        mov eax, offset pml4
        mov cr3, eax
        mov ecx, MSR_EFER
        rdmsr
        or eax, EFER_LME
        wrmsr
        mov eax, cr0
        or eax, CR0_PG | CR0_PE
        mov cr0, eax
        ljmp SEL_CODE64, offset start64

        .code64
start64:                                /* the data segments were loaded in 32-bit code */
        mov rsp, offset stack_top
        call setup_idt
        call enable_x2apic              /* the APIC starts in xAPIC mode (apic.c) */
        call main
        mov edi, eax
        call exit

/* GDT (SDM Vol. 3 §3.4.5): null, 64-bit code (L = 1) at SEL_CODE64 = 0x08 as in vpmu's flat start
 * state, flat data at SEL_DATA = 0x10. */
        .section .rodata
        .balign 8
gdt:    .quad 0
        .quad 0x00af9b000000ffff        /* code: P, DPL 0, S, type execute/read accessed, G, L */
        .quad 0x00cf93000000ffff        /* data: P, DPL 0, S, type read/write accessed, G, D/B */
gdt_end:
gdt_desc:
        .word gdt_end - gdt - 1
        .quad gdt

/* Identity map of 0-4 GiB: PML4[0] -> PDPT, PDPT[0..3] -> four page directories of 2 MiB pages
 * (PS = 1, R/W, P: 0x83). Written as data so neither entry path needs a loop. */
        .section .data.pagetables, "aw"
        .balign 4096
        .globl pml4
pml4:   .quad pdpt + 0x3
        .fill 511, 8, 0
pdpt:   .quad pd + 0x3, pd + 0x1003, pd + 0x2003, pd + 0x3003
        .fill 508, 8, 0
pd:
        .set page, 0
        .rept 2048
        .quad (page << 21) | 0x83
        .set page, page + 1
        .endr

        .section .data
        .balign 8
        .globl mb_magic, mb_info
mb_magic: .quad 0
mb_info:  .quad 0

        .section .bss
        .balign 16
        .space STACK_SIZE
        .globl stack_top
stack_top:

/* No executable stack (ld warns about objects without this note). */
        .section .note.GNU-stack, "", @progbits
