/*
 * apic.c — the local APIC's mode. A Multiboot kernel starts with the APIC as RESET leaves it: enabled, in
 * xAPIC mode at 0xFEE00000 (docs/apic.md). The runtime uses the x2APIC MSRs (pmu.h), so start-up switches
 * to x2APIC mode when CPUID.1:ECX.x2APIC says it exists, as kvm-unit-tests' enable_x2apic() does: xAPIC ->
 * x2APIC is a legal move of IA32_APIC_BASE (SDM Vol. 3 "x2APIC State Transitions"). Without it (vpmu's bare
 * platform has no APIC) nothing changes, and a program that uses the APIC fails at its first x2APIC MSR.
 */
#include "asm.h"
#include "vpmu.h"
#include "x86.h"

bool enable_x2apic(void)
{
        if (!(cpuid(1).c & CPUID_1_ECX_X2APIC))
                return false;
        wrmsr(MSR_IA32_APICBASE, rdmsr(MSR_IA32_APICBASE) | APIC_BASE_EN | APIC_BASE_EXTD);
        return true;
}
