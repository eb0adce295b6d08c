; registers.s — the local APIC as one register file behind two views (issue 13 item 2, issue 14 item 6):
; the x2APIC MSRs 0x800-0x8FF (valid only in x2APIC mode) and the xAPIC MMIO page at 0xFEE00000 (only in
; xAPIC mode; disabled or in x2APIC mode it reads all ones and ignores writes — KVM_X86_QUIRK_LAPIC_MMIO_HOLE),
; and IA32_APIC_BASE's mode transitions as kvm_apic_set_base checks them (SDM "x2APIC State Transitions").
; The flat guest ABI starts in x2APIC mode (docs/apic.md). Paging is off: linear = physical.
; vpmu: --host spr
        org 0x100000
        bits 64
%include "../lib/vpmu.inc"
%include "../pmu/rules.inc"

APIC_MMIO equ 0xFEE00000

; MMIO_EQ offset, expected, "msg" — a 32-bit load from the xAPIC page.
%macro MMIO_EQ 3
        mov r15d, APIC_MMIO
        mov eax, [r15 + %1]
        REPORT_EQ rax, %2, %3
%endmacro
; MMIO_WR offset, value — a 32-bit store to the xAPIC page.
%macro MMIO_WR 2
        mov r15d, APIC_MMIO
        mov dword [r15 + %1], %2
%endmacro

        EXC_SETUP
        REPORT_PREFIX_PUSH "x2APIC"
        RD_EQ 0x1B, 0xFEE00D00, "APIC base: x2APIC, enabled, BSP"
        RD_EQ 0x802, 0, "ID: the x2APIC ID is the whole register"
        RD_EQ 0x803, 0x50014, "version 0x14, 6 LVT entries"
        RD_EQ 0x80D, 1, "LDR: cluster 0, bit 0 (derived from the ID)"
        RD_EQ 0x80F, 0xFF, "SVR after reset: software-disabled"
        RD_EQ 0x832, 0x10000, "LVT timer resets masked"
        RD_GP 0x831, "ICR2 does not exist in x2APIC mode"
        RD_GP 0x83F, "SELF_IPI is write-only"
        WR_GP 0x802, 5, "the x2APIC ID is read-only"
        WR_GP 0x808, 1 << 32, "bits 63:32 of a 32-bit register are reserved"
        MMIO_EQ 0x30, 0xFFFFFFFF, "MMIO in x2APIC mode reads all ones"
        REPORT_PREFIX_POP

        REPORT_PREFIX_PUSH "APIC base"
        WR_GP 0x1B, 0xFEE00900, "x2APIC -> xAPIC directly is illegal"
        WR_GP 0x1B, 0xFEE00500, "x2APIC without enable is invalid"
        WR_GP 0x1B, 0x10FEE00D00, "a bit above MAXPHYADDR (36) is reserved"
        WR_OK 0x1B, 0xFEE00100, "x2APIC -> disabled"
        MMIO_EQ 0x30, 0xFFFFFFFF, "MMIO while disabled reads all ones"
        RD_GP 0x803, "x2APIC MSRs #GP while disabled"
        WR_GP 0x1B, 0xFEE00D00, "disabled -> x2APIC directly is illegal"
        WR_OK 0x1B, 0xFEE00900, "disabled -> xAPIC"
        REPORT_PREFIX_POP

        REPORT_PREFIX_PUSH "xAPIC"
        RD_GP 0x803, "x2APIC MSRs #GP in xAPIC mode"
        MMIO_EQ 0x20, 0, "ID (bits 31:24)"
        MMIO_EQ 0x30, 0x50014, "version through MMIO"
        MMIO_EQ 0xE0, 0xFFFFFFFF, "DFR resets to the flat model"
        MMIO_WR 0xF0, 0x1FF
        MMIO_EQ 0xF0, 0x1FF, "SVR written through MMIO: software-enabled"
        MMIO_WR 0x80, 0x25
        MMIO_EQ 0x80, 0x25, "TPR"
        MMIO_EQ 0xA0, 0x25, "PPR follows TPR (nothing in service)"
        mov r15d, APIC_MMIO
        xor eax, eax
        mov ax, [r15 + 0x31]
        REPORT_EQ rax, 0x500, "a 2-byte load at offset 0x31 reads bytes 1-2 of the version"
        MMIO_WR 0x20, 0x07000000
        MMIO_EQ 0x20, 0x07000000, "the xAPIC ID is writable"
        MMIO_WR 0x20, 0
        MMIO_WR 0x320, 0x3FFFF
        MMIO_EQ 0x320, 0x310FF, "LVT timer keeps mask, delivery status, one-shot/periodic and the vector"
        MMIO_WR 0x340, 0x104FF
        MMIO_EQ 0x340, 0x104FF, "LVTPC keeps the NMI delivery mode"
        MMIO_WR 0x3E0, 0xF
        MMIO_EQ 0x3E0, 0xB, "divide configuration keeps bits 3,1:0"
        MMIO_WR 0x310, 0x12345678
        MMIO_EQ 0x310, 0x12000000, "ICR2 keeps the destination field"
        MMIO_EQ 0x300, 0, "ICR reads idle"
        MMIO_EQ 0x400, 0, "offset 0x400 names no register"
        MMIO_WR 0x84, 0x77
        MMIO_EQ 0x80, 0x25, "a store at an unaligned offset is dropped"
        REPORT_PREFIX_POP

        REPORT_PREFIX_PUSH "one register file"
        WR_OK 0x1B, 0xFEE00D00, "xAPIC -> x2APIC"
        RD_EQ 0x808, 0x25, "the TPR written through MMIO reads through MSR 0x808"
        RD_EQ 0x80F, 0x1FF, "SVR"
        RD_EQ 0x83E, 0xB, "divide configuration"
        RD_EQ 0x834, 0x104FF, "LVTPC"
        RD_EQ 0x802, 0, "ID in the x2APIC format"
        WR_OK 0x808, 0x30, "TPR through the MSR"
        WR_OK 0x1B, 0xFEE00100, "x2APIC -> disabled"
        WR_OK 0x1B, 0xFEE00900, "disabled -> xAPIC"
        MMIO_EQ 0x80, 0x30, "the TPR written through MSR 0x808 reads through MMIO"
        MMIO_WR 0xF0, 0xFF
        MMIO_EQ 0x340, 0x104FF | 0x10000, "software-disabling masks every LVT"
        MMIO_WR 0x340, 0x20
        MMIO_EQ 0x340, 0x10020, "an LVT written while software-disabled stays masked"
        REPORT_PREFIX_POP
        REPORT_SUMMARY
