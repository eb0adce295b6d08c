; model.md §14.6: a guest WITH PERF_METRICS never sees the host's value. Host perf leaves PERF_METRICS = H in
; hardware; the guest's saved perf_metrics is 0 (reset, P-7), and load writes it to 0x329 after the fixed
; counters (P-8), so both the pass-through RDMSR and a native RDPMC(0x2000_0000) read 0.
; vpmu: --host spr --pmu mediated --kvm v4 --pmu-version 2 --gp 8 --gp-width 48 --fixed 4 --fixed-width 48 --perf-caps 0xa000 --host-msr 0x329=0x8899aabb11223344 --exits
        org 0x100000
        bits 64
%include "../lib/vpmu.inc"

        EXC_SETUP
        REPORT_PREFIX_PUSH "perf-metrics"
        mov ecx, MSR_PERF_METRICS
        SAFE_RDMSR
        REPORT_EQ rbx, 0, "rdmsr 0x329 passes through"
        shl rdx, 32
        or rax, rdx
        REPORT_EQ rax, 0, "rdmsr 0x329 reads the guest's 0, not the host's value"
        mov ecx, 0x20000000
        SAFE_RDPMC
        REPORT_EQ rbx, 0, "rdpmc 0x20000000 runs natively"
        shl rdx, 32
        or rax, rdx
        REPORT_EQ rax, 0, "rdpmc 0x20000000 reads 0"
        REPORT_PREFIX_POP
        REPORT_SUMMARY
