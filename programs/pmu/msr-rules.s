; msr-rules.s — what a LEGACY guest sees for every PMU MSR rule (model.md §7): validity, reserved bits,
; the two counter aliases, read-only and write-only registers, PERF_CAPABILITIES, and the non-PMU MSRs
; a PMU guest touches (MISC_ENABLE, TSC, PRED_CMD, APIC base, DEBUGCTL, LVTPC/EOI). Sapphire Rapids
; host: 8 GP counters, 3 fixed (LEGACY clamps FC3 away), 48-bit, PMU version 2 as KVM advertises;
; --tsx: the host kernel keeps TSX, so IN_TX/IN_TXCP are legal selector bits.
; vpmu: --host spr --tsx
        org 0x100000
        bits 64
%include "../lib/vpmu.inc"
%include "rules.inc"

        EXC_SETUP
        REPORT_PREFIX_PUSH "validity"
        RD_EQ 0x38F, 0xFF, "GLOBAL_CTRL resets to the GP enable bits (kvm_pmu_refresh)"
        RD_EQ 0x38E, 0, "GLOBAL_STATUS resets to 0"
        RD_EQ 0x390, 0, "GLOBAL_OVF_CTRL reads 0"
        RD_GP 0x391, "GLOBAL_STATUS_SET is not valid (KVM exposes version 2)"
        RD_GP 0x392, "GLOBAL_INUSE is not valid"
        RD_GP 0x329, "PERF_METRICS is not valid without PERF_CAPABILITIES bit 15 (R-VAL-6)"
        RD_GP 0x30C, "fixed counter 3 is not exposed by the LEGACY vPMU (R-CPUID-4)"
        RD_GP 0xC9, "IA32_PMC8 does not exist (nGP = 8)"
        RD_GP 0x4C9, "IA32_A_PMC8 does not exist"
        RD_GP 0x18E, "IA32_PERFEVTSEL8 does not exist"
        RD_GP 0x12345, "an unknown MSR raises #GP (ignore_msrs off)"
        REPORT_PREFIX_POP

        REPORT_PREFIX_PUSH "reserved bits"
        WR_GP 0x186, 1 << 21, "EVNTSEL AnyThread (bit 21) is reserved"
        WR_GP 0x186, 1 << 34, "EVNTSEL bit 34 (ADAPTIVE) is reserved without PEBS baseline"
        WR_GP 0x186, 1 << 33, "EVNTSEL IN_TXCP is reserved on counter 0"
        WR_OK 0x188, (1 << 33) | (1 << 32), "EVNTSEL IN_TX | IN_TXCP on counter 2 (host and guest have RTM)"
        WR_OK 0x188, 0, "EVNTSEL2 back to 0"
        WR_GP 0x38D, 0x4, "FIXED_CTR_CTRL AnyThread of FC0 is reserved"
        WR_GP 0x38D, 0x1000, "FIXED_CTR_CTRL field of FC3 is reserved (no FC3)"
        WR_GP 0x38F, 1 << 48, "GLOBAL_CTRL bit 48 (EN_PERF_METRICS) is reserved (P-6)"
        WR_GP 0x38F, 1 << 35, "GLOBAL_CTRL bit 35 (FC3) is reserved"
        WR_OK 0x38F, 0x7000000FF, "GLOBAL_CTRL: 8 GP + 3 fixed enables"
        WR_OK 0x38F, 0, "GLOBAL_CTRL := 0"
        WR_GP 0x38E, 1, "GLOBAL_STATUS is read-only to the guest (R-WR-9)"
        WR_GP 0x390, 1 << 48, "GLOBAL_OVF_CTRL bit 48 is reserved"
        WR_OK 0x390, 0xC000000700000001, "GLOBAL_OVF_CTRL may clear CondChgd, DS-buffer, fixed and GP bits"
        REPORT_PREFIX_POP

        REPORT_PREFIX_PUSH "counter aliases"
        WR_OK 0xC1, 0x89ABCDEF, "legacy alias write"
        RD_EQ 0xC1, 0xFFFF89ABCDEF, "legacy alias sign-extends bit 31 to the width (R-WR-2)"
        WR_OK 0xC1, 0xFF0123456789, "legacy alias write with high bits"
        RD_EQ 0x4C1, 0x23456789, "legacy alias keeps bits 31:0 only"
        WR_OK 0x4C1, 0xFF0123456789, "full-width alias write"
        RD_EQ 0xC1, 0xFF0123456789, "both aliases name the same counter"
        WR_GP 0x4C1, 0x1000000000000, "full-width write above the width raises #GP (R-WR-1)"
        WR_OK 0x309, 0x123400000000FFFF, "fixed counter write"
        RD_EQ 0x309, 0xFFFF, "fixed counter writes are truncated to the width (R-WR-4)"
        WR_OK 0x186, 0x5300C0, "selector write"
        RD_EQ 0x186, 0x5300C0, "selector reads back the guest value (R-RD-3)"
        WR_OK 0x186, 0, "selector := 0"
        REPORT_PREFIX_POP

        REPORT_PREFIX_PUSH "capabilities"
        RD_EQ 0x345, 0x225C0, "PERF_CAPABILITIES = FW_WRITES | PEBS trap/arch-regs/format 5/timing (no baseline)"
        WR_GP 0x345, 0x2000, "PERF_CAPABILITIES is read-only to the guest (R-WR-12)"
        RD_EQ 0x3F1, 0, "PEBS_ENABLE exists (PEBS format offered)"
        WR_GP 0x3F1, 1 << 32, "PEBS_ENABLE: only GP bits without baseline"
        RD_GP 0x3F2, "PEBS_DATA_CFG needs PEBS baseline"
        REPORT_PREFIX_POP

        REPORT_PREFIX_PUSH "other msrs"
        RD_EQ 0x1A0, 0x1800, "MISC_ENABLE: BTS (11) and PEBS (12) unavailable, as vCPU reset set it"
        WR_GP 0x1A0, 0x800, "MISC_ENABLE: PEBS-unavailable is read-only (R-WR-14)"
        WR_OK 0x1A0, 0x1880, "MISC_ENABLE: setting EMON is ignored"
        RD_EQ 0x1A0, 0x1800, "MISC_ENABLE: EMON stays clear (refresh never sets it)"
        WR_OK 0x1D9, 3, "DEBUGCTL: LBR and BTF are dropped silently (no guest LBR)"
        RD_EQ 0x1D9, 0, "DEBUGCTL reads 0"
        WR_GP 0x1D9, 1 << 12, "DEBUGCTL FREEZE_PERFMON_ON_PMI raises #GP (R-WR-13)"
        RD_EQ 0x1B, 0xFEE00D00, "APIC base: x2APIC, enabled, BSP"
        WR_GP 0x1B, 0xFEE00D01, "APIC base reserved bit 0"
        RD_EQ 0x803, 0x50014, "x2APIC version"
        RD_EQ 0x834, 0x10000, "LVTPC resets masked"
        RD_GP 0x80B, "x2APIC EOI is write-only"
        ; KVM's kvm_lapic_reg_write(APIC_EOI) takes any 32-bit value (the SDM's #GP for a non-zero x2APIC EOI
        ; write is not emulated); with nothing in service it changes nothing.
        WR_OK 0x80B, 1, "x2APIC EOI: a non-zero value is accepted (KVM, kvm_lapic_reg_write)"
        WR_OK 0x49, 1, "PRED_CMD IBPB (passed through: no exit)"
        WR_GP 0x49, 4, "PRED_CMD reserved bit"
        RD_GP 0x49, "PRED_CMD is write-only"
        mov ecx, 0x10
        xor eax, eax
        mov edx, 1
        wrmsr                           ; TSC := 2^32 (exits; no guest cycles pass)
        rdtsc                           ; reads before its own cycles are added
        shl rdx, 32
        or rax, rdx
        REPORT_EQ rax, 0x100000000, "RDTSC right after the write reads the value written (no cycles between)"
        REPORT_PREFIX_POP
        REPORT_SUMMARY
