import { describe, expect, it } from "vitest";
import { explain, sentence, type Attribute } from "../../src/sweep/group.js";
import { SWEEP_ATTRIBUTES } from "../../src/sweep/report.js";

const A: Attribute[] = ["a", "b", "c"].map((id) => ({ id, phrase: (v: string) => `${id}=${v}` }));

/** Every vector over a, b ∈ {0,1,2} and c ∈ {0,1}. */
function space(): string[][] {
  const out: string[][] = [];
  for (const a of ["0", "1", "2"]) for (const b of ["0", "1", "2"]) for (const c of ["0", "1"]) out.push([a, b, c]);
  return out;
}

describe("condition grouping", () => {
  it("finds the one smallest conjunction that covers the positives and no negative", () => {
    const all = space();
    const pos = all.filter(([a, b]) => a === "1" && b === "2");
    const neg = all.filter(([a, b]) => !(a === "1" && b === "2"));
    const e = explain(A, pos, neg);
    expect(e.conditions.map((c) => [c.sentence, c.covers])).toEqual([["a=1, b=2", 2]]);
    expect(e.unexplained).toBe(0);
    expect(e.uncovered).toBe(0);
  });

  it("covers a union with one condition per region, largest first", () => {
    const all = space();
    const inA = ([a]: string[]) => a === "0";
    const inB = ([_a, b, c]: string[]) => b === "1" && c === "1";
    const pos = all.filter((v) => inA(v) || inB(v));
    const neg = all.filter((v) => !(inA(v) || inB(v)));
    const e = explain(A, pos, neg);
    expect(e.conditions.map((c) => [c.sentence, c.covers])).toEqual([
      ["a=0", 6],
      ["b=1, c=1", 2],
    ]);
  });

  it("weights count configurations, and identical vectors on both sides are unexplained, not hidden", () => {
    const e = explain(
      A,
      [
        ["1", "1", "1"],
        ["1", "1", "1"],
        ["2", "2", "2"],
      ],
      [
        ["2", "2", "2"],
        ["0", "0", "0"],
      ],
      8,
      [3, 4, 5],
    );
    expect(e.unexplained).toBe(5);
    expect(e.conditions.map((c) => [c.sentence, c.covers])).toEqual([["a=1", 7]]);
  });

  it("returns nothing for no positives, and the empty conjunction when nothing is clean", () => {
    expect(explain(A, [], space())).toEqual({ conditions: [], unexplained: 0, uncovered: 0 });
    expect(
      explain(
        A,
        [
          ["1", "1", "1"],
          ["2", "2", "2"],
        ],
        [],
      ),
    ).toEqual({
      conditions: [{ literals: [], covers: 2, sentence: "every configuration" }],
      unexplained: 0,
      uncovered: 0,
    });
  });

  it("says the V4 leak region the way the issue does", () => {
    const literals = [
      { attr: "activity", value: "topdown" },
      { attr: "widths", value: "equal" },
      { attr: "kvm", value: "v4" },
      { attr: "guestPerfMetrics", value: "no" },
      { attr: "counts", value: "equal" },
      { attr: "hostPerfMetrics", value: "yes" },
    ];
    expect(sentence(SWEEP_ATTRIBUTES, literals)).toBe(
      "v4, host has PERF_METRICS, guest lacks it, counts and widths equal, host activity topdown",
    );
    expect(
      sentence(SWEEP_ATTRIBUTES, [
        { attr: "guestPerfMetrics", value: "no" },
        { attr: "kvm", value: "my-idea" },
      ]),
    ).toBe("policy my-idea, guest lacks PERF_METRICS");
    const eq: Attribute[] = ["x", "y", "z"].map((id) => ({ id, phrase: (v: string) => `${id}s ${v}` }));
    expect(
      sentence(eq, [
        { attr: "x", value: "equal" },
        { attr: "y", value: "equal" },
        { attr: "z", value: "equal" },
      ]),
    ).toBe("xs, ys and zs equal");
    expect(
      sentence(eq, [
        { attr: "x", value: "equal" },
        { attr: "y", value: "differ" },
      ]),
    ).toBe("xs equal, ys differ");
  });
});
