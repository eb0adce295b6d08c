; pmu.s — kvm-unit-tests x86/pmu.c (Intel) on the LEGACY vPMU, with exact expectations where the real
; suite accepts a range: every architectural event on every GP counter over the same measured loop,
; the fixed counters, RDPMC, all counters at once, overflow with PMI and GLOBAL_OVF_CTRL, CMASK, a
; write to a running counter, KVM-emulated instructions (R-CNT-4), then all of it again through the
; full-width aliases (FW_WRITES) plus their width checks. docs/vpmu.md derives every expected count.
; vpmu: --host spr
        org 0x100000
        bits 64
%include "../lib/vpmu.inc"

N               equ 10000
BUF             equ 0x400000            ; N * 64 bytes of loads, one per cache line
; __precise_loop: enable (wrmsr, mov, mov) + clflush/mfence + IBPB jump blob (9) + disable prologue (3)
EXTRA_INSNS     equ 3 + 3 + 2 + 9
LOOP_INSNS      equ N * 10 + EXTRA_INSNS
LOOP_BRANCHES   equ N + 2                ; loop ×N, call, jmp rax
%include "pmu-expect.inc"

        EXC_SETUP
        PMU_INIT
        SET_IDT_GATE PMI_VECTOR, cnt_overflow
        call apic_sw_enable
        cmp qword [rel pmu_version], 2
        jb .no_global
        mov ecx, MSR_CORE_PERF_GLOBAL_CTRL
        xor eax, eax
        xor edx, edx
        wrmsr
.no_global:
        mov ecx, 64
        SAFE_RDPMC
        cmp ebx, 13
        sete bl
        movzx ebx, bl
        REPORT rbx, "Expected #GP on RDPMC(64)"
        cmp qword [rel pmu_version], 0
        jne .has_pmu
        REPORT_SKIP "No Intel Arch PMU is detected!"
        REPORT_SUMMARY
.has_pmu:
        REPORT_PREFIX_PUSH "Intel"
        PRINT "PMU version:         "
        PRINT_DEC qword [rel pmu_version]
        call console_nl
        PRINT "GP counters:         "
        PRINT_DEC qword [rel pmu_nr_gp]
        call console_nl
        PRINT "GP counter width:    "
        PRINT_DEC qword [rel pmu_gp_width]
        call console_nl
        PRINT "Event Mask length:   "
        PRINT_DEC qword [rel pmu_ebx_length]
        call console_nl
        PRINT "Fixed counters:      "
        PRINT_DEC qword [rel pmu_nr_fixed]
        call console_nl
        PRINT "Fixed counter width: "
        PRINT_DEC qword [rel pmu_fixed_width]
        call console_nl
        PMI_UNMASK PMI_VECTOR
        call check_counters
        ; Full-width writes: PERF_CAPABILITIES.FW_WRITES (only readable with PDCM).
        cmp qword [rel pmu_pdcm], 0
        je .done
        mov ecx, MSR_IA32_PERF_CAPABILITIES
        rdmsr
        test eax, 1 << PERF_CAP_FW_WRITES_BIT
        jz .done
        mov qword [rel gp_base], MSR_IA32_PMC0
        REPORT_PREFIX_PUSH "full-width writes"
        call check_counters
        call check_gp_counters_write_width
        REPORT_PREFIX_POP
.done:
        REPORT_SUMMARY

; ---------------------------------------------------------------------------------------------------
align 8
gp_base:        dq MSR_IA32_PERFCTR0
irq_received:   dq 0
msgbuf:         times 64 db 0

; cnt_overflow: the PMI handler (x86/pmu.c cnt_overflow): count, unmask LVTPC, EOI.
cnt_overflow:
        inc qword [rel irq_received]
        PMI_UNMASK PMI_VECTOR
        PMI_EOI
        iretq

; check_irq: sti, spin (pause) until a PMI or 100000 iterations, cli. rax = 1 if one arrived.
check_irq:
        push rcx
        mov qword [rel irq_received], 0
        sti
        mov ecx, 100000
