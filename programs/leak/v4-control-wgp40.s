; Control case (model.md §14.5): the same guest with 40-bit GP counters. The GP width differs from the host's
; (R-INT-5 compares widths), so RDPMC is intercepted already under V4 and the metrics read faults.
; vpmu: --host spr --pmu mediated --kvm v4 --pmu-version 2 --gp 8 --gp-width 40 --fixed 4 --fixed-width 48 --perf-caps 0x2000 --host-msr 0x329=0x8899aabb11223344 --exits
        org 0x100000
        bits 64
%include "../lib/vpmu.inc"
%include "rdpmc-metrics.inc"
