; An abort before the first test is still a failure: the library's handler prints the ABORT line and
; "SUMMARY: 0 tests, 1 unexpected failures" and ends the run with status 1, not kvm-unit-tests' 77
; ("everything skipped"), so `vpmu test` reports FAIL rather than SKIP for a guest that never got going.
; vpmu:
        org 0x100000
        bits 64
%include "../lib/vpmu.inc"

        EXC_SETUP
        mov ecx, 0x12345678             ; no such MSR: #GP(0), and nothing expects it
        rdmsr
        REPORT_PASS "not reached"
        REPORT_SUMMARY
