import { describe, expect, it } from "vitest";
import { DEFAULT_MATRIX, expandMatrix, withAxes } from "../../src/sweep/matrix.js";
import { matrixJobs, ProgramLoader, programShares, type ProgramSpec } from "../../src/sweep/sweep.js";

const PROBES: ProgramSpec[] = [
  { kind: "probe", probe: "read" },
  { kind: "probe", probe: "write" },
];

describe("ProgramLoader shares (vpmu sweep's worker threads assemble each program once)", () => {
  const m = withAxes(DEFAULT_MATRIX, { hosts: ["icx", "spr"], kvm: ["v4"], activity: ["idle"] }, [], "");
  if (!m.ok) throw new Error(m.error);
  const jobs = matrixJobs(expandMatrix(m.matrix), PROBES.length);

  it("deals the first job of every distinct program to exactly one share", () => {
    const keys = new ProgramLoader(PROBES);
    const shares = programShares(jobs, keys, 2);
    const all = new Set(jobs.map((j) => keys.key(j.program, j.config)));
    const dealt = shares.flat().map((j) => keys.key(j.program, j.config));
    expect(dealt.length).toBe(all.size);
    expect(new Set(dealt)).toEqual(all);
    expect(Math.abs(shares[0].length - shares[1].length)).toBeLessThanOrEqual(1);
    // icx and spr: 8 GP counters (host, host-1 = 7) × 3 or 4 fixed × 2 probes.
    expect(all.size).toBe(8);
  });

  it("a loader that adopts the others' images loads the same bytes as one that assembles everything", () => {
    const keys = new ProgramLoader(PROBES);
    const shares = programShares(jobs, keys, 2);
    const a = new ProgramLoader(PROBES),
      b = new ProgramLoader(PROBES);
    for (const j of shares[0]) a.load(j.program, j.config);
    for (const j of shares[1]) b.load(j.program, j.config);
    a.adopt(b.entries());
    expect(a.entries().length).toBe(8);
    const fresh = new ProgramLoader(PROBES);
    for (const j of jobs) expect(a.load(j.program, j.config)).toEqual(fresh.load(j.program, j.config));
    expect(a.entries().length).toBe(8);
  });
});
