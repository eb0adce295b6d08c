; A Multiboot kernel as a flat image: the header's address fields (flag 16, the "a.out kludge") say where
; it loads and where it starts, so a loader needs no ELF. It prints the entry state and the information
; block (mbinfo.inc): the command line, module 0 (multiboot-env.txt) and the memory map of 64 MiB.
; vpmu: --mem 64M --append "console=ttyS0 answer=42" --initrd multiboot-env.txt
        bits 32
        org 0x100000
MB_FLAGS equ 0x00010003                 ; bit 0 page-align modules, bit 1 memory info, bit 16 address fields
mb_header:
        dd 0x1BADB002                   ; magic
        dd MB_FLAGS
        dd -(0x1BADB002 + MB_FLAGS)     ; checksum: magic + flags + checksum = 0
        dd mb_header                    ; header_addr
        dd mb_header                    ; load_addr: the file's first byte
        dd load_end                     ; load_end_addr
        dd load_end + 0x2000            ; bss_end_addr: two zeroed pages after the image
        dd start                        ; entry_addr
start:
        jmp mb_main
mb_first:
        ret
%include "mbinfo.inc"
load_end:
