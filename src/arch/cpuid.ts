/**
 * CPUID feature bits the model reads or reports, in the SDM's leaf/register/bit terms (SDM Vol. 2A CPUID;
 * arch/x86/include/asm/cpufeatures.h for the kernel's names of the same bits).
 */

/** CPUID.1:ECX bit 15 PDCM, bit 21 x2APIC, bit 31 hypervisor; CPUID.1:EDX bits (SDM). */
export const CPUID_1_ECX_DTES64 = 1 << 2;
export const CPUID_1_ECX_PDCM = 1 << 15;
export const CPUID_1_ECX_X2APIC = 1 << 21;
export const CPUID_1_ECX_HYPERVISOR = 1 << 31;
export const CPUID_1_EDX_TSC = 1 << 4;
export const CPUID_1_EDX_MSR = 1 << 5;
export const CPUID_1_EDX_APIC = 1 << 9;
export const CPUID_1_EDX_CLFLUSH = 1 << 19;
export const CPUID_1_EDX_DS = 1 << 21;
/** CPUID.1:EBX[15:8] CLFLUSH line size in 8-byte units: 8 = 64-byte lines (every modelled part). */
export const CPUID_1_EBX_CLFLUSH_SIZE_64 = 8;
export const CPUID_7_EBX_HLE = 1 << 4;
export const CPUID_7_EBX_RTM = 1 << 11;
/** CPUID.7.0:EDX[26] SPEC_CTRL (IBRS + IBPB: IA32_PRED_CMD exists); every preset's host has it. */
export const CPUID_7_EDX_SPEC_CTRL = 1 << 26;
/** CPUID 0x80000001 ECX: LAHF/SAHF in 64-bit mode (LAHF_LM), LZCNT (the kernel's ABM). */
export const CPUID_80000001_ECX_LAHF_LM = 1 << 0;
export const CPUID_80000001_ECX_LZCNT = 1 << 5;
/** CPUID 0x80000001 EDX: SYSCALL/SYSRET, execute-disable (EFER.NXE), 1 GiB pages, RDTSCP, long mode (EFER.LME). */
export const CPUID_80000001_EDX_SYSCALL = 1 << 11;
export const CPUID_80000001_EDX_NX = 1 << 20;
export const CPUID_80000001_EDX_PAGE1GB = 1 << 26;
export const CPUID_80000001_EDX_RDTSCP = 1 << 27;
export const CPUID_80000001_EDX_LM = 1 << 29;
/** CPUID 0x80000008 EAX[15:8]: linear-address width of 4-level paging. */
export const CPUID_80000008_VIRT_BITS = 48;
/** CPUID.0AH:EDX[15] AnyThread deprecation — KVM sets it whenever it reports a PMU. */
export const CPUID_0A_EDX_ANYTHREAD_DEPRECATED = 1 << 15;
