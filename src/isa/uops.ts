/**
 * Retired µops per instruction (fused domain: what one instruction takes of the topdown retire slots,
 * TOPDOWN.SLOTS' "retiring" share — SDM Vol. 3 "Topdown Microarchitecture Analysis", and the Intel 64 and
 * IA-32 Architectures Optimization Reference Manual's top-down chapter). The counts follow the fused-domain
 * µop columns of Agner Fog's instruction tables and uops.info for recent Intel P-cores (Skylake server to
 * Golden Cove), register forms, simplified to this model's operation rows:
 *
 * - one µop: moves, ALU, shifts by an immediate, compares, tests, SETcc/CMOVcc, LEA, INC/DEC, jumps,
 *   PUSH/POP of a register, NOP, flag operations, BT, BSWAP, IMUL r,r/m;
 * - two: CALL (a push and a jump), RET (a load and a jump), one-operand MUL/IMUL (two result halves),
 *   JRCXZ, LEAVE, LFENCE;
 * - more: XCHG r,r 3, PUSHF 3, XADD 3, DIV/IDIV 4 (the divider of Ice Lake and later), CLFLUSH 4, CMPXCHG 5;
 * - microcoded (MSROM) instructions — system, serialising, segment, far transfers, port I/O, TSX, RCL/RCR,
 *   CMPXCHG8B/16B, ENTER, POPF — one µop per base cycle of the row (the model's own rule: the tables list
 *   ranges, not one figure, for most of them).
 *
 * Limits, on purpose: read-modify-write memory forms count as their register form (2 on silicon for an
 * ALU op with a memory destination); macro-fusion (CMP+Jcc as one slot) is not modelled, so every retired
 * instruction takes at least one slot and topdown retiring ≥ instructions retired; LOOP (7 in the tables)
 * is capped at what its one base cycle can issue on the narrowest preset. Every row's µops fit its base
 * cycles × MIN_SLOTS_PER_CYCLE, and each further REP iteration adds one cycle and one µop, so the retiring
 * slots never exceed TOPDOWN.SLOTS (cycles × slots per cycle) — test/pmu/topdown.test.ts checks both.
 * An instruction KVM emulates retires no µop: only the counters of instructions/branches retired see it
 * (kvm_pmu_instruction_retired; docs/vpmu.md "Topdown").
 */
import { Op } from "./ops.js";
import { SEMANTICS } from "./semantics.js";

/** The narrowest topdown issue width of the presets (Skylake server: 4 slots per cycle). */
export const MIN_SLOTS_PER_CYCLE = 4;

/** Fused-domain µops of the non-microcoded rows that are not one µop. */
const UOPS_BY_OP: Partial<Record<Op, number>> = {
  [Op.Call]: 2,
  [Op.CallInd]: 2,
  [Op.Ret]: 2,
  [Op.Mul1]: 2,
  [Op.Imul1]: 2,
  [Op.Jrcxz]: 2,
  [Op.Xchg]: 3,
  [Op.Pushf]: 3,
  [Op.Div]: 4,
  [Op.Idiv]: 4,
  [Op.Xadd]: 3,
  [Op.Cmpxchg]: 5,
  [Op.Loop]: 4,
  [Op.Leave]: 2,
  [Op.Lfence]: 2,
  [Op.Clflush]: 4,
};

/** Rows the tables list as microcoded: one µop per base cycle. */
const MICROCODED: ReadonlySet<Op> = new Set<Op>([
  Op.Popf,
  Op.Pause,
  Op.Hlt,
  Op.Cli,
  Op.Sti,
  Op.Cpuid,
  Op.Rdmsr,
  Op.Wrmsr,
  Op.Rdpmc,
  Op.Rdtsc,
  Op.Rdtscp,
  Op.Mfence,
  Op.In,
  Op.Out,
  Op.Int3,
  Op.Lidt,
  Op.Iretq,
  Op.MovFromCr,
  Op.MovToCr,
  Op.Vmcall,
  Op.Invlpg,
  Op.Swapgs,
  Op.Cmpxchg8b,
  Op.Enter,
  Op.StrIo,
  Op.Wbinvd,
  Op.Xbegin,
  Op.Xend,
  Op.MovToSeg,
  Op.LoadDtr,
  Op.StoreDtr,
  Op.StoreSystemSel,
  Op.LoadSystemSel,
  Op.FarJmpCall,
  Op.RetFar,
  Op.PushSeg,
  Op.PopSeg,
  Op.Rcx,
]);

/** µops of one retirement of `op` (0 for the rows that never retire: #UD). */
export function uopsOf(op: Op): number {
  const row = SEMANTICS[op];
  if (row.cycles === 0) return 0;
  if (MICROCODED.has(op)) return row.cycles;
  return UOPS_BY_OP[op] ?? 1;
}

/** Retired µops by operation, flat for the hot loop (the interpreter and the block compiler add it). */
export const UOPS: Uint16Array = Uint16Array.from(SEMANTICS, (r) => uopsOf(r.op as Op));
