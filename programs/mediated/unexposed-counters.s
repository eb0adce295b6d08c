; R-INT-2 / R-INT-5 (model.md §11.6): KVM does not zero the hardware counters a guest was not given, so it
; intercepts them. Host perf counts cycles on all 8 GP counters of SPR; the guest has 4. RDMSR of GP
; counter 4 exits and faults (R-VAL-2), RDPMC is intercepted (nGP 4 ≠ 8) so RDPMC(4) faults too, and the
; guest's own counter 0 reads the guest's value, not the host's.
; vpmu: --host spr --pmu mediated --kvm v4 --gp 4 --fixed 3 --perf-caps 0x2000 --host-activity counting --exits
        org 0x100000
        bits 64
%include "../lib/vpmu.inc"

        EXC_SETUP
        REPORT_PREFIX_PUSH "unexposed"
        mov ecx, MSR_IA32_PERFCTR0 + 4
        SAFE_RDMSR
        REPORT_EQ rbx, 13, "rdmsr of GP counter 4 raises #GP"
        mov ecx, 4
        SAFE_RDPMC
        REPORT_EQ rbx, 13, "rdpmc 4 raises #GP"
        mov ecx, MSR_IA32_PERFCTR0
        SAFE_RDMSR
        REPORT_EQ rbx, 0, "rdmsr of GP counter 0 passes through"
        shl rdx, 32
        or rax, rdx
        REPORT_EQ rax, 0, "GP counter 0 holds the guest's 0, not the host's count"
        REPORT_PREFIX_POP
        REPORT_SUMMARY