.spin:
        cmp qword [rel irq_received], 0
        jne .got
        pause
        dec ecx
        jnz .spin
.got:
        cli
        mov rax, [rel irq_received]
        pop rcx
        ret

; precise_loop: r8 = GLOBAL_CTRL value for the measurement (x86/pmu.c __precise_loop with clflush and
; IBPB). Clobbers rax, rcx, rdx, rsi, rdi.
precise_loop:
        mov rax, r8
        mov rdx, r8
        shr rdx, 32
        mov ecx, MSR_CORE_PERF_GLOBAL_CTRL
        mov esi, BUF
        wrmsr                           ; counted: it enables
        mov edi, ecx
        mov ecx, N
        clflush [rsi]
        mfence
.l:     mov rax, [rsi]
        add rsi, 64
        nop
        nop
        nop
        nop
        nop
        nop
        nop
        loop .l
        mov eax, 1
        xor edx, edx
        mov ecx, MSR_IA32_PRED_CMD
        wrmsr                           ; IBPB (passed through: no exit)
        call .c
.c:     pop rax
        add rax, .t - .c
        jmp rax
        nop
.t:     nop
        mov ecx, edi
        xor eax, eax
        xor edx, edx
        wrmsr                           ; not counted: it disables
        ret

; measure_gp: r12 = counter n, r14 = selector without EN, r15 = initial count → rax = final count
; (x86/pmu.c __measure with __start_event / __stop_event). Clobbers rcx, rdx, rsi, rdi, r8.
measure_gp:
        mov rcx, [rel gp_base]
        add ecx, r12d
        mov rax, r15
        mov rdx, r15
        shr rdx, 32
        wrmsr
        mov ecx, MSR_P6_EVNTSEL0
        add ecx, r12d
        mov rax, r14
        or eax, ARCH_PERFMON_EVENTSEL_ENABLE
        mov rdx, r14
        shr rdx, 32
        wrmsr
        PMI_UNMASK PMI_VECTOR
        mov ecx, r12d
        mov r8d, 1
        shl r8, cl
        call precise_loop
        mov ecx, MSR_P6_EVNTSEL0
        add ecx, r12d
        mov rax, r14
        mov rdx, r14
        shr rdx, 32
        wrmsr
        mov rcx, [rel gp_base]
        add ecx, r12d
        rdmsr
        shl rdx, 32
        or rax, rdx
        ret

; fixed_ctrl_set: r12 = fixed counter i, ebx = new 4-bit field; FIXED_CTR_CTRL field i := ebx.
fixed_ctrl_set:
        push rbx
        mov ecx, MSR_CORE_PERF_FIXED_CTR_CTRL
        rdmsr
        mov esi, eax
        mov ecx, r12d
        shl ecx, 2
        mov edx, 0xF
        shl edx, cl
        not edx
        and esi, edx
        shl ebx, cl
        or esi, ebx
        mov eax, esi
        xor edx, edx
        mov ecx, MSR_CORE_PERF_FIXED_CTR_CTRL
        wrmsr
        pop rbx
        ret

; measure_fixed: r12 = fixed counter i, r14 = OS/USR/INT selector bits, r15 = initial → rax = count.
measure_fixed:
        push rbx
        mov ecx, MSR_CORE_PERF_FIXED_CTR0
        add ecx, r12d
        mov rax, r15
        mov rdx, r15
        shr rdx, 32
        wrmsr
        xor ebx, ebx
        test r14d, ARCH_PERFMON_EVENTSEL_OS
        jz .noos
        or ebx, 1                       ; OS → bit 0
.noos:  test r14d, ARCH_PERFMON_EVENTSEL_USR
        jz .nousr
        or ebx, 2                       ; USR → bit 1
.nousr: test r14d, ARCH_PERFMON_EVENTSEL_INT
        jz .noint
        or ebx, 8                       ; INT → PMI bit 3
