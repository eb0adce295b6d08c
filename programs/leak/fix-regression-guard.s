; Regression guard for the fix (model.md §14.5): a guest WITH PERF_METRICS (caps bit 15) keeps native RDPMC and
; the 0x329 pass-through. It writes G to 0x329 (no exit), forces an exit with CPUID (put saves G with
; RDPMC(0x2000_0000) and scrubs 0x329; load writes G back, P-8/P-9), and reads G back with RDPMC (no exit).
; vpmu: --host spr --pmu mediated --kvm fix --pmu-version 2 --gp 8 --gp-width 48 --fixed 4 --fixed-width 48 --perf-caps 0xa000 --host-msr 0x329=0x8899aabb11223344 --check-isolation --exits
        org 0x100000
        bits 64
%include "../lib/vpmu.inc"

        EXC_SETUP
        REPORT_PREFIX_PUSH "perf-metrics"
        mov ecx, 0x329
        mov edx, 0x01020304
        mov eax, 0x05060708
        SAFE_WRMSR
        REPORT_EQ rbx, 0, "wrmsr 0x329 (pass-through) succeeds"
        xor eax, eax
        cpuid
        mov ecx, 0x20000000
        SAFE_RDPMC
        REPORT_EQ rbx, 0, "rdpmc 0x20000000 succeeds (no #GP)"
        shl rdx, 32
        mov eax, eax
        or rax, rdx
        mov r13, rax
        mov rax, 0x0102030405060708
        REPORT_EQ r13, rax, "rdpmc 0x20000000 returns the guest's own value G"
        mov ecx, 0x329
        SAFE_RDMSR
        shl rdx, 32
        mov eax, eax
        or rax, rdx
        mov r13, rax
        mov rax, 0x0102030405060708
        REPORT_EQ r13, rax, "rdmsr 0x329 (pass-through) returns G"
        REPORT_PREFIX_POP
        REPORT_SUMMARY
