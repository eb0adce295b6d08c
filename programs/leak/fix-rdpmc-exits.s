; The same guest under the fix (model.md §14.5, R-INT-4): the host has PERF_METRICS and the guest does not, so
; RDPMC exiting stays on; RDPMC(0x2000_0000) exits with reason 15 and KVM's emulation injects #GP.
; vpmu: --host spr --pmu mediated --kvm fix --pmu-version 2 --gp 8 --gp-width 48 --fixed 4 --fixed-width 48 --perf-caps 0x2000 --host-msr 0x329=0x8899aabb11223344 --check-isolation --exits
        org 0x100000
        bits 64
%include "../lib/vpmu.inc"
%include "rdpmc-metrics.inc"
