import { describe, expect, it } from "vitest";
import { findHostPreset, type HostPreset } from "../../src/host/presets.js";
import {
  findPolicy,
  parsePolicyFile,
  type GuestPmuView,
  type InterceptPlan,
  type ModuleParams,
} from "../../src/vmx/policies/index.js";

const spr = findHostPreset("spr") as HostPreset;
const skx = findHostPreset("skx") as HostPreset;
/** Module parameters; each plan adds the code state its policy names (the machine builds KVM with it). */
const mediated: Omit<ModuleParams, "codeState"> = {
  enablePmu: true,
  enableMediatedPmu: true,
  enableVmwareBackdoor: false,
};
/** model.md §14.4 guest: v2, 8×48 GP, 4×48 fixed, PDCM, caps = FW_WRITES only. */
const leakGuest: GuestPmuView = { version: 2, nGP: 8, wGP: 48, nFX: 4, wFX: 48, perfCapabilities: 1n << 13n };
const withMetrics: GuestPmuView = { ...leakGuest, perfCapabilities: (1n << 13n) | (1n << 15n) };

function plan(id: string, guest: GuestPmuView, host = spr, params = mediated): InterceptPlan {
  const policy = findPolicy(id)!;
  return policy.plan({ params: { ...params, codeState: policy.codeState }, host, guest });
}
function exitsOf(p: InterceptPlan, msr: number): [boolean, boolean] {
  return [p.bitmap.exits(msr, false), p.bitmap.exits(msr, true)];
}

