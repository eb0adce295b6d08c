; Control case (model.md §14.5): the same guest with 3 fixed counters. The counts differ from the host's, so
; RDPMC is intercepted already under V4 (R-INT-5) and the metrics read faults: the leak needs the exact match.
; vpmu: --host spr --pmu mediated --kvm v4 --pmu-version 2 --gp 8 --gp-width 48 --fixed 3 --fixed-width 48 --perf-caps 0x2000 --host-msr 0x329=0x8899aabb11223344 --exits
        org 0x100000
        bits 64
%include "../lib/vpmu.inc"
%include "rdpmc-metrics.inc"