.noint:
        call fixed_ctrl_set
        PMI_UNMASK PMI_VECTOR
        mov ecx, r12d
        add ecx, INTEL_PMC_IDX_FIXED
        mov r8d, 1
        shl r8, cl
        call precise_loop
        xor ebx, ebx
        call fixed_ctrl_set
        mov ecx, MSR_CORE_PERF_FIXED_CTR0
        add ecx, r12d
        rdmsr
        shl rdx, 32
        or rax, rdx
        pop rbx
        ret

; check_eq: rsi = name, r12 = index (−1: none), rax = value, rdx = expected → one REPORT_EQ-style test
; named "name-index".
check_eq:
        push rcx
        push rdi
        push rsi
        lea rdi, [rel msgbuf]
.copy:  mov cl, [rsi]
        test cl, cl
        jz .num
        mov [rdi], cl
        inc rsi
        inc rdi
        jmp .copy
.num:   test r12, r12
        js .end
        mov byte [rdi], '-'
        mov ecx, r12d
        add ecx, '0'
        mov [rdi + 1], cl
        add rdi, 2
.end:   mov byte [rdi], 0
        pop rsi
        push rax
        push rdx
        push rsi
        lea rsi, [rel msgbuf]
        call report_eq
        pop rsi
        add rsp, 16
        pop rdi
        pop rcx
        ret

; The architectural events kvm-unit-tests checks, with this model's exact count for the measured loop.
align 8
events:
        dq ev_cycles, EVENT_CORE_CYCLES, EXPECT_CORE_CYCLES
        dq ev_insns, EVENT_INSTRUCTIONS, LOOP_INSNS
        dq ev_ref, EVENT_REF_CYCLES, EXPECT_REF_CYCLES
        dq ev_llcref, EVENT_LLC_REFERENCES, EXPECT_LLC_REFERENCES
        dq ev_llcmiss, EVENT_LLC_MISSES, EXPECT_LLC_MISSES
        dq ev_branches, EVENT_BRANCHES, LOOP_BRANCHES
        dq ev_brmiss, EVENT_BRANCH_MISSES, EXPECT_BRANCH_MISSES
        dq 0
fixed_expect:
        dq LOOP_INSNS, EXPECT_CORE_CYCLES, EXPECT_REF_CYCLES
ev_cycles:   db "core cycles", 0
ev_insns:    db "instructions", 0
ev_ref:      db "ref cycles", 0
ev_llcref:   db "llc references", 0
ev_llcmiss:  db "llc misses", 0
ev_branches: db "branches", 0
ev_brmiss:   db "branch misses", 0
name_fixed:  db "fixed", 0
name_cntr:   db "cntr", 0
name_fixed_cntr: db "fixed cntr", 0
name_irq:    db "irq", 0
name_status: db "status", 0
name_status_clear: db "status clear", 0

; check_counters: x86/pmu.c check_counters (warm-up, GP, fixed, rdpmc, many, overflow, cmask, running
; counter write, emulated instructions).
check_counters:
        mov r8, 0
        mov r13d, 10
.warm:  call precise_loop
        dec r13d
        jnz .warm
        call check_gp_counters
        call check_fixed_counters
        call check_rdpmc
        call check_counters_many
        call check_counter_overflow
        call check_gp_counter_cmask
        call check_running_counter_wrmsr
        call check_emulated_instr
        ret

check_gp_counters:
        lea rbx, [rel events]
.ev:    mov rsi, [rbx]
        test rsi, rsi
        jz .done
        xor r12d, r12d
.ctr:   cmp r12, [rel pmu_nr_gp]
        jae .next
        mov r14, ARCH_PERFMON_EVENTSEL_OS | ARCH_PERFMON_EVENTSEL_USR
        or r14, [rbx + 8]
        xor r15d, r15d
        call measure_gp
        mov rdx, [rbx + 16]
        mov rsi, [rbx]
        call check_eq
        inc r12d
        jmp .ctr
