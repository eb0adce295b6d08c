/**
 * Local APIC facts: the default base address and the LVT entry layout (SDM Vol. 3 "Local Vector Table";
 * arch/x86/include/asm/apicdef.h).
 */

/** APIC_DEFAULT_PHYS_BASE. */
export const APIC_DEFAULT_BASE = 0xfee00000n;
/** APIC_LVT_MASKED, delivery mode 10:8, vector 7:0, delivery status 12 (SDM LVT layout). */
export const APIC_LVT_MASKED = 0x10000;
export const APIC_MODE_MASK = 0x700;
export const APIC_MODE_FIXED = 0x000;
export const APIC_MODE_NMI = 0x400;
export const APIC_VECTOR_MASK = 0xff;
export const APIC_SEND_PENDING = 0x1000;
export const APIC_LVT_LEVEL_TRIGGER = 0x8000;
export const APIC_LVT_REMOTE_IRR = 0x4000;
export const APIC_INPUT_POLARITY = 0x2000;
/** The xAPIC page is 4 KiB; registers sit at 16-byte-aligned offsets below 0x400 (LAPIC_MMIO_LENGTH = 1 << 12). */
export const LAPIC_MMIO_LENGTH = 0x1000;

/** Register offsets in the xAPIC page (apicdef.h APIC_*); the x2APIC MSR of offset o is 0x800 + (o >> 4). */
export const APIC_ID = 0x20;
export const APIC_LVR = 0x30;
export const APIC_TASKPRI = 0x80;
export const APIC_ARBPRI = 0x90;
export const APIC_PROCPRI = 0xa0;
export const APIC_EOI = 0xb0;
export const APIC_LDR = 0xd0;
export const APIC_DFR = 0xe0;
export const APIC_SPIV = 0xf0;
export const APIC_ISR = 0x100;
export const APIC_TMR = 0x180;
export const APIC_IRR = 0x200;
export const APIC_ESR = 0x280;
export const APIC_LVTCMCI = 0x2f0;
export const APIC_ICR = 0x300;
export const APIC_ICR2 = 0x310;
export const APIC_LVTT = 0x320;
export const APIC_LVTTHMR = 0x330;
export const APIC_LVTPC = 0x340;
export const APIC_LVT0 = 0x350;
export const APIC_LVT1 = 0x360;
export const APIC_LVTERR = 0x370;
export const APIC_TMICT = 0x380;
export const APIC_TMCCT = 0x390;
export const APIC_TDCR = 0x3e0;
export const APIC_SELF_IPI = 0x3f0;
/** x2APIC MSR range (APIC_BASE_MSR = 0x800; 0x800..0x8ff) and the TSC-deadline MSR. */
export const APIC_BASE_MSR = 0x800;
export const MSR_IA32_TSC_DEADLINE = 0x6e0;

/** SVR bit 8: APIC software enable (APIC_SPIV_APIC_ENABLED). */
export const APIC_SPIV_APIC_ENABLED = 0x100;

/** ICR fields (apicdef.h): shorthand 19:18, destination mode 11, level 14, trigger 15, delivery mode 10:8. */
export const APIC_SHORT_MASK = 0xc0000;
export const APIC_DEST_NOSHORT = 0x0;
export const APIC_DEST_SELF = 0x40000;
export const APIC_DEST_ALLINC = 0x80000;
export const APIC_DEST_ALLBUT = 0xc0000;
export const APIC_DEST_LOGICAL = 0x800;
export const APIC_INT_ASSERT = 0x4000;
export const APIC_INT_LEVELTRIG = 0x8000;
export const APIC_DM_FIXED = 0x000;
export const APIC_DM_LOWEST = 0x100;
export const APIC_DM_SMI = 0x200;
export const APIC_DM_REMRD = 0x300;
export const APIC_DM_NMI = 0x400;
export const APIC_DM_INIT = 0x500;
export const APIC_DM_STARTUP = 0x600;
export const APIC_DM_EXTINT = 0x700;
/** X2APIC_ICR_RESERVED_BITS (lapic.c): bits 31:20, 17:16 and 13 of the 64-bit x2APIC ICR. */
export const X2APIC_ICR_RESERVED_LO = 0xfff30000 | 0x2000;
/** Broadcast destinations: 0xFF (xAPIC) and 0xFFFFFFFF (x2APIC). */
export const APIC_BROADCAST = 0xff;
export const X2APIC_BROADCAST = 0xffffffff;

/** LVT timer modes, bits 18:17 (APIC_LVT_TIMER_ONESHOT / _PERIODIC / _TSCDEADLINE). */
export const APIC_LVT_TIMER_MASK = 0x60000;
export const APIC_LVT_TIMER_ONESHOT = 0x00000;
export const APIC_LVT_TIMER_PERIODIC = 0x20000;
export const APIC_LVT_TIMER_TSCDEADLINE = 0x40000;
/** CPUID.1:ECX bit 24: TSC-deadline timer. */
export const CPUID_1_ECX_TSC_DEADLINE_TIMER = 1 << 24;
