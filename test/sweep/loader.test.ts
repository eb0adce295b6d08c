import { describe, expect, it } from "vitest";
import { DEFAULT_MATRIX, expandMatrix, withAxes } from "../../src/sweep/matrix.js";
import { ChunkPlan } from "../../src/sweep/schedule.js";
import { matrixJobs, ProgramLoader, type ProgramSpec } from "../../src/sweep/sweep.js";

const PROBES: ProgramSpec[] = [
  { kind: "probe", probe: "read" },
  { kind: "probe", probe: "write" },
];

describe("ChunkPlan (vpmu sweep's worker threads: no start-up barrier, each program assembled once)", () => {
  const m = withAxes(DEFAULT_MATRIX, { hosts: ["skx", "spr"], kvm: ["v4"], activity: ["idle"] }, [], "");
  if (!m.ok) throw new Error(m.error);
  const jobs = matrixJobs(expandMatrix(m.matrix), PROBES.length);

  /** Threads each with a chunk in flight from the start, finishing in turn (the first one every fourth
   *  turn too, as a slower thread would), each running its chunk with its own loader and handing what it
   *  assembled to the others, as the CLI does. */
  function simulate(threads: number, size: number) {
    const plan = new ChunkPlan(jobs, new ProgramLoader(PROBES), threads, size);
    const loaders = Array.from({ length: threads }, () => new ProgramLoader(PROBES));
    const order: number[] = [];
    const assembled: string[] = [];
    const take = (t: number) => {
      const id = plan.next(t);
      if (id >= 0) order.push(id);
      return id;
    };
    const flight = loaders.map((_, t) => take(t));
    for (let turn = 0; flight.some((id) => id >= 0); turn++) {
      const t = turn % 4 === 3 ? 0 : turn % threads;
      if (flight[t] < 0) continue;
      for (const j of plan.chunks[flight[t]]) loaders[t].load(j.program, j.config);
      const made = loaders[t].fresh();
      const keys = made.map(([k]) => k);
      assembled.push(...keys);
      plan.hold(t, keys);
      loaders.forEach((l, o) => {
        if (o === t) return;
        l.adopt(made);
        plan.hold(o, keys);
      });
      flight[t] = take(t);
    }
    return { plan, order, assembled, loaders };
  }

  it("deals every chunk once; the chunks in order are the jobs", () => {
    const { plan, order } = simulate(2, 48);
    expect([...order].sort((a, b) => a - b)).toEqual(plan.chunks.map((_, i) => i));
    expect(plan.chunks.flat()).toEqual(jobs);
  });

  it("assembles each distinct program exactly once, and every thread ends with the same images", () => {
    for (const threads of [2, 3]) {
      const { assembled, loaders } = simulate(threads, 48);
      const all = new Set(jobs.map((j) => new ProgramLoader(PROBES).key(j.program, j.config)));
      // skx: 4 GP (host, host-1 = 3), spr: 8 (7); 3 or 4 fixed; two probes.
      expect(all.size).toBe(16);
      expect(assembled.length).toBe(all.size);
      expect(new Set(assembled)).toEqual(all);
      const fresh = new ProgramLoader(PROBES);
      for (const l of loaders)
        for (const j of jobs) expect(l.load(j.program, j.config)).toEqual(fresh.load(j.program, j.config));
    }
  });
});