.next:  add rbx, 24
        jmp .ev
.done:  ret

check_fixed_counters:
        xor r12d, r12d
.ctr:   cmp r12, [rel pmu_nr_fixed]
        jae .done
        cmp r12, 3                      ; x86/pmu.c knows fixed events 0..2 only
        jae .done
        mov r14, ARCH_PERFMON_EVENTSEL_OS | ARCH_PERFMON_EVENTSEL_USR
        xor r15d, r15d
        call measure_fixed
        lea rsi, [rel fixed_expect]
        mov rdx, [rsi + r12*8]
        lea rsi, [rel name_fixed]
        call check_eq
        inc r12d
        jmp .ctr
.done:  ret

; check_rdpmc: write 0xff0123456789 through the current alias, read with RDPMC(i) (and the fixed form).
VAL64 equ 0xff0123456789
check_rdpmc:
        REPORT_PREFIX_PUSH "rdpmc"
        xor r12d, r12d
.gp:    cmp r12, [rel pmu_nr_gp]
        jae .fixed
        mov rcx, [rel gp_base]
        add ecx, r12d
        mov rax, VAL64
        mov rdx, rax
        shr rdx, 32
        wrmsr
        mov ecx, r12d
        rdpmc
        shl rdx, 32
        or rax, rdx
        ; legacy alias: low 32 bits sign-extended; full-width: the value; masked to the width
        mov rdx, 0x23456789
        cmp qword [rel gp_base], MSR_IA32_PMC0
        jne .cmp
        mov rdx, VAL64
.cmp:   lea rsi, [rel name_cntr]
        call check_eq
        inc r12d
        jmp .gp
.fixed: xor r12d, r12d
.fx:    cmp r12, [rel pmu_nr_fixed]
        jae .done
        cmp r12, 3
        jae .done
        mov ecx, MSR_CORE_PERF_FIXED_CTR0
        add ecx, r12d
        mov rax, VAL64
        mov rdx, rax
        shr rdx, 32
        wrmsr
        mov ecx, r12d
        or ecx, INTEL_PMC_FIXED_RDPMC_BASE
        rdpmc
        shl rdx, 32
        or rax, rdx
        mov rdx, VAL64
        lea rsi, [rel name_fixed_cntr]
        call check_eq
        inc r12d
        jmp .fx
.done:  REPORT_PREFIX_POP
        ret

; check_counters_many: one event per GP counter (event i on counter i) plus fixed 0..2, one loop.
check_counters_many:
        xor r12d, r12d
        xor r8d, r8d
.gp:    cmp r12, [rel pmu_nr_gp]
        jae .fx
        mov ecx, r12d
        xor edx, edx
        mov eax, ecx
        mov ebx, 7
        div ebx                         ; edx = i % 7 (gp_events_size)
        lea rbx, [rel events]
        lea edx, [rdx + rdx*2]
        shl edx, 3
        mov rax, [rbx + rdx + 8]
        or rax, ARCH_PERFMON_EVENTSEL_OS | ARCH_PERFMON_EVENTSEL_USR | ARCH_PERFMON_EVENTSEL_ENABLE
        mov ecx, MSR_P6_EVNTSEL0
        add ecx, r12d
        push r8
        push rax
        mov rcx, [rel gp_base]
        add ecx, r12d
        xor eax, eax
        xor edx, edx
        wrmsr
        pop rax
        mov ecx, MSR_P6_EVNTSEL0
        add ecx, r12d
        xor edx, edx
        wrmsr
        pop r8
        mov ecx, r12d
        mov eax, 1
        shl rax, cl
        or r8, rax
        inc r12d
        jmp .gp
