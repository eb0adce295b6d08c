; llc.s — the LLC as docs/cpu.md "Caches" models it, measured with the LLC events of the guest's own PMU
; (GP counter 0: LLC misses 0x412E, GP counter 1: LLC references 0x4F2E): a 16 MiB 16-way LRU LLC behind a
; 32 KiB direct-mapped L1D, and a streamer that, after two ascending references in one 4 KiB page, fills
; the page's next line. On hardware the same loops show the same shape (a cold ascending sweep mostly
; hits, a descending one mostly misses, a sweep over more than the LLC misses again every time round);
; here every count is exact. Nothing else touches memory while the counters run.
; vpmu: --host spr --mem 64M
        org 0x100000
        bits 64
%include "../lib/vpmu.inc"

; MEASURE — zero both counters, program them, enable both (GLOBAL_CTRL := 3). The WRMSRs exit and touch no
; guest memory. DONE — disable, then r12 := misses, r13 := references.
%macro MEASURE 0
        WRMSR32 MSR_CORE_PERF_GLOBAL_CTRL, 0
        WRMSR32 MSR_IA32_PERFCTR0, 0
        WRMSR32 MSR_IA32_PERFCTR0 + 1, 0
        WRMSR32 MSR_P6_EVNTSEL0, EVENT_LLC_MISSES | ARCH_PERFMON_EVENTSEL_OS | ARCH_PERFMON_EVENTSEL_ENABLE
        WRMSR32 MSR_P6_EVNTSEL0 + 1, EVENT_LLC_REFERENCES | ARCH_PERFMON_EVENTSEL_OS | ARCH_PERFMON_EVENTSEL_ENABLE
        WRMSR32 MSR_CORE_PERF_GLOBAL_CTRL, 3
%endmacro
%macro DONE 0
        WRMSR32 MSR_CORE_PERF_GLOBAL_CTRL, 0
        mov ecx, MSR_IA32_PERFCTR0
        rdmsr
        mov r12d, eax
        mov ecx, MSR_IA32_PERFCTR0 + 1
        rdmsr
        mov r13d, eax
%endmacro
; SWEEP start, count, stride — `count` loads of 8 bytes from start, start + stride, ...
%macro SWEEP 3
        mov rsi, %1
        mov ebx, %2
%%l:    mov rax, [rsi]
        add rsi, %3
        dec ebx
        jnz %%l
%endmacro

PAGE_A   equ 0x400000                   ; 2 pages, then a 1 MiB region from here
PAGE_B   equ 0x500000                   ; 1 page, read downwards
CONFLICT equ 0x6C0000                   ; LLC set 12288 (line 0x1B000 mod 16384); + k MiB, same set
BIG      equ 0x1800000                  ; 32 MiB, twice the LLC (ends at 56 MiB, below the stack)

        REPORT_PREFIX_PUSH "stream"
        MEASURE
        SWEEP PAGE_A, 128, 64           ; two cold pages, ascending
        DONE
        REPORT_EQ r12, 4, "cold ascending sweep of 2 pages: the first two lines of each page miss"
        REPORT_EQ r13, 128, "cold ascending sweep of 2 pages: 128 references (every line misses L1)"
        MEASURE
        SWEEP PAGE_B + 4032, 64, -64    ; one cold page, descending: the streamer follows ascending lines
        DONE
        REPORT_EQ r12, 64, "cold descending sweep of a page: every line misses"
        MEASURE
        SWEEP PAGE_A, 16384, 64         ; 1 MiB from PAGE_A: 256 pages, the first 2 already in the LLC
        DONE
        REPORT_EQ r12, 508, "cold 1 MiB sweep: two misses in each of the 254 new pages"
        MEASURE
        SWEEP PAGE_A, 16384, 64         ; again: the LLC holds it all, the L1 (32 KiB) none of it
        DONE
        REPORT_EQ r12, 0, "warm 1 MiB sweep: no LLC misses"
        REPORT_EQ r13, 16384, "warm 1 MiB sweep: every load misses the 32 KiB L1"
        REPORT_PREFIX_POP

        REPORT_PREFIX_PUSH "lru"
        MEASURE
        SWEEP CONFLICT, 16, 0x100000    ; 16 lines of one set: it is full
        DONE
        REPORT_EQ r12, 16, "16 lines 1 MiB apart fill one 16-way set"
        MEASURE
        mov rax, [CONFLICT]             ; hit: the set holds 16
        DONE
        REPORT_EQ r12, 0, "the set's first line is still there"
        MEASURE
        mov rax, [CONFLICT + 16 * 0x100000] ; a 17th line evicts the least recently used: line 1
        mov rax, [CONFLICT]             ; line 0 was used just now: kept
        mov rax, [CONFLICT + 1 * 0x100000] ; line 1: evicted
        DONE
        REPORT_EQ r12, 2, "a 17th line evicts the least recently used, not the oldest loaded"
        REPORT_EQ r13, 3, "three references (the 1 MiB-apart lines share one L1 line)"
        REPORT_PREFIX_POP

        REPORT_PREFIX_PUSH "capacity"
        SWEEP BIG, 524288, 64           ; first time round: cold
        MEASURE
        SWEEP BIG, 524288, 64           ; second time round: the LLC kept only the last 16 MiB, now evicted
        DONE
        REPORT_EQ r12, 16384, "32 MiB swept twice: the second time, two misses in each of 8192 pages"
        REPORT_EQ r13, 524288, "32 MiB swept twice: every load is a reference"
        MEASURE
        mov rax, [BIG + 0x1FFFFC0]      ; the last line swept: an LLC hit (the reports took its L1 line)
        mov rax, [BIG + 0x1FFFFC0]      ; an L1 hit: no reference
        clflush [BIG + 0x1FFFFC0]
        mov rax, [BIG + 0x1FFFFC0]      ; flushed from both: a reference and a miss
        DONE
        REPORT_EQ r12, 1, "after CLFLUSH the line misses the LLC"
        REPORT_EQ r13, 2, "after CLFLUSH the line misses the L1 too (the load before it hit)"
        REPORT_PREFIX_POP
        REPORT_SUMMARY
