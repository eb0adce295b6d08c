import { describe, expect, it } from "vitest";
import { createMachine, type MachineOptions } from "../../src/machine/index.js";
import { explainMachine, formatExplain } from "../../src/report/index.js";
import { parsePolicyFile } from "../../src/vmx/policies/index.js";

function explain(o: MachineOptions) {
  const m = createMachine(o);
  if (!m.ok) throw new Error(m.error);
  return explainMachine(m.value);
}
const LEAK: MachineOptions = {
  host: "spr",
  pmu: "mediated",
  kvm: "v4",
  pmuVersion: 2,
  gp: 8,
  gpWidth: 48,
  fixed: 4,
  fixedWidth: 48,
  perfCaps: 0x2000n,
};

describe("vpmu explain (library)", () => {
  it("§14.4 guest under V4: RDPMC off by R-INT-5, 0x329 exits by P-4, globals pass by R-INT-3", () => {
    const r = explain(LEAK);
    expect(r.rdpmcExiting).toEqual({
      on: false,
      why: "R-INT-5: mediated, guest counters match the host exactly (8×48-bit GP, 4×48-bit fixed)",
    });
    expect(r.msrs.find((m) => m.index === 0x329)).toEqual({
      index: 0x329,
      name: "MSR_PERF_METRICS",
      read: "exit",
      write: "exit",
      why: "P-4: guest PERF_CAPABILITIES bit 15 clear",
    });
    expect(r.msrs.find((m) => m.index === 0x38f)?.read).toBe("pass");
    expect(r.controls).toEqual({
      primary: "0x11000080",
      primaryBits: ["CPU_BASED_HLT_EXITING", "CPU_BASED_UNCOND_IO_EXITING", "CPU_BASED_USE_MSR_BITMAPS"],
      entry: ["VM_ENTRY_LOAD_IA32_PERF_GLOBAL_CTRL"],
      exit: ["VM_EXIT_LOAD_IA32_PERF_GLOBAL_CTRL", "VM_EXIT_SAVE_IA32_PERF_GLOBAL_CTRL"],
    });
    expect(r.reservedMasks.global_ctrl_rsvd).toBe("0xfffffff0ffffff00");
    const text = formatExplain(r);
    expect(text.split("\n").find((l) => l.startsWith("RDPMC exiting"))).toBe(
      "RDPMC exiting        off  R-INT-5: mediated, guest counters match the host exactly (8×48-bit GP, 4×48-bit fixed)",
    );
  });

  it("shows an installed PMU event filter (--pmu-filter) and only then", () => {
    expect(explain(LEAK).eventFilter).toBeUndefined();
    const r = explain({
      ...LEAK,
      filter: {
        action: 0,
        flags: 1,
        fixedCounterBitmap: 2,
        events: [0xc4n | (0x10n << 8n) | (0xf0n << 56n), 0xc0n | (1n << 55n) | (0xffn << 56n)],
      },
    });
    expect(r.eventFilter).toEqual({
      action: "allow",
      include: ["event 0xc4, umask & 0xf0 == 0x10"],
      exclude: ["event 0xc0, umask & 0xff == 0x0"],
      fixedCounterBitmap: "0x2",
    });
    expect(formatExplain(r).split("\n").slice(-6)).toEqual([
      "PMU event filter (KVM_SET_PMU_EVENT_FILTER, model.md §10): ALLOW, fixed counter bitmap 0x2",
      "  include  event 0xc4, umask & 0xf0 == 0x10",
      "  exclude  event 0xc0, umask & 0xff == 0x0",
      "  a GP counter counts only if an include entry matches its event and no exclude entry does (R-FLT-4);",
      "  fixed counter i counts iff bit i of the bitmap is set (R-FLT-5); a denied counter is programmed but counts nothing",
      "",
    ]);
  });

  it("FIX: RDPMC exiting on by R-INT-4, bit 48 stays reserved", () => {
    const r = explain({ ...LEAK, kvm: "fix" });
    expect(r.rdpmcExiting).toEqual({
      on: true,
      why: "R-INT-4: host has PERF_METRICS, guest PERF_CAPABILITIES bit 15 clear",
    });
    expect(r.controls.primaryBits).toContain("CPU_BASED_RDPMC_EXITING");
    const withMetrics = explain({ ...LEAK, kvm: "fix", perfCaps: 0xa000n });
    expect(withMetrics.reservedMasks.global_ctrl_rsvd).toBe("0xfffefff0ffffff00");
    expect(withMetrics.perfMetricsSwitch.on).toBe(true);
  });

  it("--pmu legacy: everything exits by R-INT-1, no GLOBAL_CTRL switching", () => {
    const r = explain({ host: "spr", pmu: "legacy", kvm: "legacy" });
    expect(r.policy).toBe("legacy");
    expect(r.msrs.every((m) => m.read === "exit" && m.write === "exit")).toBe(true);
    expect(r.rdpmcExiting.why).toBe("R-INT-1: enable_mediated_pmu is off (LEGACY perf-backed vPMU)");
    expect(r.controls.entry).toEqual([]);
  });

  it("a policy file shows its own rules", () => {
    const p = parsePolicyFile(
      "p.json",
      JSON.stringify({
        name: "rdpmc-metrics",
        extends: "v4",
        rdpmc: { passThroughWhen: ["mediated", "counts-match", "widths-match", "metrics-match"] },
      }),
    );
    if (!p.ok) throw new Error(p.error);
    const r = explain({ ...LEAK, kvm: p.policy });
    expect(r.policy).toBe("rdpmc-metrics");
    expect(r.rdpmcExiting.why).toBe(
      "policy rdpmc-metrics: RDPMC needs metrics-match: R-INT-4: host has PERF_METRICS, guest PERF_CAPABILITIES bit 15 clear",
    );
  });

  it("a mediated code state or policy file without --pmu implies the mediated vPMU; legacy and none do not", () => {
    for (const kvm of ["base", "v4", "fix"]) {
      const r = explain({ host: "spr", kvm });
      expect([r.pmu, r.policy, r.codeState, r.vcpuMediated.on]).toEqual(["mediated", kvm, kvm, true]);
    }
    const p = parsePolicyFile("p.json", JSON.stringify({ name: "mine", extends: "fix" }));
    if (!p.ok) throw new Error(p.error);
    expect([explain({ kvm: p.policy }).pmu, explain({ kvm: p.policy }).policy]).toEqual(["mediated", "mine"]);
    for (const o of [{ kvm: "legacy" }, {}]) {
      const r = explain(o);
      expect([r.pmu, r.policy, r.vcpuMediated.on]).toEqual(["legacy", "legacy", false]);
    }
  });

  it("rejected options are one sentence", () => {
    expect(createMachine({ pmu: "mediated", kvm: "v9" })).toEqual({
      ok: false,
      error: "--kvm v9: expected legacy, base, v4, fix or a policy file (.json)",
    });
    expect(createMachine({ pmu: "mediated", kvm: "legacy" })).toEqual({
      ok: false,
      error: "--kvm legacy has no mediated vPMU: use --pmu legacy",
    });
    expect(createMachine({ pmu: "legacy", kvm: "v4" })).toEqual({
      ok: false,
      error: "--pmu legacy contradicts --kvm v4, a kernel with the mediated vPMU: drop --pmu or use --pmu mediated",
    });
    expect(createMachine({ pmu: "off", kvm: "base" })).toEqual({
      ok: false,
      error: "--pmu off contradicts --kvm base, a kernel with the mediated vPMU: drop --pmu or use --pmu mediated",
    });
    const e = createMachine({ host: "skx", pmu: "mediated", hostMsrs: [{ msr: 0x329, value: 1n }] });
    expect(e).toEqual({ ok: false, error: "--host-msr 0x329: the skx host has no such PMU MSR" });
  });
});
