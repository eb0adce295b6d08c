/**
 * struct kvm_pmc as the vPMU keeps it, with its counter writes counted (SavedWrites) so the mediated load
 * can tell whether any saved value changed since it last read them. Facts: model.md §6.4, §12.1.
 */
import { EventSource } from "../arch/arch-events.js";
import { INTEL_PMC_IDX_FIXED } from "../arch/perf-event.js";

/** Bits 31:0 and 63:32 of a 64-bit register value as Numbers (the halves RDMSR puts in EAX and EDX). */
export function lo32(v: bigint): number {
  return Number(v & 0xffffffffn);
}
export function hi32(v: bigint): number {
  return Number((v >> 32n) & 0xffffffffn);
}

/** One counter (struct kvm_pmc). Values are numbers: widths ≤ 48 bits are exact in a double. */
export interface Pmc {
  readonly type: "gp" | "fixed";
  /** Index within its type, and its bit in GLOBAL_CTRL/STATUS (n, or 32+i). */
  readonly index: number;
  readonly idx: number;
  counter: number;
  /** GP: the accepted guest selector; fixed: 0 (its control lives in FIXED_CTR_CTRL). */
  eventsel: bigint;
  /** `eventsel`'s halves as Numbers (bits 31:0, 63:32), kept with every store. */
  readonly eventselLo: number;
  readonly eventselHi: number;
  /** The copy KVM programs (mediated: EN cleared when the filter denies it). */
  eventselHw: bigint;
  /** `eventselHw`'s halves as Numbers, kept with every store (the mediated switch reads them: no BigInt and no
   *  conversion cache per exit). */
  readonly eventselHwLo: number;
  readonly eventselHwHi: number;
  /** What the counter counts right now (derived at recalc). */
  source: EventSource;
  /** Counts at the current CPL (R-CNT-1/2): enabled, globally enabled, allowed, CPL matches. */
  active: boolean;
  /** Locally+globally enabled and allowed, ignoring CPL; with the CPL bits below. */
  enabledAnyCpl: boolean;
  countOs: boolean;
  countUsr: boolean;
  /** PMI on overflow (INT bit / fixed PMI bit). */
  intr: boolean;
  /** Matches INSTRUCTIONS_RETIRED for KVM's emulated-instruction count (R-CNT-4). */
  countsInstructions: boolean;
  /** Matches BRANCH_INSTRUCTIONS_RETIRED (0xC4/0x00) for KVM's emulated-branch count (kvm_pmu_branch_retired). */
  countsBranches: boolean;
  /** Total of `source` at the last fold. */
  last: number;
}

/** Counts writes of the vCPU's saved PMU values (every counter, GLOBAL_STATUS, PERF_METRICS): a reader that
 *  saw the same count saw the same values (the mediated load, src/pmu/mediated.ts). */
export interface SavedWrites {
  n: number;
}

/** struct kvm_pmc: every write of `counter` (folding, emulated counting, WRMSR, put, tests) is counted. */
export class KvmPmc implements Pmc {
  readonly idx: number;
  private value = 0;
  private sel = 0n;
  /** The selector's halves as Numbers, kept with every store (see KvmPmu.fixedCtrCtrlLo). */
  eventselLo = 0;
  eventselHi = 0;
  get eventsel(): bigint {
    return this.sel;
  }
  set eventsel(v: bigint) {
    this.sel = v;
    this.eventselLo = lo32(v);
    this.eventselHi = hi32(v);
  }
  private selHw = 0n;
  eventselHwLo = 0;
  eventselHwHi = 0;
  get eventselHw(): bigint {
    return this.selHw;
  }
  set eventselHw(v: bigint) {
    this.selHw = v;
    this.eventselHwLo = lo32(v);
    this.eventselHwHi = hi32(v);
  }
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
