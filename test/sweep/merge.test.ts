import { describe, expect, it } from "vitest";
import { DEFAULT_MATRIX, expandMatrix, withAxes } from "../../src/sweep/matrix.js";
import { mergeableJson, mergeSweepDocuments } from "../../src/sweep/merge.js";
import { formatReport, reportJson, summarise, type SummariseInput } from "../../src/sweep/report.js";
import { matrixJobs, programName, ProgramLoader, runJobs, shardJobs, type ProgramSpec } from "../../src/sweep/sweep.js";

const PROBES: ProgramSpec[] = [
  { kind: "probe", probe: "read" },
  { kind: "probe", probe: "write" },
];

describe("merging shard reports", () => {
  const m = withAxes(
    DEFAULT_MATRIX,
    { hosts: ["spr"], pmu: ["mediated"], kvm: ["v4", "fix"], versions: [2], fixed: [4], activity: ["topdown"] },
    [],
  );
  if (!m.ok) throw new Error(m.error);
  const configs = expandMatrix(m.matrix);
  const jobs = matrixJobs(configs, 2);
  const input = (shard: string, js: typeof jobs): SummariseInput => ({
    mode: "matrix",
    shard,
    configs: new Map(js.map((j) => [j.config.index, j.config])),
    programs: PROBES.map(programName),
    records: runJobs(js, new ProgramLoader(PROBES), new Map()),
  });
  /** What `vpmu sweep --json` prints, through JSON text and back. */
  const doc = (inp: SummariseInput) =>
    JSON.parse(JSON.stringify({ ...reportJson(summarise(inp)), ...mergeableJson(inp) })) as unknown;

  it("the union of shard reports is the whole sweep's report", () => {
    const whole = formatReport(summarise(input("1/1", jobs)));
    const parts = [1, 2].map((index) => doc(input(`${index}/2`, shardJobs(jobs, { index, count: 2 }))));
    const merged = mergeSweepDocuments(["a.json", "b.json"], parts);
    expect(merged.ok).toBe(true);
    if (!merged.ok) return;
    const text = formatReport(summarise(merged.input));
    expect(text.split("\n")[0]).toBe(
      "vpmu sweep: 48 configurations, 96 runs (programs: probe:read, probe:write; shard merged 1/2 + 2/2)",
    );
    expect(text.split("\n").slice(1)).toEqual(whole.split("\n").slice(1));
  });

  it("refuses overlapping shards, different sweeps and other documents", () => {
    const a = doc(input("1/2", shardJobs(jobs, { index: 1, count: 2 })));
    expect(mergeSweepDocuments(["a.json", "a2.json"], [a, a])).toEqual({
      ok: false,
      error: "a2.json: configuration 0 × program 0 is already in an earlier report (overlapping shards?)",
    });
    const other = { ...(a as Record<string, unknown>), programs: ["probe:read"] };
    expect(mergeSweepDocuments(["a.json", "b.json"], [a, other])).toEqual({
      ok: false,
      error: "b.json: a different sweep (mode, seed, programs or --max-insns differ from a.json)",
    });
    expect(mergeSweepDocuments(["x.json"], [{ hello: 1 }])).toEqual({
      ok: false,
      error: "x.json: not a vpmu sweep --json report",
    });
    expect(mergeSweepDocuments([], [])).toEqual({ ok: false, error: "nothing to merge" });
  });
});
