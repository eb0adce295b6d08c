import { describe, expect, it } from "vitest";
import { DEFAULT_MATRIX, expandMatrix } from "../../src/sweep/matrix.js";
import { parseShard, selectShard } from "../../src/sweep/shard.js";
import { matrixJobs, shardJobs } from "../../src/sweep/sweep.js";

describe("sweep shards", () => {
  it("parses i/n and rejects anything else with one sentence", () => {
    expect(parseShard("2/4")).toEqual({ ok: true, shard: { index: 2, count: 4 } });
    expect(parseShard(" 1 / 1 ")).toEqual({ ok: true, shard: { index: 1, count: 1 } });
    expect(parseShard("0/4")).toEqual({ ok: false, error: "'0/4': the shard number must be between 1 and 4" });
    expect(parseShard("5/4")).toEqual({ ok: false, error: "'5/4': the shard number must be between 1 and 4" });
    expect(parseShard("1/0")).toEqual({ ok: false, error: "'1/0': the shard count must be at least 1" });
    expect(parseShard("a/b")).toEqual({ ok: false, error: "'a/b' is not i/n (e.g. 1/4: the first of four shards)" });
  });

  it("n shards are disjoint, cover the matrix exactly and are dealt round-robin", () => {
    const items = Array.from({ length: 100 }, (_, index) => ({ index }));
    const parts = [1, 2, 3].map((index) => selectShard(items, { index, count: 3 }));
    expect(parts.map((p) => p.length)).toEqual([34, 33, 33]);
    expect(parts[1].slice(0, 3).map((x) => x.index)).toEqual([1, 4, 7]);
    expect(
      parts
        .flat()
        .map((x) => x.index)
        .sort((a, b) => a - b),
    ).toEqual(items.map((x) => x.index));
    const jobs = matrixJobs(expandMatrix(DEFAULT_MATRIX), 2);
    const shards = [1, 2, 3, 4].map((index) => shardJobs(jobs, { index, count: 4 }));
    expect(shards.map((s) => s.length)).toEqual([2304, 2304, 2304, 2304]);
    const positions = new Set(shards.flat().map((j) => j.position));
    expect(positions.size).toBe(jobs.length);
  });
});
