; no-fw-writes.s — userspace cleared PERF_CAPABILITIES (KVM_SET_MSRS 0x345 := 0, --perf-caps 0): the
; full-width aliases 0x4C1+n stop existing (R-VAL-2), the legacy aliases still work, and RDPMC still reads
; the whole counter. PEBS_ENABLE disappears with the PEBS format (intel_is_valid_msr).
; vpmu: --host spr --perf-caps 0
        org 0x100000
        bits 64
%include "../lib/vpmu.inc"
%include "rules.inc"

        EXC_SETUP
        RD_EQ 0x345, 0, "PERF_CAPABILITIES reads what userspace set"
        RD_GP 0x4C1, "A_PMC0 is not valid without FW_WRITES"
        WR_GP 0x4C1, 1, "A_PMC0 write raises #GP"
        RD_GP 0x3F1, "PEBS_ENABLE is not valid without a PEBS format"
        WR_OK 0xC1, 0x80000000, "legacy alias write"
        RD_EQ 0xC1, 0xFFFF80000000, "legacy alias still sign-extends"
        RDPMC_EQ 0, 0xFFFF80000000, "RDPMC(0) reads the whole 48-bit counter"
        REPORT_SUMMARY
