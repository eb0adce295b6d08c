import { ARCH_EVENTS, EventSource, FIXED_SOURCES, sourceOfEvent } from "../../src/arch/arch-events.js";
import { eventTotal, maxPerInstruction, refCycles } from "../../src/host/event-counts.js";
import { describe, expect, it } from "vitest";
import { HOST_PRESETS } from "../../src/host/presets.js";

const ev = {
  instructions: 1000,
  branches: 200,
  branchMispredicts: 7,
  uops: 1500,
  cycles: 5003,
  memStallCycles: 1200,
  mispredictCycles: 105,
  llcReferences: 40,
  llcMisses: 12,
  haltedCycles: 0,
};
const spr = { tscKhz: 2_000_000, coreKhz: 4_000_000, slotsPerCycle: 6 };
const skx = { tscKhz: 2_000_000, coreKhz: 3_000_000, slotsPerCycle: 4 };

describe("architectural event totals (events.ts table)", () => {
  it("maps every SDM encoding to its source (model.md §3.3)", () => {
    expect(ARCH_EVENTS.map((e) => [e.bit, e.eventSelect, e.umask])).toEqual([
      [0, 0x3c, 0],
      [1, 0xc0, 0],
      [2, 0x3c, 1],
      [3, 0x2e, 0x4f],
      [4, 0x2e, 0x41],
      [5, 0xc4, 0],
      [6, 0xc5, 0],
      [7, 0xa4, 1],
      [8, 0xa4, 2],
      [9, 0x73, 0],
      [10, 0x9c, 1],
      [11, 0xc2, 2],
      [12, 0xe4, 1],
    ]);
    expect(sourceOfEvent(0xc0, 0x01)).toBe(EventSource.None);
    expect(FIXED_SOURCES).toEqual([
      EventSource.Instructions,
      EventSource.CoreCycles,
      EventSource.RefCycles,
      EventSource.TopdownSlots,
    ]);
  });
  it.each([
    [EventSource.CoreCycles, 5003],
    [EventSource.Instructions, 1000],
    [EventSource.RefCycles, 2501],
    [EventSource.LlcReferences, 40],
    [EventSource.LlcMisses, 12],
    [EventSource.Branches, 200],
    [EventSource.BranchMispredicts, 7],
    [EventSource.TopdownSlots, 30018],
    [EventSource.TopdownBackendBound, 7200],
    [EventSource.TopdownBadSpeculation, 630],
    [EventSource.TopdownRetiring, 1500],
    [EventSource.TopdownFrontendBound, 30018 - 1500 - 630 - 7200],
    [EventSource.None, 0],
  ])("SPR source %i = %i", (src, want) => expect(eventTotal(src, ev, spr)).toBe(want));
  it("reference cycles are floor(cycles × tsc / core) without rounding error", () => {
    expect([0, 1, 2, 3, 4, 5, 6].map((c) => refCycles(c, skx))).toEqual([0, 0, 1, 2, 2, 3, 4]);
    expect(refCycles(3e15 + 1, skx)).toBe(2e15);
    for (const p of HOST_PRESETS) expect(refCycles(1_000_000, p)).toBe(Math.floor((1_000_000 * p.tscKhz) / p.coreKhz));
  });
  it("per-instruction growth bounds used for PMI budgets", () => {
    expect(maxPerInstruction(EventSource.Instructions, 2048, spr)).toBe(1);
    expect(maxPerInstruction(EventSource.Branches, 2048, spr)).toBe(1);
    expect(maxPerInstruction(EventSource.LlcMisses, 2048, spr)).toBe(8);
    expect(maxPerInstruction(EventSource.CoreCycles, 2048, spr)).toBe(2048);
    expect(maxPerInstruction(EventSource.RefCycles, 2048, spr)).toBe(1025);
    expect(maxPerInstruction(EventSource.TopdownSlots, 2048, spr)).toBe(2048 * 6);
  });
});
