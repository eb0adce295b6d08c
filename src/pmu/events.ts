/**
 * What each architectural event counts in vpmu-lab: a table from (event select, umask) to a total
 * derived from the guest CPU's `cpu.events` (src/isa/uarch.ts produces them). Encodings: SDM
 * architectural event table / selftests include/x86/pmu.h (spec §3.3); fixed counters: spec §3.4.
 */
import type { GuestEvents } from "../isa/platform.js";

/** The model quantity an event counts. `None` = an event the model does not produce (counts 0). */
export const enum EventSource {
  None = 0,
  CoreCycles = 1,
  Instructions = 2,
  RefCycles = 3,
  LlcReferences = 4,
  LlcMisses = 5,
  Branches = 6,
  BranchMispredicts = 7,
  TopdownSlots = 8,
  TopdownBackendBound = 9,
  TopdownBadSpeculation = 10,
  TopdownFrontendBound = 11,
  TopdownRetiring = 12,
}

export interface ArchEvent {
  /** CPUID.0AH:EBX bit (1 = not available). */
  readonly bit: number;
  readonly name: string;
  readonly eventSelect: number;
  readonly umask: number;
  readonly source: EventSource;
  /** How the total is derived from GuestEvents (docs/vpmu.md repeats this column). */
  readonly model: string;
}

export const ARCH_EVENTS: readonly ArchEvent[] = [
  {
    bit: 0,
    name: "unhalted core cycles",
    eventSelect: 0x3c,
    umask: 0x00,
    source: EventSource.CoreCycles,
    model: "cycles",
  },
  {
    bit: 1,
    name: "instructions retired",
    eventSelect: 0xc0,
    umask: 0x00,
    source: EventSource.Instructions,
    model: "instructions (+1 per instruction KVM emulates, R-CNT-4)",
  },
  {
    bit: 2,
    name: "unhalted reference cycles",
    eventSelect: 0x3c,
    umask: 0x01,
    source: EventSource.RefCycles,
    model: "floor(cycles × tscKhz / coreKhz)",
  },
  {
    bit: 3,
    name: "LLC references",
    eventSelect: 0x2e,
    umask: 0x4f,
    source: EventSource.LlcReferences,
    model: "llcReferences",
  },
  { bit: 4, name: "LLC misses", eventSelect: 0x2e, umask: 0x41, source: EventSource.LlcMisses, model: "llcMisses" },
  {
    bit: 5,
    name: "branch instructions retired",
    eventSelect: 0xc4,
    umask: 0x00,
    source: EventSource.Branches,
    model: "branches",
  },
  {
    bit: 6,
    name: "branch mispredicts retired",
    eventSelect: 0xc5,
    umask: 0x00,
    source: EventSource.BranchMispredicts,
    model: "branchMispredicts",
  },
  {
    bit: 7,
    name: "topdown slots",
    eventSelect: 0xa4,
    umask: 0x01,
    source: EventSource.TopdownSlots,
    model: "cycles × slotsPerCycle",
  },
  {
    bit: 8,
    name: "topdown backend bound",
    eventSelect: 0xa4,
    umask: 0x02,
    source: EventSource.TopdownBackendBound,
    model: "memStallCycles × slotsPerCycle",
  },
  {
    bit: 9,
    name: "topdown bad speculation",
    eventSelect: 0x73,
    umask: 0x00,
    source: EventSource.TopdownBadSpeculation,
    model: "mispredictCycles × slotsPerCycle",
  },
  {
    bit: 10,
    name: "topdown frontend bound",
    eventSelect: 0x9c,
    umask: 0x01,
    source: EventSource.TopdownFrontendBound,
    model: "slots − retiring − bad speculation − backend bound (never below 0)",
  },
  {
    bit: 11,
    name: "topdown retiring",
    eventSelect: 0xc2,
    umask: 0x02,
    source: EventSource.TopdownRetiring,
    model: "instructions (one slot per retired instruction)",
  },
  {
    bit: 12,
    name: "LBR inserts",
    eventSelect: 0xe4,
    umask: 0x01,
    source: EventSource.None,
    model: "not modelled (no LBRs): 0",
  },
];

