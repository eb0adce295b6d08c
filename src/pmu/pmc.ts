/**
 * struct kvm_pmc as the vPMU keeps it, with its counter writes counted (SavedWrites) so the mediated load
 * can tell whether any saved value changed since it last read them. Facts: model.md §6.4, §12.1.
 */
import { EventSource } from "../arch/arch-events.js";
import { INTEL_PMC_IDX_FIXED } from "../arch/perf-event.js";
import type { Pmc } from "./pmu.js";

/** Counts writes of the vCPU's saved PMU values (every counter, GLOBAL_STATUS, PERF_METRICS): a reader that
 *  saw the same count saw the same values (the mediated load, src/pmu/mediated.ts). */
export interface SavedWrites {
  n: number;
}

/** struct kvm_pmc: every write of `counter` (folding, emulated counting, WRMSR, put, tests) is counted. */
export class KvmPmc implements Pmc {
  readonly idx: number;
  private value = 0;
  eventsel = 0n;
  eventselHw = 0n;
  source = EventSource.None;
  active = false;
  enabledAnyCpl = false;
  countOs = false;
  countUsr = false;
  intr = false;
  countsInstructions = false;
  countsBranches = false;
  last = 0;

  constructor(
    readonly type: "gp" | "fixed",
    readonly index: number,
    private readonly writes: SavedWrites,
  ) {
    this.idx = type === "gp" ? index : INTEL_PMC_IDX_FIXED + index;
  }

  get counter(): number {
    return this.value;
  }
  set counter(v: number) {
    this.value = v;
    this.writes.n++;
  }
}
