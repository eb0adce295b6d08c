/**
 * The local APIC's register-file facts as KVM has them (lapic.c): the version register, which bits each LVT
 * keeps (apic_lvt_mask), which registers a read may name (kvm_lapic_readable_reg_mask), and destination
 * matching for IPIs (kvm_apic_match_physical_addr / kvm_apic_match_logical_addr). Facts: SDM Vol. 3 APIC
 * chapter; the register offsets are src/arch/apicdef.ts.
 */
import {
  APIC_ARBPRI,
  APIC_BROADCAST,
  APIC_DFR,
  APIC_ESR,
  APIC_ICR,
  APIC_ICR2,
  APIC_ID,
  APIC_INPUT_POLARITY,
  APIC_IRR,
  APIC_ISR,
  APIC_LDR,
  APIC_LVR,
  APIC_LVT0,
  APIC_LVT1,
  APIC_LVT_LEVEL_TRIGGER,
  APIC_LVT_MASKED,
  APIC_LVT_REMOTE_IRR,
  APIC_LVTERR,
  APIC_LVTPC,
  APIC_LVTT,
  APIC_LVTTHMR,
  APIC_MODE_MASK,
  APIC_PROCPRI,
  APIC_SEND_PENDING,
  APIC_SPIV,
  APIC_TASKPRI,
  APIC_TDCR,
  APIC_TMCCT,
  APIC_TMICT,
  APIC_TMR,
  APIC_VECTOR_MASK,
  X2APIC_BROADCAST,
} from "../arch/apicdef.js";

/** KVM's APIC version register: version 0x14, max LVT entry 5 (lapic.c kvm_apic_set_version, no CMCI). */
export const KVM_APIC_VERSION = 0x50014;
/** LVT_MASK (lapic.c): mask, delivery status, vector — the bits every LVT keeps. */
export const LVT_MASK = APIC_LVT_MASKED | APIC_SEND_PENDING | APIC_VECTOR_MASK;
/** LINT_MASK (lapic.c): LVT_MASK plus mode, polarity, remote IRR, trigger. */
const LINT_MASK = LVT_MASK | APIC_MODE_MASK | APIC_INPUT_POLARITY | APIC_LVT_REMOTE_IRR | APIC_LVT_LEVEL_TRIGGER;
/** apic_lvt_mask[] by LVT register (the timer's mode bits are added by timerModeMask). */
export const LVT_WRITABLE: Readonly<Record<number, number>> = {
  [APIC_LVTTHMR]: LVT_MASK | APIC_MODE_MASK,
  [APIC_LVTPC]: LVT_MASK | APIC_MODE_MASK,
  [APIC_LVT0]: LINT_MASK,
  [APIC_LVT1]: LINT_MASK,
  [APIC_LVTERR]: LVT_MASK,
};
export const LVTS = [APIC_LVTT, APIC_LVTTHMR, APIC_LVTPC, APIC_LVT0, APIC_LVT1, APIC_LVTERR];

/** kvm_lapic_readable_reg_mask: the registers a read may name (bit = offset >> 4); ARBPRI, DFR and ICR2
 *  only in xAPIC mode. EOI and SELF_IPI are write-only. */
export const READABLE: readonly number[] = [
  APIC_ID,
  APIC_LVR,
  APIC_TASKPRI,
  APIC_PROCPRI,
  APIC_LDR,
  APIC_SPIV,
  ...[0, 1, 2, 3, 4, 5, 6, 7].flatMap((i) => [APIC_ISR + 16 * i, APIC_TMR + 16 * i, APIC_IRR + 16 * i]),
  APIC_ESR,
  APIC_ICR,
  ...LVTS,
  APIC_TMICT,
  APIC_TMCCT,
  APIC_TDCR,
];
export const READABLE_XAPIC_ONLY = [APIC_ARBPRI, APIC_DFR, APIC_ICR2];

/** kvm_apic_match_physical_addr / kvm_apic_match_logical_addr: does `dest` (physical or logical) name the APIC
 *  with this ID, LDR and DFR? */
export function matchDest(
  x2: boolean,
  id: number,
  ldrReg: number,
  dfr: number,
  dest: number,
  logical: boolean,
): boolean {
  if (dest === (x2 ? X2APIC_BROADCAST : APIC_BROADCAST)) return true;
  if (!logical) return dest === id;
  const ldr = ldrReg;
  if (x2) return dest >>> 16 === ldr >>> 16 && (dest & ldr & 0xffff) !== 0;
  const l = ldr >>> 24;
  if (dfr >>> 28 === 0xf) return (l & dest) !== 0; // flat model
  return dest >>> 4 === l >>> 4 && (dest & l & 0xf) !== 0; // cluster model
}
