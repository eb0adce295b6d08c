/**
 * How many of each architectural event the silicon counts, derived from the guest CPU's event totals
 * (`cpu.events`, produced by src/isa/uarch.ts): what the physical PMU and the perf-backed vPMU both count.
 * Facts: SDM Vol. 3 ch. 21 (CMASK/INV/EDGE, reference cycles, topdown slots); model.md §3.3–§3.4.
 */
import { EventSource } from "../arch/arch-events.js";
import {
  ARCH_PERFMON_EVENTSEL_CMASK,
  ARCH_PERFMON_EVENTSEL_EDGE,
  ARCH_PERFMON_EVENTSEL_INV,
  HSW_IN_TX,
  HSW_IN_TX_CHECKPOINTED,
} from "../arch/perf-event.js";
import type { GuestEvents } from "../isa/platform.js";

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
      // Retired µops (isa/uops.ts): ≥ instructions natively retired, ≤ slots. KVM's emulated instructions add
      // nothing here (kvm_pmu_instruction_retired only reaches counters of instructions retired).
      return ev.uops;
    case EventSource.TopdownFrontendBound: {
      const rest =
        ev.cycles * clk.slotsPerCycle - ev.uops - (ev.memStallCycles + ev.mispredictCycles) * clk.slotsPerCycle;
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
      // Topdown events, retiring included: a row's µops fit its base cycles × the narrowest issue width
      // (isa/uops.ts), so no instruction adds more than its cycles' slots.
      return maxCycles * clk.slotsPerCycle;
  }
}

/**
 * CMASK/INV/EDGE (SDM "Architectural Performance Monitoring Version 1": the counter counts cycles in which
 * the event's per-cycle increment is ≥ CMASK). The model retires at most one instruction per cycle, so for
 * instructions, branches and mispredicts CMASK = 1 counts the event itself and CMASK ≥ 2 counts nothing.
 * Every other shaped selector (INV, EDGE, CMASK on cycle/cache/topdown events) needs per-cycle occupancy
 * the model does not have: it counts nothing (documented limit, docs/vpmu.md). KVM's emulated-instruction
 * match ignores these bits (R-CNT-4).
 */
export function shapedSource(src: EventSource, sel: bigint): EventSource {
  return shapedSourceOf(src, Number(sel & 0xffffffffn), Number((sel >> 32n) & 0xffffffffn));
}

const IN_TX_HI = Number((HSW_IN_TX | HSW_IN_TX_CHECKPOINTED) >> 32n);
const EDGE_INV = Number(ARCH_PERFMON_EVENTSEL_EDGE | ARCH_PERFMON_EVENTSEL_INV);
const CMASK_SHIFT = 24;
const CMASK_FIELD = Number(ARCH_PERFMON_EVENTSEL_CMASK >> 24n);

/** shapedSource on the selector's 32-bit halves (the register file's Number form: no bigint per write). */
export function shapedSourceOf(src: EventSource, lo: number, hi: number): EventSource {
  // IN_TX / IN_TXCP restrict counting to RTM transactions; the model runs none (no XBEGIN): nothing counts.
  if ((hi & IN_TX_HI) !== 0) return EventSource.None;
  const cmask = (lo >>> CMASK_SHIFT) & CMASK_FIELD;
  if ((lo & EDGE_INV) !== 0) return EventSource.None;
  if (cmask === 0) return src;
  const perInstruction =
    src === EventSource.Instructions || src === EventSource.Branches || src === EventSource.BranchMispredicts;
  return perInstruction && cmask === 1 ? src : EventSource.None;
}
