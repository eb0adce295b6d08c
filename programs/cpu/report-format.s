; The guest library's report format, line by line: prefixes, PASS/FAIL/SKIP/INFO, the REPORT_EQ
; failure detail and the SUMMARY line. One check fails on purpose ("deliberate failure"), so the
; golden output pins kvm-unit-tests' failure status 1.
; vpmu:
        org 0x100000
        bits 64
%include "../lib/vpmu.inc"

        REPORT_INFO "no prefix"
        REPORT_PREFIX_PUSH "outer"
        REPORT_PASS "an unconditional pass"
        REPORT_PREFIX_PUSH "inner"
        mov rbx, 41
        inc rbx
        REPORT_EQ rbx, 42, "41 + 1 = 42"
        REPORT_EQ rbx, 0x8899AABB11223344, "deliberate failure"
        REPORT rbx, "non-zero register passes"
        REPORT 0, "zero fails"
        REPORT_PREFIX_POP
        REPORT_SKIP "not applicable here"
        REPORT_INFO_HEX "rbx", rbx
        REPORT_PREFIX_POP
        REPORT_PREFIX_POP               ; popping an empty stack does nothing (as report.c)
        REPORT_INFO "prefix stack empty again"
        ; every macro preserves registers: rbx is still 42
        REPORT_EQ rbx, 42, "registers preserved"
        REPORT_SUMMARY