.fx:    xor r12d, r12d
.fxl:   cmp r12, [rel pmu_nr_fixed]
        jae .run
        cmp r12, 3
        jae .run
        push r8
        mov ecx, MSR_CORE_PERF_FIXED_CTR0
        add ecx, r12d
        xor eax, eax
        xor edx, edx
        wrmsr
        mov ebx, 3
        call fixed_ctrl_set
        pop r8
        mov ecx, r12d
        add ecx, INTEL_PMC_IDX_FIXED
        mov eax, 1
        shl rax, cl
        or r8, rax
        inc r12d
        jmp .fxl
.run:   call precise_loop
        ; stop and verify every counter; report once
        mov r13d, 1
        xor r12d, r12d
.vgp:   cmp r12, [rel pmu_nr_gp]
        jae .vfx
        mov ecx, MSR_P6_EVNTSEL0
        add ecx, r12d
        xor eax, eax
        xor edx, edx
        wrmsr
        mov rcx, [rel gp_base]
        add ecx, r12d
        rdmsr
        shl rdx, 32
        or rax, rdx
        mov r9, rax
        mov ecx, r12d
        xor edx, edx
        mov eax, ecx
        mov ebx, 7
        div ebx
        lea rbx, [rel events]
        lea edx, [rdx + rdx*2]
        shl edx, 3
        cmp r9, [rbx + rdx + 16]
        je .okgp
        xor r13d, r13d
.okgp:  inc r12d
        jmp .vgp
.vfx:   xor r12d, r12d
.vfxl:  cmp r12, [rel pmu_nr_fixed]
        jae .rep
        cmp r12, 3
        jae .rep
        xor ebx, ebx
        call fixed_ctrl_set
        mov ecx, MSR_CORE_PERF_FIXED_CTR0
        add ecx, r12d
        rdmsr
        shl rdx, 32
        or rax, rdx
        lea rsi, [rel fixed_expect]
        cmp rax, [rsi + r12*8]
        je .okfx
        xor r13d, r13d
.okfx:  inc r12d
        jmp .vfxl
.rep:   REPORT r13, "all counters"
        ret

; check_counter_overflow: preset 1 − (measured count), so the counter ends at exactly 1; odd counters
; with INT raise a PMI; GLOBAL_STATUS bit set, then cleared through GLOBAL_OVF_CTRL.
check_counter_overflow:
        ; measure_for_overflow: __measure(instructions on GP0, 0)
        xor r12d, r12d
        mov r14, ARCH_PERFMON_EVENTSEL_OS | ARCH_PERFMON_EVENTSEL_USR | EVENT_INSTRUCTIONS
        xor r15d, r15d
        call measure_gp
        mov rbx, 1
        sub rbx, rax                    ; overflow_preset = 1 - count
        mov [rel overflow_preset], rbx
        ; clear status
        mov ecx, MSR_CORE_PERF_GLOBAL_STATUS
        rdmsr
        mov ecx, MSR_CORE_PERF_GLOBAL_OVF_CTRL
        wrmsr
        REPORT_PREFIX_PUSH "overflow"
        xor r12d, r12d
.loop:  mov rax, [rel pmu_nr_gp]
        cmp r12, rax
        ja .done
        mov r14, ARCH_PERFMON_EVENTSEL_OS | ARCH_PERFMON_EVENTSEL_USR | EVENT_INSTRUCTIONS
        test r12d, 1
        jz .noint
        or r14, ARCH_PERFMON_EVENTSEL_INT
.noint: cmp r12, rax
        je .fixed0
        mov r15, [rel overflow_preset]
        cmp qword [rel gp_base], MSR_IA32_PMC0
        jne .m
        mov rcx, [rel pmu_gp_width]
        mov rdx, 1
        shl rdx, cl
        dec rdx
        and r15, rdx
.m:     call measure_gp
        mov r13, r12                    ; global index
        jmp .check
