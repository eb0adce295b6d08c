import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parsePolicyFile } from "../../src/vmx/policies/index.js";
import { resolveGuest, type SweepConfig } from "../../src/sweep/matrix.js";
import { findHostPreset } from "../../src/host/presets.js";
import { ProgramLoader, runJobs, type ProgramSpec } from "../../src/sweep/sweep.js";
import { runOne, type Finding, type PolicyTable, type RunRecord } from "../../src/sweep/run.js";
import { formatReport, summarise } from "../../src/sweep/report.js";

const PROBES: ProgramSpec[] = [
  { kind: "probe", probe: "read" },
  { kind: "probe", probe: "write" },
];
const loader = new ProgramLoader(PROBES);

/** The model.md §14.4 guest on SPR (v2, 8×48 GP, 4×48 fixed, caps FW_WRITES) with host perf running TopdownL1. */
function config(
  over: Partial<Omit<SweepConfig, "guest">> & { caps?: string; nFX?: number; wGP?: number } = {},
): SweepConfig {
  const host = over.host ?? "spr";
  const guest = resolveGuest(
    findHostPreset(host)!,
    2,
    "host",
    over.wGP ?? "host",
    over.nFX ?? 4,
    "host",
    over.caps ?? "fw",
  );
  return {
    index: 0,
    host,
    pmu: over.pmu ?? "mediated",
    kvm: over.kvm ?? "v4",
    activity: over.activity ?? "topdown",
    vmwareBackdoor: over.vmwareBackdoor ?? false,
    guest,
  };
}

function run(c: SweepConfig, policies: PolicyTable = new Map(), invariants = false): RunRecord[] {
  return runJobs(
    [0, 1].map((program) => ({ position: program, config: c, program })),
    loader,
    policies,
    undefined,
    { invariants },
  );
}

const line = (f: Finding) =>
  `${f.direction} ${f.register} ${f.path} rip 0x${f.rip.toString(16)} = 0x${f.value.toString(16)} ${f.owner} (${f.source})`;
const R_INT_5 = "R-INT-5: mediated, guest counters match the host exactly (8×48-bit GP, 4×48-bit fixed)";
const R_INT_3 = "R-INT-3: mediated, version ≥ 2, nGP 8 and nFX 4 equal the host's";

