/**
 * Semantic functions of the instructions that set RFLAGS bits directly (SDM Vol. 2 CLC, STC, CMC, CLD,
 * STD, LAHF, SAHF). Each returns true: the instruction retired (RIP is advanced).
 */
import type { Cpu } from "../cpu.js";
import { AH, type Insn } from "../insn.js";
import { AF, CF, DF, PF, SF, ZF } from "../flags.js";
import * as emit from "../jit-emit.js";
import { Op } from "../ops.js";
import { Vec } from "../state.js";
import type { SemRow } from "./row.js";

/** CLC (sub 0), STC (1), CMC (2), CLD (3), STD (4). */
export function flagOp(c: Cpu, ins: Insn): boolean {
  switch (ins.sub) {
    case 0:
      c.rflags &= ~CF;
      break;
    case 1:
      c.rflags |= CF;
      break;
    case 2:
      c.rflags ^= CF;
      break;
    case 3:
      c.rflags &= ~DF;
      break;
    default:
      c.rflags |= DF;
  }
  c.rip += ins.len;
  return true;
}

/** The flags LAHF/SAHF move: AH bit 7 SF, 6 ZF, 4 AF, 2 PF, 0 CF (bit 1 reads 1, bits 3 and 5 read 0). */
const AH_FLAGS = SF | ZF | AF | PF | CF;

/** SDM LAHF/SAHF: in 64-bit mode, #UD unless CPUID.80000001H:ECX.LAHF-SAHF[bit 0] = 1. */
function lahfSahfAvailable(c: Cpu): void {
  if (!c.cpuidFeatures.lahfSahf) c.fault(Vec.UD, -1);
}

/** LAHF: AH := SF:ZF:0:AF:0:PF:1:CF. */
export function lahf(c: Cpu, ins: Insn): boolean {
  lahfSahfAvailable(c);
  c.sr(AH, 1, (c.rflags & AH_FLAGS) | 2, 0);
  c.rip += ins.len;
  return true;
}

/** SAHF: SF ZF AF PF CF := AH bits 7 6 4 2 0 (OF unchanged). */
export function sahf(c: Cpu, ins: Insn): boolean {
  lahfSahfAvailable(c);
  c.rflags = (c.rflags & ~AH_FLAGS) | ((c.regs[0] >>> 8) & AH_FLAGS);
  c.rip += ins.len;
  return true;
}

/** The rows of this family (semantics.ts). */
export const ROWS: readonly SemRow[] = [
  {
    op: Op.FlagOp,
    mnemonics: { clc: 0, stc: 1, cmc: 2, cld: 3, std: 4 },
    cycles: 1,
    reads: (ins) => (ins.sub === 2 ? CF : 0),
    writes: (ins) => (ins.sub < 3 ? CF : 0),
    exec: flagOp,
    compile: emit.viaExec,
  },
  { op: Op.Lahf, mnemonics: { lahf: 0 }, cycles: 1, reads: AH_FLAGS, writes: 0, faults: true, exec: lahf },
  { op: Op.Sahf, mnemonics: { sahf: 0 }, cycles: 1, reads: 0, writes: AH_FLAGS, faults: true, exec: sahf },
];