.fixed0:
        ; i == nr_gp: fixed counter 0, preset measured on it
        push r12
        xor r12d, r12d
        push r14
        mov r14, ARCH_PERFMON_EVENTSEL_OS | ARCH_PERFMON_EVENTSEL_USR
        xor r15d, r15d
        call measure_fixed
        pop r14
        mov r15, 1
        sub r15, rax
        mov rcx, [rel pmu_fixed_width]
        mov rdx, 1
        shl rdx, cl
        dec rdx
        and r15, rdx
        call measure_fixed
        pop r12
        mov r13d, INTEL_PMC_IDX_FIXED
.check: mov rdx, 1
        lea rsi, [rel name_cntr]
        call check_eq                   ; cntr-i: exactly 1
        call check_irq
        mov rdx, r12
        and rdx, 1
        lea rsi, [rel name_irq]
        call check_eq                   ; irq-i: a PMI iff INT
        mov ecx, MSR_CORE_PERF_GLOBAL_STATUS
        rdmsr
        shl rdx, 32
        or rax, rdx
        mov rbx, rax
        mov ecx, r13d
        shr rax, cl
        and eax, 1
        mov rdx, 1
        lea rsi, [rel name_status]
        call check_eq                   ; status-i
        mov rax, rbx
        mov rdx, rbx
        shr rdx, 32
        mov ecx, MSR_CORE_PERF_GLOBAL_OVF_CTRL
        wrmsr
        mov ecx, MSR_CORE_PERF_GLOBAL_STATUS
        rdmsr
        shl rdx, 32
        or rax, rdx
        mov ecx, r13d
        shr rax, cl
        and eax, 1
        xor eax, 1
        mov rdx, 1
        lea rsi, [rel name_status_clear]
        call check_eq                   ; status clear-i
        inc r12d
        jmp .loop
.done:  REPORT_PREFIX_POP
        ret
align 8
overflow_preset: dq 0

; check_gp_counter_cmask: instructions with CMASK = 2 count fewer than the loop's instructions. The
; model retires at most one instruction per cycle, so the hardware part is 0; what remains is the one
; instruction KVM itself counts: the enabling WRMSR it emulated, matched on event/umask only
; (pmu.c pmc_is_event_match ignores CMASK, R-CNT-4).
check_gp_counter_cmask:
        xor r12d, r12d
        mov r14, ARCH_PERFMON_EVENTSEL_OS | ARCH_PERFMON_EVENTSEL_USR | EVENT_INSTRUCTIONS | (2 << ARCH_PERFMON_EVENTSEL_CMASK_SHIFT)
        xor r15d, r15d
        call measure_gp
        mov rdx, 1
        mov r12, -1
        lea rsi, [rel name_cmask]
        call check_eq
        ret
name_cmask: db "cmask", 0

