; The source of ../multiboot-elf.elf: a Multiboot kernel as an ELF32 image, loaded by its program headers
; (flag 16 clear), with a bss the loader zero-fills. It prints what mbinfo.inc prints, then the first and
; last dword of its bss (the
; file holds none of the bss: ld -N puts it after the code, in one segment with memsz > filesz). Built by test/vmm/elf-golden.test.ts, which checks that the build runs to the
; same output as the committed image (programs/boot/multiboot-elf.out):
;   nasm -f elf32 -i programs/boot/ programs/boot/src/multiboot-elf.asm -o multiboot-elf.o
;   ld -m elf_i386 -N -Ttext=0x100000 -e start -o multiboot-elf.elf multiboot-elf.o
        bits 32
MB_FLAGS equ 0x00000003                 ; bit 0 page-align modules, bit 1 memory info; no address fields
        section .text
        global start
        align 4
mb_header:
        dd 0x1BADB002
        dd MB_FLAGS
        dd -(0x1BADB002 + MB_FLAGS)
start:
        jmp mb_main
mb_first:
        mov esi, s_bss
        call print_str
        mov eax, [bss_first]
        call print_hex_sp
        mov eax, [bss_last]
        call print_hex_nl
        ret
s_bss:  db "bss first, last   ", 0
%include "mbinfo.inc"

        section .bss
        alignb 4
bss_first:
        resb 0x3000 - 4
bss_last:
        resd 1