describe("probes on the small KVM with the VMX layer", () => {
  it("V4 (model.md §14.4): the read probe gets the host's PERF_METRICS through RDPMC, before and after an exit", () => {
    const [read, write] = run(config());
    expect([read.outcome, read.detail, read.exits]).toEqual(["ran", "exit 0", 46]);
    expect(read.realised).toEqual({ version: 2, nGP: 8, wGP: 48, nFX: 4, wFX: 48, perfCapabilities: 0x2000n });
    expect(read.findings.map(line)).toEqual([
      "host→guest MSR_PERF_METRICS (0x329) RDPMC ecx=0x20000000 rip 0x11ec = 0x7f301040 host (put step 5 (host activity topdown))",
      "host→guest MSR_PERF_METRICS (0x329) RDPMC ecx=0x20000000 rip 0x12a1 = 0x7f301040 host (put step 5 (host activity topdown))",
    ]);
    expect(read.findings.map((f) => f.rule)).toEqual([R_INT_5, R_INT_5]);
    // The write probe: GLOBAL_CTRL bit 48 set in hardware by pass-through writes (§14.2 guest→host side),
    // then the host's PERF_METRICS read back.
    expect([write.outcome, write.exits]).toEqual(["ran", 461]);
    // In the order they happened (the VMX layer records both directions as the accesses run).
    expect(write.findings.map(line)).toEqual([
      "guest→host MSR_CORE_PERF_GLOBAL_CTRL (0x38f) WRMSR 0x38f (bits 0x1000000000000 reserved by KVM's global_ctrl_rsvd) rip 0x10d9 = 0x1000000000000 vcpu:0 (guest WRMSR at rip 0x10d9)",
      "guest→host MSR_CORE_PERF_GLOBAL_CTRL (0x38f) WRMSR 0x38f (bits 0x1000000000000 reserved by KVM's global_ctrl_rsvd) rip 0x1397 = 0x1000f000000ff vcpu:0 (guest WRMSR at rip 0x1397)",
      "host→guest MSR_PERF_METRICS (0x329) RDPMC ecx=0x20000000 rip 0x1427 = 0x7f301040 host (put step 5 (host activity topdown))",
    ]);
    expect(write.findings.map((f) => f.rule)).toEqual([R_INT_3, R_INT_3, R_INT_5]);
  });

  it("V4 without host metrics in hardware (L-5 fails): only the GLOBAL_CTRL path remains", () => {
    const [read, write] = run(config({ activity: "counting" }));
    expect(read.findings).toEqual([]);
    expect(write.findings.map((f) => f.direction)).toEqual(["guest→host", "guest→host"]);
  });

  it("FIX (model.md §14.5), BASE, LEGACY, a guest with PERF_METRICS, and the §14.5 controls find nothing", () => {
    const clean: [string, SweepConfig][] = [
      ["fix", config({ kvm: "fix" })],
      ["base", config({ kvm: "base" })],
      ["legacy pmu under v4", config({ pmu: "legacy" })],
      ["legacy kernel", config({ kvm: "legacy" })],
      ["v4, guest has PERF_METRICS", config({ caps: "fw+metrics" })],
      ["v4, nFX 3", config({ nFX: 3 })],
      ["v4, no PMU metrics on the host (skx)", config({ host: "skx", nFX: 3 })],
    ];
    for (const [what, c] of clean) {
      const recs = run(c);
      expect({
        what,
        outcomes: recs.map((r) => r.outcome),
        findings: recs.flatMap((r) => r.findings.map(line)),
      }).toEqual({ what, outcomes: ["ran", "ran"], findings: [] });
    }
    // wGP 40: RDPMC is intercepted (R-INT-5 compares widths) but R-INT-3 does not compare widths, so the
    // GLOBAL_CTRL bit-48 path stays open: the region of the guest→host side is larger than the RDPMC leak's.
    const narrow = run(config({ wGP: 40 }));
    expect(narrow[0].findings).toEqual([]);
    expect(narrow[1].findings.map((f) => `${f.direction} ${f.value.toString(16)} ${f.rule}`)).toEqual([
      `guest→host 1000000000000 ${R_INT_3}`,
      `guest→host 1000f000000ff ${R_INT_3}`,
    ]);
    // LEGACY: every PMU access exits — 90 RDMSR, 50 RDPMC, CPUID and the exit port in the read probe.
    expect(run(config({ pmu: "legacy" })).map((r) => r.exits)).toEqual([142, 638]);
  });

  it("KVM refuses what a VMM could not create, and the run says which ioctl and rule", () => {
    const [r] = run(config({ kvm: "base", caps: "fw+metrics" }));
    expect([r.outcome, r.detail, r.findings]).toEqual([
      "rejected",
      "KVM_SET_MSRS PERF_CAPABILITIES 0xa000: not a subset of KVM's supported 0x2000 (R-CFG-2)",
      [],
    ]);
  });

  it("a policy file that passes RDPMC through unconditionally leaks host counters, with the rule named", () => {
    const file = new URL("./fixtures/rdpmc-always.json", import.meta.url).pathname;
    const p = parsePolicyFile("rdpmc-always.json", readFileSync(file, "utf8"));
    expect(p.ok).toBe(true);
    if (!p.ok) return;
    const policies = new Map([[p.policy.id, p.policy]]);
    // BASE limits the guest to 3 fixed counters: FC3 (host TOPDOWN.SLOTS) and PERF_METRICS are the host's.
    const [read] = run(config({ kvm: "rdpmc-always" }), policies);
    expect(read.findings.map(line)).toEqual([
      "host→guest MSR_CORE_PERF_FIXED_CTR3 (0x30c) RDPMC ecx=0x40000003 rip 0x11d7 = 0x12345600 host (put step 5 (host activity topdown))",
      "host→guest MSR_PERF_METRICS (0x329) RDPMC ecx=0x20000000 rip 0x11ec = 0x7f301040 host (put step 5 (host activity topdown))",
      "host→guest MSR_CORE_PERF_FIXED_CTR3 (0x30c) RDPMC ecx=0x40000003 rip 0x128c = 0x12345600 host (put step 5 (host activity topdown))",
      "host→guest MSR_PERF_METRICS (0x329) RDPMC ecx=0x20000000 rip 0x12a1 = 0x7f301040 host (put step 5 (host activity topdown))",
    ]);
    expect(new Set(read.findings.map((f) => f.rule))).toEqual(
      new Set(["policy rdpmc-always: RDPMC passes when []: all hold"]),
    );
  });

  it("with invariants on, V4 violates I-4 for PERF_METRICS (model.md §12.3) and FIX violates nothing", () => {
    const [read] = run(config(), new Map(), true);
    expect(
      read.findings
        .filter((f) => f.direction === "invariant")
        .map((f) => `${f.path} ${f.register} = 0x${f.value.toString(16)} ${f.owner} | ${f.rule}`),
    ).toEqual([
      "I-4 while the guest runs MSR_PERF_METRICS (0x329) = 0x7f301040 host | model.md §12.3 I-4: expected a value owned by vcpu:0",
    ]);
    expect(run(config({ kvm: "fix" }), new Map(), true).flatMap((r) => r.findings)).toEqual([]);
    expect(
      run(config({ kvm: "fix", activity: "counting", caps: "fw+metrics" }), new Map(), true).flatMap((r) => r.findings),
    ).toEqual([]);
  });

  it("a probe that does not reach its exit is a failed run, listed in the report", () => {
    const c = config();
    const ud2 = { bytes: new Uint8Array([0x0f, 0x0b]), origin: 0x1000, memSize: 0x10000, maxInsns: 1000, probe: true };
    const r = runOne(c, 0, ud2, new Map());
    expect([r.outcome, r.findings]).toEqual(["failed", []]);
    expect(r.detail).toMatch(/^triple fault at rip=0x1000: #UD at rip=0x1000 \(bytes 0f 0b: ud2\)/);
    const text = formatReport(
      summarise({ mode: "matrix", configs: new Map([[0, c]]), programs: ["ud2"], records: [r] }),
    );
    expect(text.split("\n").slice(0, 6)).toEqual([
      "vpmu sweep: 1 configurations, 1 runs (programs: ud2; shard 1/1)",
      "  ran 0, rejected by KVM 0, did not complete 1",
      "",
      "no leaks: no host-owned value reached a guest and no guest write reached hardware KVM reserves, in 0 runs that completed; 1 runs did not complete (below): only what they ran before they stopped was checked",
      "",
      "did not complete (1 runs):",
    ]);
  });
});