; check_running_counter_wrmsr: a write to a running counter replaces its count (R-WR-5); then −1 overflows.
check_running_counter_wrmsr:
        REPORT_PREFIX_PUSH "running counter wrmsr"
        ; start_event: counter 0 = 0, selector, global enable bit 0
        mov rcx, [rel gp_base]
        xor eax, eax
        xor edx, edx
        wrmsr
        mov ecx, MSR_P6_EVNTSEL0
        mov eax, ARCH_PERFMON_EVENTSEL_OS | ARCH_PERFMON_EVENTSEL_USR | EVENT_INSTRUCTIONS | ARCH_PERFMON_EVENTSEL_ENABLE
        wrmsr
        mov ecx, MSR_CORE_PERF_GLOBAL_CTRL
        rdmsr
        or eax, 1
        wrmsr
        xor r8d, r8d                    ; __loop: counters stay as they are
        call plain_loop
        mov rcx, [rel gp_base]
        xor eax, eax
        xor edx, edx
        wrmsr                           ; counted after the write: 1
        ; stop_event: global disable, selector off, read
        mov ecx, MSR_CORE_PERF_GLOBAL_CTRL ; 2
        rdmsr                           ; 3
        and eax, ~1                     ; 4
        wrmsr                           ; not counted
        mov ecx, MSR_P6_EVNTSEL0
        mov eax, ARCH_PERFMON_EVENTSEL_OS | ARCH_PERFMON_EVENTSEL_USR | EVENT_INSTRUCTIONS
        xor edx, edx
        wrmsr
        mov rcx, [rel gp_base]
        rdmsr
        shl rdx, 32
        or rax, rdx
        mov rdx, 4                      ; the writing WRMSR itself (R-CNT-4), mov, rdmsr, and
        mov r12, -1
        lea rsi, [rel name_cntr]
        call check_eq
        ; clear status, start again with the counter at −1 (masked to the width for full-width)
        mov ecx, MSR_CORE_PERF_GLOBAL_STATUS
        rdmsr
        mov ecx, MSR_CORE_PERF_GLOBAL_OVF_CTRL
        wrmsr
        mov rcx, [rel gp_base]
        xor eax, eax
        xor edx, edx
        wrmsr
        mov ecx, MSR_P6_EVNTSEL0
        mov eax, ARCH_PERFMON_EVENTSEL_OS | ARCH_PERFMON_EVENTSEL_USR | EVENT_INSTRUCTIONS | ARCH_PERFMON_EVENTSEL_ENABLE
        wrmsr
        mov ecx, MSR_CORE_PERF_GLOBAL_CTRL
        rdmsr
        or eax, 1
        wrmsr
        mov rax, -1
        cmp qword [rel gp_base], MSR_IA32_PMC0
        jne .w
        mov rcx, [rel pmu_gp_width]
        mov rax, 1
        shl rax, cl
        dec rax
.w:     mov rdx, rax
        shr rdx, 32
        mov rcx, [rel gp_base]
        wrmsr
        call plain_loop
        mov ecx, MSR_CORE_PERF_GLOBAL_CTRL
        rdmsr
        and eax, ~1
        wrmsr
        mov ecx, MSR_P6_EVNTSEL0
        mov eax, ARCH_PERFMON_EVENTSEL_OS | ARCH_PERFMON_EVENTSEL_USR | EVENT_INSTRUCTIONS
        xor edx, edx
        wrmsr
        mov ecx, MSR_CORE_PERF_GLOBAL_STATUS
        rdmsr
        and eax, 1
        REPORT rax, "status msr bit"
        REPORT_PREFIX_POP
        ret

; plain_loop: x86/pmu.c __loop (GLOBAL_CTRL left alone: the first and last WRMSR are NOPs).
plain_loop:
        push r8
        mov esi, BUF
        mov ecx, N
        clflush [rsi]
        mfence
.l:     mov rax, [rsi]
        add rsi, 64
        nop
        nop
        nop
        nop
        nop
        nop
        nop
        loop .l
        pop r8
        ret

