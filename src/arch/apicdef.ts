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
