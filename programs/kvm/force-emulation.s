; force-emulation.s — KVM's forced emulation prefix (module parameter force_emulation_prefix, issue 14
; item 10): `ud2; "kvm"` (0F 0B 6B 76 6D) before an instruction makes handle_ud emulate it (x86.c,
; EMULTYPE_TRAP_UD_FORCED). The emulated instruction is counted by kvm_pmu_instruction_retired, a branch
; also by kvm_pmu_branch_retired; the ud2 itself never retires. GP0 counts instructions, GP1 branches
; (0xC4), both OS, in the legacy vPMU. An instruction the model does not emulate under the prefix (CPUID)
; is a #UD at that instruction, after the prefix.
; vpmu: --force-emulation-prefix
        org 0x100000
        bits 64
%include "../lib/vpmu.inc"

%define KVM_FEP db 0x0f, 0x0b, 0x6b, 0x76, 0x6d

        EXC_SETUP
        mov ecx, MSR_CORE_PERF_GLOBAL_CTRL
        xor eax, eax
        xor edx, edx
        wrmsr
        mov ecx, MSR_P6_EVNTSEL0
        mov eax, EVENT_INSTRUCTIONS | ARCH_PERFMON_EVENTSEL_OS | ARCH_PERFMON_EVENTSEL_ENABLE
        wrmsr
        mov ecx, MSR_P6_EVNTSEL0 + 1
        mov eax, EVENT_BRANCHES | ARCH_PERFMON_EVENTSEL_OS | ARCH_PERFMON_EVENTSEL_ENABLE
        wrmsr
        mov ecx, MSR_CORE_PERF_GLOBAL_CTRL
        mov eax, 3
        wrmsr                           ; 1 (KVM counts the WRMSR it completes, R-CNT-4); 0 branches
        KVM_FEP
        xor ebx, ebx                    ; 2 (emulated)
        KVM_FEP
        add ebx, 5                      ; 3 (emulated)
        KVM_FEP
        jmp short .a                    ; 4, branch 1 (emulated)
        ud2                             ; skipped by the jump
.a:     KVM_FEP
        jnz .b                          ; 5, branch 2 (emulated, taken: ebx = 5)
        ud2
.b:     KVM_FEP
        jz .b                           ; 6, branch 3 (emulated, not taken)
        mov ecx, MSR_CORE_PERF_GLOBAL_CTRL ; 7 (native)
        xor eax, eax                    ; 8
        xor edx, edx                    ; 9
        wrmsr                           ; counters off before KVM counts it
        REPORT_EQ rbx, 5, "emulated instructions change the guest's registers"
        mov ecx, MSR_IA32_PERFCTR0
        rdmsr
        REPORT_EQ rax, 9, "instructions: 6 counted by KVM (1 WRMSR, 5 emulated) + 3 native; the ud2 prefixes never retire"
        mov ecx, MSR_IA32_PERFCTR0 + 1
        rdmsr
        REPORT_EQ rax, 3, "branches: the 3 emulated jumps (taken or not), through kvm_pmu_branch_retired"

        ; CPUID under the prefix is not modelled: #UD at the CPUID, RIP past the prefix (handle_ud moved it).
        lea rax, [rel .after]
        mov [rel exc_fixup], rax
.fep:   KVM_FEP
.cpuid: cpuid
.after: mov rax, [rel exc_vector]
        REPORT_EQ rax, 6, "CPUID under the prefix: #UD (not modelled)"
        mov rax, [rel exc_rip]
        lea rdx, [rel .cpuid]
        REPORT_EQ rax, rdx, "the #UD is at the CPUID, after the prefix"
        REPORT_SUMMARY
