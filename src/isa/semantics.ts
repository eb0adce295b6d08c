/**
 * Semantics as data: one row per operation kind (each family's rows sit with its semantic functions in
 * sem/*.ts; sem/row.ts says what a row holds), gathered here and read by the decoder (mnemonic → operation), the
 * interpreter (exec), the block compiler (flags read and written, branch, platform call, privilege
 * rule, and its specialisation `compile`), the cycle model and the docs. Facts: SDM Vol. 2 per-instruction
 * "Flags Affected" and "Protected Mode Exceptions"; the values given to "undefined" flags are this
 * model's (flags.ts lists them once). Cycles are the model's (uarch.ts, docs/cpu.md).
 */
import type { Insn } from "./insn.js";
import type { OpcodeRow } from "./opcodes.js";
import { Op } from "./ops.js";
import * as arith from "./sem/arith.js";
import * as atomic from "./sem/atomic.js";
import * as bits from "./sem/bits.js";
import * as branch from "./sem/branch.js";
import * as flagops from "./sem/flagops.js";
import * as move from "./sem/move.js";
import * as segment from "./sem/segment.js";
import { type Exec, type FlagSet, KEEP, type SemRow } from "./sem/row.js";
import * as stack from "./sem/stack.js";
import * as strings from "./sem/string.js";
import * as system from "./sem/system.js";
import * as tsx from "./sem/tsx.js";

export type { Exec, FlagSet, SemRow } from "./sem/row.js";
export { Priv } from "./sem/row.js";

/** Every operation, indexed by Op. */
export const SEMANTICS: readonly SemRow[] = [
  ...arith.ROWS,
  ...move.ROWS,
  ...stack.ROWS,
  ...branch.ROWS,
  ...system.ROWS,
  ...bits.ROWS,
  ...atomic.ROWS,
  ...flagops.ROWS,
  ...strings.ROWS,
  ...tsx.ROWS,
  ...segment.ROWS,
].sort((a, b) => a.op - b.op);

for (let i = 0; i < SEMANTICS.length; i++)
  if (SEMANTICS[i].op !== i) throw new Error(`semantics.ts: no row for operation ${i}`);

/** The interpreter's dispatch table (SEMANTICS[op].exec as a flat array). */
export const EXEC: readonly Exec[] = SEMANTICS.map((r) => r.exec);

/** Base cycles by operation (uarch.ts model), flat for the hot loop. */
export const CYCLES: Uint16Array = Uint16Array.from(SEMANTICS, (r) => r.cycles);

/** Base cycles of each retired instruction by operation (library export). */
export const BASE_CYCLES: Readonly<Record<number, number>> = Object.fromEntries(SEMANTICS.map((r) => [r.op, r.cycles]));

/** The value of a FlagSet for one instruction. */
export function flagsOf(f: FlagSet | undefined, ins: Insn): number {
  return f === undefined ? 0 : typeof f === "number" ? f : f(ins);
}

/** Status flags an instruction sets (defined ones, and the undefined ones this model writes). */
export function flagsWritten(ins: Insn): number {
  const row = SEMANTICS[ins.op];
  const undef = row.undefinedValue === "unchanged" ? 0 : flagsOf(row.undefined, ins);
  return flagsOf(row.writes, ins) | undef;
}

/** Status flags an instruction reads. */
export function flagsRead(ins: Insn): number {
  return flagsOf(SEMANTICS[ins.op].reads, ins);
}

/** Canonical mnemonic → the rows that can decode it (usually one). */
const BY_MNEMONIC: ReadonlyMap<string, readonly SemRow[]> = (() => {
  const m = new Map<string, SemRow[]>();
  for (const r of SEMANTICS)
    for (const name of Object.keys(r.mnemonics)) {
      let list = m.get(name);
      if (!list) m.set(name, (list = []));
      list.push(r);
    }
  // A row with a `form` is the more specific one (push fs before the generic push): try those first.
  for (const list of m.values()) list.sort((a, b) => (a.form ? 0 : 1) - (b.form ? 0 : 1));
  return m;
})();

/** The operation for a decoded opcode row (sets insn.sub where the operation needs it). */
export function opFor(row: OpcodeRow, insn: Insn): Op {
  const list = BY_MNEMONIC.get(row.mnemonic);
  if (list)
    for (const r of list)
      if (r.form === undefined || r.form(row)) {
        const sub = r.mnemonics[row.mnemonic];
        if (sub !== KEEP) insn.sub = sub;
        return r.op;
      }
  return Op.Invalid;
}

/** Is `mnemonic` (canonical) executed by some operation? */
export function hasSemantics(mnemonic: string): boolean {
  return BY_MNEMONIC.has(mnemonic);
}
