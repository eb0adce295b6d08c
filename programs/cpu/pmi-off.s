; pmi.s on a vCPU without a PMU (enable_pmu off: CPUID leaf 0xA reads 0): the program reports SKIP and
; ends with kvm-unit-tests' "all skipped" status 77, which `vpmu test` shows as SKIP.
; vpmu: --host spr --pmu off
%include "pmi.s"
