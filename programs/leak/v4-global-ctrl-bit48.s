; GLOBAL_CTRL bit 48 under V4 (model.md §14.2, §14.4 variant): 0x38F passes through (R-INT-3), so the guest sets
; EN_PERF_METRICS in hardware although KVM's own mask reserves it; no exit, no #GP.
; vpmu: --host spr --pmu mediated --kvm v4 --pmu-version 2 --gp 8 --gp-width 48 --fixed 4 --fixed-width 48 --perf-caps 0x2000 --exits
        org 0x100000
        bits 64
%include "../lib/vpmu.inc"
%include "global-ctrl-bit48.inc"
