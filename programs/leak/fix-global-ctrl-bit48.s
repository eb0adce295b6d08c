; GLOBAL_CTRL bit 48 under FIX (model.md §14.5 variant): R-INT-4 intercepts 0x38F, the write exits (reason 32)
; and fails KVM's reserved-bit check (P-6: bit 48 reserved without PERF_METRICS): #GP.
; vpmu: --host spr --pmu mediated --kvm fix --pmu-version 2 --gp 8 --gp-width 48 --fixed 4 --fixed-width 48 --perf-caps 0x2000 --exits
        org 0x100000
        bits 64
%include "../lib/vpmu.inc"
%include "global-ctrl-bit48.inc"
