; Exact counting under the LEGACY perf-backed vPMU (every PMU access exits): see count-loop.inc.
; vpmu: --host spr --pmu legacy --exits
        org 0x100000
        bits 64
%include "../lib/vpmu.inc"
%include "count-loop.inc"
