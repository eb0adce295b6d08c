/**
 * The shape of a semantic row (one per operation kind; semantics.ts gathers them from the families in
 * this folder) and the vocabulary the rows use: flag sets, privilege rules, the mnemonic map.
 */
import type { Cpu } from "../cpu.js";
import type { Insn } from "../insn.js";
import type { Emit } from "../jit-emit.js";
import { CC_NAMES, type OpcodeRow } from "../opcodes.js";
import type { Op } from "../ops.js";

/** Executes `ins` at RIP: sets RIP, returns true if it retired natively (the run loop counts it).
 *  A fault throws (cpu.fault). */
export type Exec = (c: Cpu, ins: Insn) => boolean;

/** A set of RFLAGS status bits, fixed or depending on the decoded instruction. */
export type FlagSet = number | ((ins: Insn) => number);

/** The faults a row raises before anything else — and before any VM exit (SDM Vol. 3 "Relative priority
 *  of faults and VM exits"). */
export const Priv = {
  None: 0,
  /** #GP(0) if CPL > 0. */
  Cpl0: 1,
  /** #GP(0) if CPL > IOPL (no TSS I/O bitmap). */
  Iopl: 2,
  /** #GP(0) if CPL > 0 and CR4.PCE = 0. */
  Pce: 3,
  /** #GP(0) if CPL > 0 and CR4.TSD = 1. */
  Tsd: 4,
} as const;
export type Priv = (typeof Priv)[keyof typeof Priv];

export interface SemRow {
  readonly op: Op;
  /** Canonical opcode-row mnemonics (opcodes.ts) that decode to this operation → `insn.sub` (KEEP:
   *  the decoder's ModRM /digit stays). */
  readonly mnemonics: Readonly<Record<string, number>>;
  /** Which opcode rows of those mnemonics are this operation (default: all). */
  readonly form?: (row: OpcodeRow) => boolean;
  /** Base cycles of one retirement (uarch.ts model: before memory and mispredict penalties). */
  readonly cycles: number;
  /** Status flags the operation reads. */
  readonly reads: FlagSet;
  /** Status flags it defines (SDM "Flags Affected"). */
  readonly writes: FlagSet;
  /** Status flags the SDM leaves undefined, and what this model gives them (flags.ts). */
  readonly undefined?: FlagSet;
  readonly undefinedValue?: string;
  /** Retires as a branch (counts in events.branches; ends a compiled block). */
  readonly branch?: true;
  /** Asks the platform (platform.ts), which sees RFLAGS and the event totals exactly. */
  readonly platform?: true;
  /** The privilege fault checked first. */
  readonly priv?: Priv;
  /** Can fault other than through its memory operand or `priv`: #DE, the stack, a branch target, #UD. */
  readonly faults?: true;
  readonly exec: Exec;
  /** The block compiler's form (jit-emit.ts); absent: blocks end before it and the interpreter runs it. */
  readonly compile?: Emit;
  /** Bytes its memory operand accesses (default: the operation size; 0: none, as LEA's address). */
  readonly memSize?: (ins: Insn) => number;
}

/** `insn.sub` stays the ModRM /digit the decoder put there. */
export const KEEP = -1;
export const ccNames = (prefix: string): Record<string, number> =>
  Object.fromEntries(CC_NAMES.map((n) => [prefix + n, KEEP]));
