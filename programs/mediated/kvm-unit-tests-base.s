; The kvm-unit-tests x86/pmu.c port (programs/pmu/pmu.s, 257 exact checks) on the mediated vPMU (BASE, SPR:
; 8 GP, 3 fixed, so counters pass through and RDPMC/global MSRs are intercepted): every count, overflow and
; PMI matches the LEGACY expectations.
; vpmu: --host spr --pmu mediated --kvm base
%include "../pmu/pmu.s"
