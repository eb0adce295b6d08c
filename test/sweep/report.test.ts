import { describe, expect, it } from "vitest";
import { DEFAULT_MATRIX, expandMatrix, withAxes, type SweepConfig, type SweepMatrix } from "../../src/sweep/matrix.js";
import { formatReport, reportJson, summarise } from "../../src/sweep/report.js";
import type { RunRecord } from "../../src/sweep/run.js";
import {
  fuzzJobs,
  matrixJobs,
  programName,
  ProgramLoader,
  runJobs,
  shardJobs,
  type ProgramSpec,
} from "../../src/sweep/sweep.js";

const PROBES: ProgramSpec[] = [
  { kind: "probe", probe: "read" },
  { kind: "probe", probe: "write" },
];

function slice(axes: Record<string, unknown>): SweepConfig[] {
  const m = withAxes(DEFAULT_MATRIX, axes, []);
  if (!m.ok) throw new Error(m.error);
  return expandMatrix(m.matrix as SweepMatrix);
}

function report(configs: SweepConfig[], records: RunRecord[], specs = PROBES) {
  return summarise({
    mode: "matrix",
    configs: new Map(configs.map((c) => [c.index, c])),
    programs: specs.map(programName),
    records,
  });
}

// Mediated SKX and SPR under BASE, V4 and FIX, host perf running TopdownL1: 2 × 3 × 96 = 576 configurations.
const SLICE = { hosts: ["skx", "spr"], pmu: ["mediated"], kvm: ["base", "v4", "fix"], activity: ["topdown"] };

describe("sweep report", () => {
  const configs = slice(SLICE);
  const records = runJobs(matrixJobs(configs, 2), new ProgramLoader(PROBES), new Map());

  it("finds exactly the V4 region and the GLOBAL_CTRL bit-48 path, and says them as conditions", () => {
    const r = report(configs, records);
    expect([r.configurations, r.runs, r.ran, r.rejected, r.failed]).toEqual([576, 1152, 896, 256, 0]);
    expect(
      r.groups.map((g) => [
        g.signature,
        g.configurations,
        g.runs,
        g.explanation.conditions.map((c) => [c.sentence, c.covers]),
        g.explanation.unexplained,
        g.rules,
      ]),
    ).toEqual([
      [
        "guest→host MSR_CORE_PERF_GLOBAL_CTRL (0x38f) via WRMSR",
        8,
        8,
        [["v4, host has PERF_METRICS, guest lacks it, counts equal", 8]],
        0,
        ["R-INT-3: mediated, version ≥ 2, nGP 8 and nFX 4 equal the host's"],
      ],
      [
        "host→guest MSR_PERF_METRICS (0x329) via RDPMC",
        2,
        4,
        [["v4, host has PERF_METRICS, guest lacks it, counts and widths equal", 2]],
        0,
        ["R-INT-5: mediated, guest counters match the host exactly (8×48-bit GP, 4×48-bit fixed)"],
      ],
    ]);
    expect(r.rejections).toEqual([
      { reason: "KVM_SET_MSRS PERF_CAPABILITIES 0xa000: not a subset of KVM's supported 0x2000 (R-CFG-2)", runs: 256 },
    ]);
    const text = formatReport(r);
    expect(text.split("\n").slice(0, 9)).toEqual([
      "vpmu sweep: 576 configurations, 1152 runs (programs: probe:read, probe:write; shard 1/1)",
      "  ran 896, rejected by KVM 256, did not complete 0",
      "",
      "LEAK guest→host MSR_CORE_PERF_GLOBAL_CTRL (0x38f) via WRMSR: 8 configurations, 8 runs",
      "  when v4, host has PERF_METRICS, guest lacks it, counts equal (8)",
      "  let through by: MSR-bitmap write bit for 0x38f clear: kvm_need_perf_global_ctrl_intercept() false — mediated, version ≥ 2, nGP 8 and nFX 4 equal the host's (docs/model.md §11.6 R-INT-3)",
      "  e.g. spr mediated v4 | v2 gp 8×48 fx 4×48 no PDCM | topdown — probe:write: WRMSR 0x38f (bits 0x1000000000000 reserved by KVM's global_ctrl_rsvd) at rip 0x10d9 = 0x1000000000000, owned by vcpu:0 (guest WRMSR at rip 0x10d9)",
      "  see: vpmu explain --host spr --pmu mediated --kvm v4 --pmu-version 2 --gp 8 --gp-width 48 --fixed 4 --fixed-width 48 --no-pdcm --host-activity topdown",
      "",
    ]);
    const j = reportJson(r) as { leaks: { conditions: { literals: Record<string, string> }[] }[] };
    expect(j.leaks[1].conditions[0].literals).toEqual({
      kvm: "v4",
      hostPerfMetrics: "yes",
      guestPerfMetrics: "no",
      counts: "equal",
      widths: "equal",
    });
  });

  it("is the same whatever order the records arrive in, and shards add up to the whole", () => {
    expect(formatReport(report(configs, [...records].reverse()))).toBe(formatReport(report(configs, records)));
    const small = slice({
      hosts: ["spr"],
      pmu: ["mediated"],
      kvm: ["v4"],
      versions: [2],
      fixed: [4],
      activity: ["topdown"],
    });
    const jobs = matrixJobs(small, 2);
    const whole = formatReport(report(small, runJobs(jobs, new ProgramLoader(PROBES), new Map())));
    const parts = [1, 2, 3].map((index) =>
      runJobs(shardJobs(jobs, { index, count: 3 }), new ProgramLoader(PROBES), new Map()),
    );
    expect(parts.map((p) => p.length)).toEqual([16, 16, 16]);
    expect(formatReport(report(small, parts.flat()))).toBe(whole);
  });

  it("finds nothing in LEGACY: every PMU access exits", () => {
    const legacy = slice({
      hosts: ["spr"],
      pmu: ["legacy"],
      kvm: ["legacy", "v4"],
      versions: [2],
      gp: ["host"],
      gpWidth: ["host"],
      fixed: [4],
      fixedWidth: ["host"],
    });
    const recs = runJobs(matrixJobs(legacy, 2), new ProgramLoader(PROBES), new Map());
    const r = report(legacy, recs);
    // --pmu legacy pairs with the legacy kernel only (a v4 kernel is a mediated one: pmuFitsKvm).
    expect([legacy.length, r.ran, r.groups.length]).toEqual([9, 12, 0]);
    expect(formatReport(r).split("\n")[3]).toBe(
      "no leaks: no host-owned value reached a guest and no guest write reached hardware KVM reserves, in 12 runs that completed",
    );
  });
});

