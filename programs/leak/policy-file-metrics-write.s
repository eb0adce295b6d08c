; A user's intercept policy that lets the guest write PERF_METRICS natively (metrics-write-through.json)
; on the §14.4 guest, which has no PERF_METRICS: the WRMSR 0x329 does not exit, and KVM's put leaves the
; guest's value in hardware (P-9 saves and scrubs 0x329 only for a guest with PERF_METRICS), where the
; host's topdown code would read it: a guest→host leak, reported at the exit that follows.
; vpmu: --host spr --pmu mediated --kvm metrics-write-through.json --pmu-version 2 --gp 8 --gp-width 48 --fixed 4 --fixed-width 48 --perf-caps 0x2000 --exits
        org 0x100000
        bits 64
%include "../lib/vpmu.inc"

        mov ecx, MSR_PERF_METRICS
        mov eax, 0x11223344
        mov edx, 0x55667788
        wrmsr                           ; passes through: no exit, no #GP
        PRINTLN "wrote 0x5566778811223344 to PERF_METRICS without an exit"
        EXIT 0
