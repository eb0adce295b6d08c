// The recorded steps of load and put (model.md §12.1, §12.2, P-8, P-9): order and what is skipped.
import { describe, expect, it } from "vitest";
import { LEAK_MODEL, setupGuest } from "./guest.js";

const HLT = new Uint8Array([0xf4]);
const ids = (steps: readonly { phase: string; step: string }[]) =>
  steps.map((s) => s.step).filter((s, i, a) => a[i - 1] !== s);

describe("mediated load/put steps", () => {
  it("guest with PERF_METRICS (V4): load writes 0x329 after the fixed counters (P-8); put reads it before zeroing them (P-9)", () => {
    const g = setupGuest(HLT, { ...LEAK_MODEL, perfCaps: 0xa000n });
    const L = g.layer;
    g.vcpu.pmu.perfMetrics = 0x1122n;
    g.vcpu.pmu.fixed[3].counter = 7;
    L.enterGuest();
    const load = L.switchLog[0];
    expect(load.kind).toBe("load");
    // 8.2 writes nothing: hardware GLOBAL_STATUS already equals the saved 0.
    expect(ids(load.steps)).toEqual(["2", "3", "4", "5", "6", "7", "8.1", "8.3"]);
    expect(load.steps.filter((s) => s.step === "6").map((s) => s.text)).toEqual(["WRMSR 0x30c := 0x7"]);
    expect(load.steps.filter((s) => s.step === "8.1").map((s) => s.text)).toEqual(["WRMSR 0x329 := 0x1122"]);
    expect(L.phys.rdmsr(0x329)).toBe(0x1122n);
    expect(L.phys.owner(0x329)).toEqual({ owner: "vcpu:0", source: "load step 8.1" });
    L.vmExit(10, 0);
    const put = L.switchLog[1];
    expect(put.kind).toBe("put");
    expect(ids(put.steps)).toEqual(["1.1", "1.3", "2", "3", "4", "5"]);
    expect(put.steps.filter((s) => s.step === "1.3").map((s) => s.text)).toEqual([
      "perf_metrics := RDPMC(0x20000000) = 0x1122",
      "WRMSR 0x329 := 0x0",
    ]);
    expect(L.phys.rdmsr(0x329)).toBe(0n);
    expect(L.phys.owner(0x329)).toEqual({ owner: "host", source: "put step 1.3" });
    expect(g.vcpu.pmu.perfMetrics).toBe(0x1122n);
  });

  it("guest without PERF_METRICS: load and put leave 0x329 alone, so a host value stays (the §14 hole)", () => {
    const g = setupGuest(HLT, LEAK_MODEL);
    const L = g.layer;
    L.enterGuest();
    expect(L.switchLog[0].steps.filter((s) => s.step === "8.1").map((s) => s.text)).toEqual([
      "guest has no PERF_METRICS: 0x329 not written (P-8)",
    ]);
    L.vmExit(10, 0);
    expect(L.switchLog[1].steps.filter((s) => s.step === "1.3").map((s) => s.text)).toEqual([
      "guest has no PERF_METRICS: 0x329 neither read nor scrubbed (P-9)",
    ]);
    expect(L.phys.rdmsr(0x329)).toBe(0x8899aabb11223344n);
    expect(L.phys.owner(0x329)).toEqual({ owner: "host", source: "--host-msr" });
  });

  it("counters already equal are adopted, not written; GLOBAL_STATUS is synced through OVF_CTRL / STATUS_SET", () => {
    const g = setupGuest(HLT, { ...LEAK_MODEL, activity: "counting" });
    const L = g.layer;
    g.vcpu.pmu.globalStatus = 0x2n;
    L.phys.wrmsr(0x391, 0x1n, { owner: "host", source: "test" });
    L.enterGuest();
    const s = L.switchLog[0].steps;
    // Host counting left non-zero GP counters: every guest counter (saved 0) is rewritten.
    expect(s.filter((x) => x.step === "5" && x.text.startsWith("WRMSR 0x4c")).length).toBe(8);
    expect(s.filter((x) => x.step === "8.2").map((x) => x.text)).toEqual(["WRMSR 0x390 := 0x1", "WRMSR 0x391 := 0x2"]);
    expect(L.phys.rdmsr(0x38e)).toBe(0x2n);
    // FC0–FC2 were host-owned and non-zero; FC3 was 0 = the saved value: adopted, no write.
    expect(s.filter((x) => x.step === "6").map((x) => x.text)).toEqual([
      "WRMSR 0x309 := 0x0",
      "WRMSR 0x30a := 0x0",
      "WRMSR 0x30b := 0x0",
    ]);
    expect(L.phys.owner(0x30c)).toEqual({ owner: "vcpu:0", source: "load step 6 (hardware already equal, no write)" });
  });
});
