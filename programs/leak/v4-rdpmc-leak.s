; The PERF_METRICS leak under the V4 patch (model.md §14.4): on Sapphire Rapids, a mediated guest whose counters
; match the host exactly (8×48-bit GP, 4×48-bit fixed) but without PERF_METRICS gets RDPMC exiting off
; (R-INT-5), and load never writes 0x329 (P-8): RDPMC(0x2000_0000) returns the host's PERF_METRICS with no exit.
; vpmu: --host spr --pmu mediated --kvm v4 --pmu-version 2 --gp 8 --gp-width 48 --fixed 4 --fixed-width 48 --perf-caps 0x2000 --host-msr 0x329=0x8899aabb11223344 --check-isolation --exits
        org 0x100000
        bits 64
%include "../lib/vpmu.inc"
%include "rdpmc-metrics.inc"
