/**
 * The model-specific last branch record stack (SDM Vol. 3 "Last Branch Recording Facilities" for processors
 * based on Skylake microarchitecture and later: LBR_FROM/LBR_TO/LBR_INFO triples, a TOS pointer, the LBR_SELECT
 * filter, call-stack mode). The CPU records into it while `on` is set (IA32_DEBUGCTL.LBR in effect — the
 * platform decides that); with `on` clear a retired branch costs one boolean test and the compiled blocks run
 * as usual. Recorded: the taken branches the CPU retires as branch instructions (events.branches, sem/branch.ts):
 * CALL, RET, JMP (direct and indirect), taken Jcc/LOOPcc/JRCXZ, and far JMP/CALL, RETF and IRETQ as far branches. Not recorded: INT3
 * and other deliveries through the IDT (exceptions, interrupts), and instructions the host emulates (KVM's
 * emulator does not write the guest's LBRs). LBR_INFO holds only the MISPRED bit (63) from the branch
 * predictor (uarch.ts); its cycle count, IN_TX and ABORT bits read 0.
 */

/** LBR_SELECT bits (SDM "Filtering of Last Branch Records"; perf lbr.c LBR_*_BIT): a set bit suppresses. */
export const LBR_SEL_CPL_EQ_0 = 1 << 0;
export const LBR_SEL_CPL_NEQ_0 = 1 << 1;
export const LBR_SEL_JCC = 1 << 2;
export const LBR_SEL_NEAR_REL_CALL = 1 << 3;
export const LBR_SEL_NEAR_IND_CALL = 1 << 4;
export const LBR_SEL_NEAR_RET = 1 << 5;
export const LBR_SEL_NEAR_IND_JMP = 1 << 6;
export const LBR_SEL_NEAR_REL_JMP = 1 << 7;
export const LBR_SEL_FAR_BRANCH = 1 << 8;
/** Call-stack mode (Haswell and later): a near return pops the entry of its call instead of being recorded. */
export const LBR_SEL_EN_CALLSTACK = 1 << 9;
/** The bits LBR_SELECT implements (perf LBR_SEL_MASK). */
export const LBR_SEL_MASK = 0x3ff;
/** LBR_INFO bit 63: the branch was mispredicted (msr-index.h LBR_INFO_MISPRED); held as a flag per entry. */
export const LBR_INFO_MISPRED = 1n << 63n;

/** The most entries any modelled part has (Skylake and Ice Lake server parts: 32). */
const MAX_DEPTH = 32;

export class LastBranchRecords {
  /** Recording is in effect (DEBUGCTL.LBR of the running guest, as the platform sets it). */
  on = false;
  /** Entries the part has (0: no LBR stack); a power of two. */
  depth = 0;
  /** LBR_SELECT bits 9:0. */
  select = 0;
  /** Index of the most recent entry (MSR_LBR_TOS). */
  tos = 0;
  /** Linear addresses as the CPU holds RIP (signed doubles for the upper half). */
  readonly from = new Float64Array(MAX_DEPTH);
  readonly to = new Float64Array(MAX_DEPTH);
  /** 1 where LBR_INFO.MISPRED is set. */
  readonly mispred = new Uint8Array(MAX_DEPTH);

  /** A part with `depth` entries, all cleared (the LBR stack after a reset). */
  configure(depth: number): void {
    this.depth = Math.min(depth, MAX_DEPTH);
    this.clear();
  }

  clear(): void {
    this.select = 0;
    this.tos = 0;
    this.from.fill(0);
    this.to.fill(0);
    this.mispred.fill(0);
  }

  /**
   * A taken branch of type `type` (an LBR_SEL_* bit) from `from` to `to` at privilege level `cpl` retired.
   * Call-stack mode: a near return pops (TOS − 1, the entry is left as it was) instead of recording.
   */
  record(type: number, from: number, to: number, mispredicted: boolean, cpl: number): void {
    const sel = this.select;
    if ((sel & type) !== 0 || (sel & (cpl === 0 ? LBR_SEL_CPL_EQ_0 : LBR_SEL_CPL_NEQ_0)) !== 0) return;
    const mask = this.depth - 1;
    if (type === LBR_SEL_NEAR_RET && (sel & LBR_SEL_EN_CALLSTACK) !== 0) {
      this.tos = (this.tos - 1) & mask;
      return;
    }
    const t = (this.tos + 1) & mask;
    this.tos = t;
    this.from[t] = from;
    this.to[t] = to;
    this.mispred[t] = mispredicted ? 1 : 0;
  }
}
