// A VM exit that puts the guest context counts the native events up to the exit but leaves the physical PMU's
// counting base (PhysicalPmu.rebase) to the next VM entry (issue 16, W4: VmxLayer.vmExit). That is exact only if
// nothing syncs the physical PMU between such an exit and the next entry: a sync there would count from the
// previous entry's base, the interval up to the exit a second time. This checks the order on guests with every
// kind of exit the programs make (intercepted MSR accesses, I/O to userspace, HLT, CPUID, PMIs, host perf
// activity): after each put, the physical PMU's next sync or rebase is the entry's rebase.
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { GuestModel } from "./guest.js";
import { nasmFile, ROOT, setupGuest } from "./guest.js";

const CASES: [string, GuestModel][] = [
  [
    "programs/mediated/metrics-scrubbed.s",
    { policy: "v4", perfCaps: 0xa000n, hostMsrs: [{ msr: 0x329, value: 0x8899aabb11223344n }] },
  ],
  ["programs/mediated/pmi-base.s", { policy: "base" }],
  ["programs/mediated/pmi-masked.s", { policy: "base" }],
  ["programs/mediated/count-v4.s", { policy: "v4", perfCaps: 0x2000n, nGP: 8, nFX: 4 }],
  ["programs/mediated/count-fix.s", { policy: "fix", perfCaps: 0x2000n }],
  ["programs/mediated/long-run.s", { policy: "v4", perfCaps: 0x2000n }],
  ["programs/mediated/rdmsr-loop.s", { policy: "fix" }],
  ["programs/mediated/unexposed-counters.s", { policy: "v4", perfCaps: 0x2000n, activity: "counting" }],
];

describe("after a put, nothing syncs the physical PMU before the next VM entry rebases it", () => {
  for (const [prog, model] of CASES) {
    it(prog, () => {
      const g = setupGuest(nasmFile(join(ROOT, prog)), { host: "spr", mediated: true, ...model }, false);
      const phys = g.layer.phys;
      const trace: string[] = [];
      const sync = phys.sync.bind(phys);
      const rebase = phys.rebase.bind(phys);
      const put = g.layer.sw.put.bind(g.layer.sw);
      phys.sync = (e, cpl) => {
        trace.push("sync");
        sync(e, cpl);
      };
      phys.rebase = (e, cpl) => {
        trace.push("rebase");
        rebase(e, cpl);
      };
      g.layer.sw.put = (pmu) => {
        if (g.layer.sw.loaded) trace.push("put");
        put(pmu);
      };
      for (let i = 0; i < 200; i++) {
        const r = g.vcpu.run({ maxInstructions: 2_000_000 });
        if (r.reason !== "io" || g.io.status !== null) break;
      }
      const puts = trace.filter((t) => t === "put").length;
      expect(puts).toBeGreaterThan(3);
      // The first sync or rebase after each put.
      const next: string[] = [];
      for (let i = 0; i < trace.length; i++) {
        if (trace[i] !== "put") continue;
        const j = trace.findIndex((t, k) => k > i && (t === "sync" || t === "rebase"));
        if (j >= 0) next.push(trace[j]!);
      }
      expect(new Set(next)).toEqual(new Set(["rebase"]));
    });
  }
});
