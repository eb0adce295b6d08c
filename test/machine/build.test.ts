// buildMachine with the guest's vPMU model makes one KVM_SET_CPUID2 (the TSC-deadline bit and leaf 0xA /
// PDCM together, as QEMU does): the machine ends exactly — every field of KVM, the vCPU, the VMX layer, the
// physical PMU and the checker — as after buildMachine without it and setGuestPmu's own KVM_SET_CPUID2
// (the way `vpmu run` builds), over the sweep's default matrix; and a refusal is the same refusal.
import { expect, test } from "vitest";
import { findHostActivity } from "../../src/host/activity.js";
import { findHostPreset } from "../../src/host/presets.js";
import { buildMachine, setGuestPmu } from "../../src/machine/index.js";
import { DEFAULT_MATRIX, expandMatrix, lookupPolicy, sweepMachineSpec } from "../../src/sweep/index.js";
import { deepDiff } from "../deep-state.js";

// Generation counts, not state: KvmPmu.saved.n (reached first as a counter's `writes`) and hwGeneration
// count stores and recalcs, and are only compared for equality with the count remembered at the last
// mediated load/put (src/pmu/mediated.ts; every remembered count starts at -1, so the first switch
// visits everything). The second KVM_SET_CPUID2 refreshes once more and counts higher.
const GENERATIONS = /\.(saved|writes)\.n$|\.hwGeneration$/;

test("one KVM_SET_CPUID2 with the guest's model leaves the machine exactly as two", () => {
  const configs = expandMatrix(DEFAULT_MATRIX);
  let built = 0,
    refused = 0;
  // Every 7th configuration: all hosts, PMU modes, code states, shapes and caps come by.
  for (let i = 0; i < configs.length; i += 7) {
    const c = configs[i]!;
    const spec = sweepMachineSpec(
      c,
      findHostPreset(c.host)!,
      lookupPolicy(c.kvm, new Map())!,
      findHostActivity(c.activity)!,
      { invariants: i % 2 === 0 },
    );
    const one = buildMachine(spec);
    const two = buildMachine({ ...spec, guest: undefined });
    if (!two.ok) throw new Error(`configuration ${i}: the machine without a guest model is refused`);
    const set = setGuestPmu(two.value.vcpu, spec.guest!);
    if (!one.ok) {
      refused++;
      expect(set.ok ? null : set.error, `configuration ${i}`).toEqual(one.error);
      continue;
    }
    built++;
    expect(set.ok, `configuration ${i}`).toBe(true);
    expect(deepDiff(one.value, two.value, { ignore: (p) => GENERATIONS.test(p) }), `configuration ${i}`).toBeNull();
  }
  expect(built).toBeGreaterThan(400);
  expect(refused).toBeGreaterThan(50);
});