/** Fixed counter i counts FIXED_SOURCES[i] (spec §3.4: FC0 instructions, FC1 cycles, FC2 ref cycles, FC3 slots). */
export const FIXED_SOURCES: readonly EventSource[] = [
  EventSource.Instructions,
  EventSource.CoreCycles,
  EventSource.RefCycles,
  EventSource.TopdownSlots,
];

/** Source of a GP selector's event/umask; unknown (model-specific) events count nothing. */
export function sourceOfEvent(eventSelect: number, umask: number): EventSource {
  for (const e of ARCH_EVENTS) if (e.eventSelect === eventSelect && e.umask === umask) return e.source;
  return EventSource.None;
}

/** The clock parameters the derived events need (from the host preset). */
export interface EventClock {
  readonly tscKhz: number;
  readonly coreKhz: number;
  readonly slotsPerCycle: number;
}

/** Cumulative total of `source` for these guest event totals. Exact integers (all inputs are). */
export function eventTotal(source: EventSource, ev: GuestEvents, clk: EventClock): number {
  switch (source) {
    case EventSource.CoreCycles:
      return ev.cycles;
    case EventSource.Instructions:
      return ev.instructions;
    case EventSource.RefCycles:
      return refCycles(ev.cycles, clk);
    case EventSource.LlcReferences:
      return ev.llcReferences;
    case EventSource.LlcMisses:
      return ev.llcMisses;
    case EventSource.Branches:
      return ev.branches;
    case EventSource.BranchMispredicts:
      return ev.branchMispredicts;
    case EventSource.TopdownSlots:
      return ev.cycles * clk.slotsPerCycle;
    case EventSource.TopdownBackendBound:
      return ev.memStallCycles * clk.slotsPerCycle;
    case EventSource.TopdownBadSpeculation:
      return ev.mispredictCycles * clk.slotsPerCycle;
    case EventSource.TopdownRetiring:
      return ev.instructions;
    case EventSource.TopdownFrontendBound: {
      const rest =
        ev.cycles * clk.slotsPerCycle - ev.instructions - (ev.memStallCycles + ev.mispredictCycles) * clk.slotsPerCycle;
      return Math.max(rest, 0);
    }
    default:
      return 0;
  }
}

/** Reference cycles tick at the TSC rate: floor(cycles × tsc / core), computed without rounding error. */
export function refCycles(cycles: number, clk: EventClock): number {
  // Both clocks are multiples of 1 MHz in every preset; reduce so the product stays far below 2^53.
  const g = gcd(clk.tscKhz, clk.coreKhz);
  const num = clk.tscKhz / g;
  const den = clk.coreKhz / g;
  return Math.floor(cycles / den) * num + Math.floor(((cycles % den) * num) / den);
}

function gcd(a: number, b: number): number {
  while (b !== 0) {
    const t = a % b;
    a = b;
    b = t;
  }
  return a;
}

/**
 * Largest increase of `source` one retired instruction can cause, given the CPU's largest per-instruction
 * cycle cost: the run loop divides a counter's distance to overflow by this to get a safe instruction
 * budget (so the wrap can only happen on the last instruction of the budget).
 */
export function maxPerInstruction(source: EventSource, maxCycles: number, clk: EventClock): number {
  switch (source) {
    case EventSource.Instructions:
    case EventSource.Branches:
    case EventSource.BranchMispredicts:
    case EventSource.TopdownRetiring:
    case EventSource.LlcReferences:
    case EventSource.LlcMisses:
      // One instruction retires once and is at most one branch. LLC: each memory operand is one access per
      // line it touches (uarch.ts), and an instruction plus an event delivery touch at most 8 lines.
      return source === EventSource.LlcReferences || source === EventSource.LlcMisses ? 8 : 1;
    case EventSource.RefCycles:
      return Math.ceil((maxCycles * clk.tscKhz) / clk.coreKhz) + 1;
    case EventSource.CoreCycles:
      return maxCycles;
    default:
      return maxCycles * clk.slotsPerCycle;
  }
}
