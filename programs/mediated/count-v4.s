; Exact counting under the mediated vPMU, code state V4 (hardware counts between load and put): see count-loop.inc.
; vpmu: --host spr --pmu mediated --kvm v4 --perf-caps 0x2000 --gp 8 --fixed 4 --check-isolation --exits
        org 0x100000
        bits 64
%include "../lib/vpmu.inc"
%include "count-loop.inc"
