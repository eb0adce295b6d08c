/**
 * Control registers: MOV from/to CR0, CR2, CR3, CR4, CR8, the bits this model implements and the writes
 * it refuses. Facts: SDM Vol. 2 "MOV—Move to/from Control Registers", Vol. 3 §2.5 (CR0/CR4 bits).
 * Leaving long mode (clearing PG/PE, or CR4.PAE) is not modelled and is refused with #GP(0)
 * (docs/cpu.md).
 */
import type { Cpu } from "./cpu.js";
import type { Insn } from "./insn.js";
import { PlatformAction } from "./platform.js";
import { Vec } from "./state.js";

export const CR0_PE = 0x1;
export const CR0_PG = 0x80000000;
export const CR4_TSD = 0x4;
export const CR4_PAE = 0x20;
export const CR4_PCE = 0x100;
/** CR4 bits this model implements; any other set bit is reserved → #GP(0) (SDM MOV CR). */
const CR4_KNOWN =
  0x1 |
  0x2 |
  CR4_TSD |
  0x8 |
  0x10 |
  CR4_PAE |
  0x40 |
  0x80 |
  CR4_PCE |
  0x200 |
  0x400 |
  0x800 |
  0x10000 |
  0x20000 |
  0x40000 |
  0x100000 |
  0x200000 |
  0x400000 |
  0x800000 |
  0x1000000;

/** MOV r64, CRn: CPL 0 only; CR1, CR5–7, CR9–15 do not exist (#UD). */
export function movFromCr(c: Cpu, ins: Insn): boolean {
  if (c.cpl > 0) c.fault(Vec.GP, 0);
  let lo: number,
    hi = 0;
  switch (ins.r1) {
    case 0:
      lo = c.cr0;
      break;
    case 2:
      lo = c.cr2Lo;
      hi = c.cr2Hi;
      break;
    case 3:
      lo = c.cr3Lo;
      hi = c.cr3Hi;
      break;
    case 4:
      lo = c.cr4;
      break;
    case 8:
      lo = c.cr8;
      break;
    default:
      return c.fault(Vec.UD, -1);
  }
  c.sr(ins.r0, 8, lo >>> 0, hi);
  c.rip += ins.len;
  return true;
}

/** MOV CRn, r64: the platform is asked first (a VM exit outranks the reserved-bit checks), then the
 *  write is applied with the SDM's reserved-bit #GP(0). */
export function movToCr(c: Cpu, ins: Insn): boolean {
  if (c.cpl > 0) c.fault(Vec.GP, 0);
  const cr = ins.r0;
  if (cr !== 0 && cr !== 2 && cr !== 3 && cr !== 4 && cr !== 8) c.fault(Vec.UD, -1);
  const lo = c.regs[2 * ins.r1],
    hi = c.regs[2 * ins.r1 + 1];
  const a = c.platform.movToCr(c, cr, lo, hi, ins.len);
  if (a !== PlatformAction.Retire) return c.act(a, ins);
  switch (cr) {
    case 0:
      if (hi !== 0 || (lo & (CR0_PG | CR0_PE)) !== (CR0_PG | CR0_PE)) c.fault(Vec.GP, 0);
      c.cr0 = lo >>> 0;
      break;
    case 2:
      c.cr2Lo = lo;
      c.cr2Hi = hi;
      break;
    case 3:
      c.cr3Lo = lo;
      c.cr3Hi = hi;
      break;
    case 4:
      if (hi !== 0 || (lo & ~CR4_KNOWN) !== 0 || !(lo & CR4_PAE)) c.fault(Vec.GP, 0);
      c.cr4 = lo >>> 0;
      break;
    case 8:
      if (hi !== 0 || lo > 15) c.fault(Vec.GP, 0);
      c.cr8 = lo;
      break;
  }
  c.rip += ins.len;
  return true;
}
