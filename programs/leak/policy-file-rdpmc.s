; The §14.4 guest under a user's own intercept policy (metrics-aware.json: V4 plus "RDPMC passes through
; only if the guest's PERF_METRICS matches the host's"): the RDPMC exits (reason 15) and faults, as under
; the kernel's FIX, so the idea closes the leak — tried without writing kernel code.
; vpmu: --host spr --pmu mediated --kvm metrics-aware.json --pmu-version 2 --gp 8 --gp-width 48 --fixed 4 --fixed-width 48 --perf-caps 0x2000 --host-msr 0x329=0x8899aabb11223344 --check-isolation --exits
        org 0x100000
        bits 64
%include "../lib/vpmu.inc"
%include "rdpmc-metrics.inc"
