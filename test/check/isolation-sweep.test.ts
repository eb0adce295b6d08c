// model.md §12.3: I-1..I-4 asserted after every load and put (IsolationChecker.invariants) across the host presets,
// a sweep of guest models and the three mediated code states, with host perf leaving values in hardware.
import { describe, expect, it } from "vitest";
import { HOST_PRESETS } from "../../src/host/presets.js";
import { nasmFile, ROOT, setupGuest, type GuestModel } from "../vmx/guest.js";

const image = nasmFile(ROOT + "programs/mediated/count-legacy.s");
const H = 0x8899aabb11223344n;

describe("isolation invariants I-1..I-4 over presets × guest models × code states", () => {
  for (const host of HOST_PRESETS) {
    it(`host ${host.id}`, () => {
      let runs = 0;
      let leaks = 0;
      const capsList = host.perfMetrics ? [0x2000n, 0xa000n] : [0x2000n];
      for (const policy of ["base", "v4", "fix"]) {
        for (const version of [0, 1, 2]) {
          for (const nGP of [0, 2, host.nGP]) {
            for (const nFX of version >= 2 ? [0, 3, host.nFX] : [0]) {
              for (const wGP of nGP === host.nGP ? [40, host.wGP] : [host.wGP]) {
                for (const caps of capsList) {
                  if (caps & 0x8000n && policy === "base") continue; // BASE never offers PERF_METRICS (P-1)
                  const m: GuestModel = {
                    host: host.id,
                    policy,
                    mediated: true,
                    version,
                    nGP,
                    wGP,
                    nFX,
                    wFX: host.wFX,
                    perfCaps: caps,
                    activity: "counting",
                    hostMsrs: host.perfMetrics ? [{ msr: 0x329, value: H }] : [],
                  };
                  const g = setupGuest(image, m);
                  g.vcpu.run({ maxInstructions: 200_000 });
                  runs++;
                  const cap = g.vcpu.pmu; // what KVM realised (clamped)
                  const exact =
                    cap.version >= 2 &&
                    cap.nGP === host.nGP &&
                    cap.nFX === host.nFX &&
                    cap.wGP === host.wGP &&
                    cap.wFX === host.wFX;
                  const leaky = policy === "v4" && host.perfMetrics && exact && (caps & 0x8000n) === 0n;
                  const kinds = [...new Set(g.checker.violations.map((v) => `${v.invariant} ${v.register}`))];
                  const label = `${policy} v${version} ${nGP}x${wGP} ${nFX} caps ${caps.toString(16)}`;
                  expect(kinds, label).toEqual(leaky ? ["I-4 MSR_PERF_METRICS (0x329)"] : []);
                  for (const v of g.checker.violations)
                    expect([v.owner, v.source, v.value], label).toEqual(["host", "--host-msr", H]);
                  // The guest program reads no PERF_METRICS: no leak happens, only the exposure (I-4).
                  expect(g.checker.leaks, label).toEqual([]);
                  if (g.layer.sw.loads > 0) expect(g.layer.sw.puts, label).toBe(g.layer.sw.loads);
                  if (leaky) leaks++;
                }
              }
            }
          }
        }
      }
      expect(runs).toBeGreaterThan(40);
      expect(leaks).toBe(host.perfMetrics ? 1 : 0);
    });
  }
});
