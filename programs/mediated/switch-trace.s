; The mediated context switch step by step (model.md §12.1, §12.2) for the §14.4 guest under V4, with host perf
; counting on every counter: load rewrites the guest's counters over the host's (step 5/6), skips 0x329
; (P-8, no PERF_METRICS), and the guest's native RDPMC(0x2000_0000) reads the host's value without an exit.
; The guest exits with the low byte of what it read (0x44, from the host's 0x8899aabb11223344); vpmu run
; says so on stderr and exits with 104, its status for a recorded leak.
; vpmu: --host spr --pmu mediated --kvm v4 --pmu-version 2 --gp 8 --gp-width 48 --fixed 4 --fixed-width 48 --perf-caps 0x2000 --host-activity counting --host-msr 0x329=0x8899aabb11223344 --check-isolation --exits --trace-switch
        org 0x100000
        bits 64
        mov ecx, 0x20000000
        rdpmc
        out 0xf4, al
