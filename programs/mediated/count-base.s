; Exact counting under the mediated vPMU, code state BASE (hardware counts between load and put): see count-loop.inc.
; vpmu: --host spr --pmu mediated --kvm base --perf-caps 0x2000 --exits
        org 0x100000
        bits 64
%include "../lib/vpmu.inc"
%include "count-loop.inc"