describe("kernel policies (model.md §11.6, R-INT-1..5)", () => {
  it("V4 on SPR with the §14.4 guest: RDPMC native, globals pass, 0x329 intercepted", () => {
    const p = plan("v4", leakGuest);
    expect(p.vcpuMediated.intercept).toBe(false);
    expect(p.rdpmcExiting).toEqual({
      intercept: false,
      rule: "R-INT-5: mediated, guest counters match the host exactly (8×48-bit GP, 4×48-bit fixed)",
    });
    expect(exitsOf(p, 0x38f)).toEqual([false, false]);
    expect(exitsOf(p, 0x38e)).toEqual([false, false]);
    expect(exitsOf(p, 0x390)).toEqual([false, false]);
    expect(exitsOf(p, 0x329)).toEqual([true, true]);
    expect(p.msrs.find((m) => m.index === 0x329)!.read.rule).toBe("P-4: guest PERF_CAPABILITIES bit 15 clear");
    expect(exitsOf(p, 0xc1)).toEqual([false, false]);
    expect(exitsOf(p, 0x4c8)).toEqual([false, false]);
    expect(exitsOf(p, 0x30c)).toEqual([false, false]);
    expect(exitsOf(p, 0x186)).toEqual([true, true]);
    expect(exitsOf(p, 0x38d)).toEqual([true, true]);
    expect(exitsOf(p, 0x345)).toEqual([true, true]);
    expect(exitsOf(p, 0x391)).toEqual([true, true]);
    expect(p.kvmMaxFixed).toBe(4);
    expect(p.perfMetricsSwitch.intercept).toBe(true);
  });

  it("FIX closes it with R-INT-4 for RDPMC and the globals", () => {
    const p = plan("fix", leakGuest);
    expect(p.rdpmcExiting).toEqual({
      intercept: true,
      rule: "R-INT-4: host has PERF_METRICS, guest PERF_CAPABILITIES bit 15 clear",
    });
    expect(exitsOf(p, 0x38f)).toEqual([true, true]);
    expect(p.msrs.find((m) => m.index === 0x38f)!.write.rule).toBe(
      "R-INT-4: host has PERF_METRICS, guest PERF_CAPABILITIES bit 15 clear",
    );
    expect(exitsOf(p, 0xc1)).toEqual([false, false]);
  });

  it("FIX regression guard: guest with bit 15 keeps native RDPMC and 0x329 pass-through", () => {
    const p = plan("fix", withMetrics);
    expect(p.rdpmcExiting.intercept).toBe(false);
    expect(exitsOf(p, 0x329)).toEqual([false, false]);
    expect(exitsOf(p, 0x38f)).toEqual([false, false]);
    expect(p.perfMetricsSwitch.intercept).toBe(false);
  });

  it("control cases: nFX 3 or wGP 40 intercept RDPMC already under V4", () => {
    expect(plan("v4", { ...leakGuest, nFX: 3 }).rdpmcExiting).toEqual({
      intercept: true,
      rule: "R-INT-5: guest nFX 3 ≠ host nFX 4",
    });
    expect(plan("v4", { ...leakGuest, wGP: 40 }).rdpmcExiting).toEqual({
      intercept: true,
      rule: "R-INT-5: guest GP width 40 ≠ host GP width 48",
    });
    // Widths are not compared for the globals (R-INT-3).
    expect(exitsOf(plan("v4", { ...leakGuest, wGP: 40 }), 0x38f)).toEqual([false, false]);
    const p = plan("v4", { ...leakGuest, nFX: 3, nGP: 4 });
    expect(exitsOf(p, 0xc5)).toEqual([true, true]);
    expect(exitsOf(p, 0xc4)).toEqual([false, false]);
    expect(p.msrs.find((m) => m.index === 0xc5)!.read.rule).toBe(
      "R-INT-2: GP counter 4 not exposed (nGP 4); hardware may hold host values",
    );
    expect(exitsOf(p, 0x30c)).toEqual([true, true]);
    expect(exitsOf(p, 0x30b)).toEqual([false, false]);
  });

  it("BASE caps fixed counters at 3, so an FC3 host never gets native RDPMC (§6.1)", () => {
    const p = plan("base", { ...leakGuest, nFX: 3 });
    expect(p.kvmMaxFixed).toBe(3);
    expect(p.rdpmcExiting.rule).toBe("R-INT-5: guest nFX 3 ≠ host nFX 4");
    expect(p.msrs.map((m) => m.index).includes(0x30c)).toBe(false);
    expect(exitsOf(p, 0x329)).toEqual([true, true]);
    expect(exitsOf(p, 0x30c)).toEqual([true, true]);
  });

  it("LEGACY and mediated-off intercept everything (R-INT-1); version 0 is not mediated (R-MED-2)", () => {
    for (const p of [
      plan("legacy", leakGuest),
      plan("v4", leakGuest, spr, { ...mediated, enableMediatedPmu: false }),
    ]) {
      expect(p.rdpmcExiting.rule).toBe("R-INT-1: enable_mediated_pmu is off (LEGACY perf-backed vPMU)");
      expect(p.bitmap.bytes.every((b) => b === 0xff)).toBe(true);
      expect(p.globalCtrlSwitch.intercept).toBe(true);
    }
    const v0 = plan("v4", { ...leakGuest, version: 0, nGP: 0, nFX: 0 });
    expect(v0.vcpuMediated.rule).toBe("R-MED-2: guest PMU version 0, vCPU not mediated");
    expect(v0.bitmap.bytes.every((b) => b === 0xff)).toBe(true);
  });

  it("VMware backdoor forces RDPMC exiting; FW_WRITES gates the full-width alias", () => {
    expect(plan("v4", leakGuest, spr, { ...mediated, enableVmwareBackdoor: true }).rdpmcExiting.rule).toBe(
      "R-INT-5: enable_vmware_backdoor forces RDPMC exiting",
    );
    const p = plan("v4", { ...leakGuest, perfCapabilities: 0n });
    expect(exitsOf(p, 0x4c1)).toEqual([true, true]);
    expect(exitsOf(p, 0xc1)).toEqual([false, false]);
  });

  it("SKX (3 fixed, no metrics): V4 and FIX agree", () => {
    const g: GuestPmuView = { version: 2, nGP: 4, wGP: 48, nFX: 3, wFX: 48, perfCapabilities: 1n << 13n };
    expect(plan("v4", g, skx).rdpmcExiting.intercept).toBe(false);
    expect(plan("fix", g, skx).rdpmcExiting.intercept).toBe(false);
    expect(plan("fix", g, skx).kvmMaxFixed).toBe(3);
  });
});

