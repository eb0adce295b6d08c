; fw_cfg through its legacy I/O ports, as kvm-unit-tests' lib/x86/fwcfg.c reads it: a 16-bit write of the
; key to 0x510 selects an item, then its bytes are read one at a time from 0x511, little-endian (the file
; directory's count is big-endian). 256 MiB of RAM, one CPU, no files, no DMA interface (docs/devices.md).
; vpmu: --mem 256M
        org 0x100000
        bits 64
%include "../lib/vpmu.inc"

; FWCFG key, bytes — rax = the item's first `bytes` bytes as a little-endian number.
%macro FWCFG 2
        mov ax, %1
        mov ecx, %2
        call fwcfg_read
%endmacro

        REPORT_PREFIX_PUSH "fw_cfg"
        FWCFG 0x00, 4
        REPORT_EQ rax, 0x554d4551, "FW_CFG_SIGNATURE is 'QEMU'"
        FWCFG 0x01, 4
        REPORT_EQ rax, 1, "FW_CFG_ID: the traditional interface, no DMA"
        FWCFG 0x03, 8
        REPORT_EQ rax, 256 << 20, "FW_CFG_RAM_SIZE = --mem"
        FWCFG 0x05, 2
        REPORT_EQ rax, 1, "FW_CFG_NB_CPUS = 1"
        FWCFG 0x0f, 2
        REPORT_EQ rax, 1, "FW_CFG_MAX_CPUS = 1"
        FWCFG 0x19, 4
        REPORT_EQ rax, 0, "FW_CFG_FILE_DIR: no files"
        FWCFG 0x02, 8
        REPORT_EQ rax, 0, "an item vpmu does not provide (FW_CFG_UUID) reads 0"
        FWCFG 0x0, 8
        REPORT_EQ rax, 0x554d4551, "reads past an item's end return 0"
        ; Reselecting rewinds: the first byte again.
        FWCFG 0x0, 1
        REPORT_EQ rax, 0x51, "selecting an item rewinds it"
        mov dx, 0x514
        in eax, dx
        REPORT_EQ rax, 0xffffffff, "no DMA interface: port 0x514 is unassigned"
        REPORT_PREFIX_POP
        REPORT_SUMMARY

; fwcfg_read: select item ax, read ecx (1..8) bytes into rax, little-endian.
fwcfg_read:
        push rbx
        push rdx
        mov dx, 0x510
        out dx, ax                      ; the selector is 16-bit
        inc dx
        xor ebx, ebx
        lea r8d, [rcx * 8]              ; shift past the last byte read
        xor r9d, r9d
.next:  xor eax, eax
        in al, dx
        push rcx
        mov ecx, r9d
        shl rax, cl
        pop rcx
        or rbx, rax
        add r9d, 8
        cmp r9d, r8d
        jb .next
        mov rax, rbx
        pop rdx
        pop rbx
        ret