describe("the default matrix under BASE and FIX", () => {
  // SKX (no PERF_METRICS, 3 fixed counters) and SPR (PERF_METRICS, FC3) are the two PMU shapes of the
  // presets (ICX and GNR have SPR's counters); every guest model and host activity of the default matrix.
  it("finds nothing: both host PMU shapes, every guest model and host activity, mediated", () => {
    const configs = slice({ hosts: ["skx", "spr"], pmu: ["mediated"], kvm: ["base", "fix"] });
    const recs = runJobs(matrixJobs(configs, 2), new ProgramLoader(PROBES), new Map());
    const r = report(configs, recs);
    expect([r.configurations, r.runs, r.ran, r.rejected, r.failed, r.groups.length]).toEqual([
      1152, 2304, 1728, 576, 0, 0,
    ]);
  }, 600_000);
});

describe("random-probe mode", () => {
  it("with the default budget finds the V4 PERF_METRICS leak without being told where to look", () => {
    const configs = expandMatrix(DEFAULT_MATRIX);
    const specs: ProgramSpec[] = Array.from({ length: 64 }, (_, index) => ({ kind: "fuzz", seed: 1, index }));
    const jobs = fuzzJobs(configs, 1, 10_000, 64);
    const recs = runJobs(jobs, new ProgramLoader(specs), new Map());
    const r = summarise({
      mode: "fuzz",
      seed: 1,
      configs: new Map(jobs.map((j) => [j.config.index, j.config])),
      programs: specs.map(programName),
      records: recs,
    });
    const leak = r.groups.find((g) => g.signature === "host→guest MSR_PERF_METRICS (0x329) via RDPMC");
    expect(leak?.explanation.conditions.map((c) => c.sentence)).toEqual([
      "v4, host has PERF_METRICS, guest lacks it, counts and widths equal, host activity topdown",
    ]);
    expect(r.failed).toBe(0);
  }, 300_000);
});
