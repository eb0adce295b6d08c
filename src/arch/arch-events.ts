/**
 * The architectural performance events and fixed counters: encoding, CPUID.0AH:EBX bit, and the quantity
 * each counts. Encodings: SDM architectural event table / selftests include/x86/pmu.h (model.md §3.3); fixed
 * counters: model.md §3.4. How a quantity is derived from the guest's event totals: src/host/event-counts.ts.
 */

/** The model quantity an event counts. `None` = an event the model does not produce (counts 0). */
export enum EventSource {
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
    model: "retired µops (isa/uops.ts: at least one per natively retired instruction; none for KVM-emulated ones)",
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

/** Fixed counter i counts FIXED_SOURCES[i] (model.md §3.4: FC0 instructions, FC1 cycles, FC2 ref cycles, FC3 slots). */
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
