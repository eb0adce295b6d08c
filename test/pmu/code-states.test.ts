import { describe, expect, it } from "vitest";
import { CODE_STATE_FEATURES, CODE_STATES, deriveCodeState, findCodeState } from "../../src/pmu/code-states.js";

describe("code states as one table (src/pmu/code-states.ts)", () => {
  it("has exactly one row per code state, in model.md §1 order", () => {
    expect(CODE_STATES.map((c) => c.id)).toEqual(["legacy", "base", "v4", "fix"]);
    expect(CODE_STATES.map((c) => c.label)).toEqual(["LEGACY", "BASE", "V4", "FIX"]);
    for (const c of CODE_STATES) expect(findCodeState(c.id)).toBe(c);
    expect(findCodeState("v5")).toBeUndefined();
  });

  it("every row names every predicate, as a boolean, and nothing else", () => {
    for (const c of CODE_STATES) {
      expect(Object.keys(c).sort()).toEqual(["id", "label", ...CODE_STATE_FEATURES].sort());
      for (const f of CODE_STATE_FEATURES) expect(typeof c[f]).toBe("boolean");
    }
  });

  it("holds the differences between LEGACY, BASE, V4 and FIX (model.md §1, §13, §14.5)", () => {
    const row = (f: (typeof CODE_STATE_FEATURES)[number]) => CODE_STATES.map((c) => c[f]);
    expect(row("mediatedPmu")).toEqual([false, true, true, true]);
    expect(row("fixedCounter3")).toEqual([false, false, true, true]);
    for (const f of [
      "perfMetricsCap",
      "perfMetricsMsr",
      "globalCtrlPerfMetricsBit",
      "perfMetricsPassThrough",
      "perfMetricsSwitch",
    ] as const)
      expect(row(f), f).toEqual([false, false, true, true]);
    for (const f of [
      "globalCtrlInterceptOnMetricsMismatch",
      "rdpmcInterceptOnMetricsMismatch",
      "rdpmcMetrics",
    ] as const)
      expect(row(f), f).toEqual([false, false, false, true]);
  });

  it("a derived code state changes only the named predicates", () => {
    const v4 = findCodeState("v4")!;
    const v5 = deriveCodeState("v5", v4, { rdpmcInterceptOnMetricsMismatch: true });
    expect(v5.id).toBe("v5");
    expect(v5.label).toBe("V5");
    for (const f of CODE_STATE_FEATURES) expect(v5[f], f).toBe(f === "rdpmcInterceptOnMetricsMismatch" ? true : v4[f]);
  });
});