; check_emulated_instr: KVM counts every instruction it emulates and skips (R-CNT-4): the WRMSRs and five
; CPUIDs exit and are completed by KVM; the counter starts at −EMU_INSNS and ends at exactly 0 with its
; overflow bit set. (The real test adds KVM's forced-emulation prefix, which vpmu-lab does not model.)
EMU_INSNS       equ 15                  ; wrmsr, mov, 5 × (mov, cpuid), mov, xor, xor
check_emulated_instr:
        REPORT_PREFIX_PUSH "emulated instruction"
        mov ecx, MSR_CORE_PERF_GLOBAL_STATUS
        rdmsr
        mov ecx, MSR_CORE_PERF_GLOBAL_OVF_CTRL
        wrmsr
        mov rax, -EMU_INSNS
        mov rcx, [rel pmu_gp_width]
        mov rdx, 1
        shl rdx, cl
        dec rdx
        and rax, rdx                    ; −15 at the counter width (the legacy alias sign-extends alike)
        mov rdx, rax
        shr rdx, 32
        mov rcx, [rel gp_base]
        inc ecx
        wrmsr
        mov ecx, MSR_P6_EVNTSEL0 + 1
        mov eax, ARCH_PERFMON_EVENTSEL_OS | ARCH_PERFMON_EVENTSEL_USR | EVENT_INSTRUCTIONS | ARCH_PERFMON_EVENTSEL_ENABLE
        xor edx, edx
        wrmsr
        mov ecx, MSR_CORE_PERF_GLOBAL_CTRL
        mov eax, 2
        xor edx, edx
        wrmsr                           ; 1 (emulated, counted after it enabled the counter)
        mov edi, ecx                    ; 2
        mov eax, 0xA
        cpuid
        mov eax, 0xA
        cpuid
        mov eax, 0xA
        cpuid
        mov eax, 0xA
        cpuid
        mov eax, 0xA
        cpuid                           ; 12
        mov ecx, edi                    ; 13
        xor eax, eax                    ; 14
        xor edx, edx                    ; 15: the counter wraps to 0 here
        wrmsr                           ; not counted
        mov ecx, MSR_P6_EVNTSEL0 + 1
        xor eax, eax
        wrmsr
        mov rcx, [rel gp_base]
        inc ecx
        rdmsr
        shl rdx, 32
        or rax, rdx
        xor edx, edx
        mov r12, -1
        lea rsi, [rel name_insn_count]
        call check_eq
        mov ecx, MSR_CORE_PERF_GLOBAL_STATUS
        rdmsr
        shr eax, 1
        and eax, 1
        REPORT rax, "instruction counter overflow"
        REPORT_PREFIX_POP
        ret
name_insn_count: db "instruction count", 0

; check_gp_counters_write_width: x86/pmu.c check_gp_counters_write_width (full-width aliases present).
VAL_64 equ 0xffffff0123456789
VAL_32 equ 0x23456789
check_gp_counters_write_width:
        xor r12d, r12d
.a:     cmp r12, [rel pmu_nr_gp]
        jae .b0
        mov ecx, MSR_IA32_PERFCTR0
        add ecx, r12d
        mov eax, VAL_32
        xor edx, edx
        wrmsr
        mov ecx, MSR_IA32_PMC0
        add ecx, r12d
        rdmsr
        shl rdx, 32
        or rax, rdx
        mov rdx, VAL_32
        lea rsi, [rel name_w32]
        call check_eq
        mov ecx, MSR_IA32_PERFCTR0
        add ecx, r12d
        mov rax, VAL_64
        mov rdx, rax
        shr rdx, 32
        wrmsr
        rdmsr
        shl rdx, 32
        or rax, rdx
        mov rdx, VAL_32
        lea rsi, [rel name_w64]
        call check_eq
        inc r12d
        jmp .a
.b0:    xor r12d, r12d
.b:     cmp r12, [rel pmu_nr_gp]
        jae .done
        mov rcx, [rel pmu_gp_width]
        mov rax, 1
        shl rax, cl
        dec rax
        mov rbx, VAL_64
        and rax, rbx                    ; val_max_width
        mov r9, rax
        mov rdx, rax
        shr rdx, 32
        mov ecx, MSR_IA32_PMC0
        add ecx, r12d
        wrmsr
        mov ecx, MSR_IA32_PERFCTR0
        add ecx, r12d
        rdmsr
        shl rdx, 32
        or rax, rdx
        mov rdx, r9
        lea rsi, [rel name_wmax]
        call check_eq
        mov ecx, MSR_IA32_PMC0
        add ecx, r12d
        mov rax, VAL_64
        mov rdx, rax
        shr rdx, 32
        SAFE_WRMSR
        mov eax, ebx
        mov rdx, 13
        lea rsi, [rel name_wgp]
        call check_eq
        inc r12d
        jmp .b
.done:  ret
name_w32:  db "legacy write 32 bits reads the same through MSR_IA32_PMC", 0
name_w64:  db "legacy write keeps only bits 31:0", 0
name_wmax: db "full-width write up to the counter width", 0
name_wgp:  db "writing unsupported width to MSR_IA32_PMC raises #GP", 0
