// The branch predictor's conditional-branch state (src/isa/uarch.ts): per branch address, kept in one
// table per 4 KiB page made on first use. Exact predictions: unseen backward taken / forward not taken,
// then the last outcome; addresses outside RAM are never predicted taken and record nothing.
import { describe, expect, test } from "vitest";
import { noEvents } from "../../src/isa/platform.js";
import { BranchPredictor } from "../../src/isa/uarch.js";

const MEM = 64 * 1024;
function predictor() {
  const ev = noEvents();
  return { ev, p: new BranchPredictor(MEM, ev) };
}

describe("conditional branches", () => {
  test("unseen: backward predicted taken, forward not taken; then the last outcome", () => {
    const { ev, p } = predictor();
    expect(p.conditional(0x2000, true, 0x1ff0)).toBe(false); // backward, taken: predicted
    expect(p.conditional(0x3000, true, 0x3010)).toBe(true); // forward, taken: missed
    expect(p.conditional(0x3000, true, 0x3010)).toBe(false); // last taken
    expect(p.conditional(0x3000, false, 0x3010)).toBe(true);
    expect(p.conditional(0x3000, false, 0x3010)).toBe(false); // last not taken
    expect(ev.branchMispredicts).toBe(2);
    expect(ev.mispredictCycles).toBe(30);
  });

  test("each address keeps its own state, in a page's table and across pages", () => {
    const { p } = predictor();
    p.conditional(0x1000, false, 0x0f00); // backward not taken: missed, recorded
    expect(p.conditional(0x1001, true, 0x0f00)).toBe(false); // the neighbour is unseen
    expect(p.conditional(0x2000 + 0x1000, true, 0x0f00)).toBe(false); // same offset, next page: unseen
    expect(p.conditional(0x1000, true, 0x0f00)).toBe(true); // still "last not taken"
    expect(p.table(0x1000)[0]).toBe(2);
    expect(p.table(0x1001)[1]).toBe(2);
    expect(p.table(0x5000)).toHaveLength(4096); // made on demand, all unseen
    expect(p.table(0x5000).every((s) => s === 0)).toBe(true);
  });

  test("the last byte of RAM has state; an address outside RAM is never predicted taken and records nothing", () => {
    const { ev, p } = predictor();
    expect(p.conditional(MEM - 1, true, 0)).toBe(false);
    expect(p.conditional(MEM - 1, false, 0)).toBe(true);
    for (const addr of [MEM, MEM + 0x1000, -0x1000, -(2 ** 47)]) {
      expect(p.table(addr)).toHaveLength(0);
      expect(p.conditional(addr, true, addr - 16)).toBe(true); // backward, yet not predicted taken
      expect(p.conditional(addr, true, addr - 16)).toBe(true); // nothing recorded
      expect(p.conditional(addr, false, addr - 16)).toBe(false);
    }
    expect(ev.branchMispredicts).toBe(1 + 8);
  });

  test("reset (IBPB) forgets every outcome in place: a table bound by compiled code stays the live one", () => {
    const { p } = predictor();
    const t = p.table(0x4000);
    p.conditional(0x4010, false, 0x4000);
    expect(t[0x10]).toBe(1);
    p.reset();
    expect(p.table(0x4000)).toBe(t);
    expect(t[0x10]).toBe(0);
    expect(p.conditional(0x4010, true, 0x4000)).toBe(false); // unseen again: backward predicted taken
  });
});
