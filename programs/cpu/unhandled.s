; An exception nobody expects: the library's handler prints an ABORT line naming the vector, RIP and
; error code, then the SUMMARY, and ends the run with status 1 (kvm-unit-tests' report_abort).
; vpmu:
        org 0x100000
        bits 64
%include "../lib/vpmu.inc"

        EXC_SETUP
        REPORT_PREFIX_PUSH "unhandled"
        REPORT_PASS "before the fault"
        mov ecx, 0x12345678
        rdmsr
        REPORT_FAIL "not reached"
        REPORT_SUMMARY