describe("policy files", () => {
  const fixAsFile = JSON.stringify({
    name: "my-fix",
    extends: "v4",
    rdpmc: { passThroughWhen: ["mediated", "counts-match", "widths-match", "no-vmware-backdoor", "metrics-match"] },
    msrs: [
      {
        msr: "0x38e-0x390",
        access: "rw",
        passThroughWhen: ["mediated", "version>=2", "counts-match", "metrics-match"],
      },
    ],
  });

  it("a file policy reproducing FIX gives FIX's bitmap and RDPMC decision", () => {
    const r = parsePolicyFile("fix.json", fixAsFile);
    if (!r.ok) throw new Error(r.error);
    const mine = r.policy.plan({ params: { ...mediated, codeState: r.policy.codeState }, host: spr, guest: leakGuest });
    const fix = plan("fix", leakGuest);
    expect([...mine.bitmap.bytes]).toEqual([...fix.bitmap.bytes]);
    expect(mine.rdpmcExiting).toEqual({
      intercept: true,
      rule: "policy my-fix: RDPMC needs metrics-match: R-INT-4: host has PERF_METRICS, guest PERF_CAPABILITIES bit 15 clear",
    });
    const ok = r.policy.plan({ params: { ...mediated, codeState: r.policy.codeState }, host: spr, guest: withMetrics });
    expect(ok.rdpmcExiting).toEqual({
      intercept: false,
      rule: "policy my-fix: RDPMC passes when [mediated, counts-match, widths-match, no-vmware-backdoor, metrics-match]: all hold",
    });
  });

  it("access r/w split and MSRs outside the kernel list", () => {
    const r = parsePolicyFile(
      "p.json",
      JSON.stringify({
        name: "p",
        extends: "base",
        msrs: [
          { msr: "0x38d", access: "r", passThroughWhen: ["mediated"] },
          { msr: "0x10", passThroughWhen: [] },
        ],
      }),
    );
    if (!r.ok) throw new Error(r.error);
    const p = r.policy.plan({ params: { ...mediated, codeState: r.policy.codeState }, host: spr, guest: leakGuest });
    expect(p.bitmap.exits(0x38d, false)).toBe(false);
    expect(p.bitmap.exits(0x38d, true)).toBe(true);
    expect(p.bitmap.exits(0x10, false)).toBe(false);
    expect(p.msrs.find((m) => m.index === 0x10)!.name).toBe("MSR 0x10");
  });

  it("rejects bad files with one sentence naming the file and the field", () => {
    const cases: [string, string][] = [
      ["{", "bad.json: not valid JSON"],
      ["[]", "bad.json: (top level): expected a JSON object"],
      [
        JSON.stringify({ name: "x", extends: "v5" }),
        'bad.json: extends: expected "base", "v4" or "fix" (the kernel code state the policy starts from)',
      ],
      [JSON.stringify({ extends: "v4" }), "bad.json: name: expected a name of 1–64 letters, digits, '.', '_' or '-'"],
      [
        JSON.stringify({ name: "x", extends: "v4", colour: 1 }),
        "bad.json: colour: unknown field (expected one of: name, description, extends, features, rdpmc, msrs)",
      ],
      [
        JSON.stringify({ name: "x", extends: "v4", rdpmc: { passThroughWhen: ["mediated", "fast"] } }),
        'bad.json: rdpmc.passThroughWhen[1]: unknown condition "fast"',
      ],
      [
        JSON.stringify({ name: "x", extends: "v4", msrs: [{ msr: "38f", passThroughWhen: [] }] }),
        'bad.json: msrs[0].msr: "38f" is not a hex MSR index',
      ],
      [
        JSON.stringify({ name: "x", extends: "v4", msrs: [{ msr: "0x4b564d00", passThroughWhen: [] }] }),
        "bad.json: msrs[0].msr: 0x4b564d00 is outside the MSR bitmap ranges",
      ],
      [
        JSON.stringify({ name: "x", extends: "v4", msrs: [{ msr: "0xc8-0xc1", passThroughWhen: [] }] }),
        "bad.json: msrs[0].msr: range 0xc8-0xc1 ends before it starts",
      ],
      [
        JSON.stringify({ name: "x", extends: "v4", msrs: [{ msr: "0xc1", access: "x", passThroughWhen: [] }] }),
        'bad.json: msrs[0].access: expected "r", "w" or "rw"',
      ],
      [
        JSON.stringify({ name: "x", extends: "v4", msrs: [{ msr: "0xc1" }] }),
        "bad.json: msrs[0].passThroughWhen: expected an array of condition names",
      ],
    ];
    for (const [text, start] of cases) {
      const r = parsePolicyFile("bad.json", text);
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.error.startsWith(start), `${r.error} should start with ${start}`).toBe(true);
    }
  });
});
