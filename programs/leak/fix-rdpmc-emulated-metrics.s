; FIX's RDPMC emulation of the metrics type (model.md §9.3 step 6, FIX tree intel_emulate_rdpmc): the regression
; guard's guest with PERF_METRICS but 40-bit GP counters. The width mismatch keeps RDPMC exiting on (R-INT-5),
; so RDPMC(0x2000_0000) exits (reason 15) and KVM returns the saved perf_metrics, which put captured (P-9).
; vpmu: --host spr --pmu mediated --kvm fix --pmu-version 2 --gp 8 --gp-width 40 --fixed 4 --fixed-width 48 --perf-caps 0xa000 --host-msr 0x329=0x8899aabb11223344 --check-isolation --exits
%include "fix-regression-guard.s"
