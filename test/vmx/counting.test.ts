import { describe, expect, it } from "vitest";
import { exitSummary, nasmFile, ROOT, setupGuest, type GuestModel } from "./guest.js";

const image = nasmFile(ROOT + "programs/mediated/count-legacy.s");

function run(m: GuestModel) {
  const g = setupGuest(image, m);
  const exit = g.vcpu.run({ maxInstructions: 1_000_000 });
  return { ...g, exit };
}

describe("mediated counting equals legacy counting, exactly", () => {
  it("the same guest gives the same counts under LEGACY, BASE, V4 and FIX", () => {
    const legacy = run({ policy: "legacy", mediated: false });
    expect(legacy.exit).toEqual({ reason: "io", port: 0xf4, value: 0 });
    const text = legacy.io.text;
    // 1 enabling WRMSR + mov + 1000 × (cmp, jne, dec, jnz) + push/xor/cpuid/pop + 3 movs/xors = 4009.
    expect(text).toBe(
      "INFO: count: gp0 instructions (rdmsr): 0x0000000000000fa9\n" +
        "PASS: count: rdpmc 0 equals rdmsr 0xc1\n" +
        "INFO: count: gp1 branches (rdmsr): 0x00000000000007d0\n" +
        "PASS: count: fc0 equals gp0 (both instructions retired)\n" +
        "INFO: count: fc1 core cycles (rdpmc): 0x0000000000000fe3\n" +
        "SUMMARY: 2 tests\n",
    );
    // BASE (nFX 3 ≠ 4) and FIX (R-INT-4) intercept GLOBAL_CTRL: even the cycles match LEGACY.
    for (const policy of ["base", "fix"]) {
      const r = run({ policy, mediated: true, perfCaps: 0x2000n });
      expect(r.io.text, policy).toBe(text);
      expect(r.checker.violations, policy).toEqual([]);
      expect(r.checker.leaks, policy).toEqual([]);
      expect(r.layer.sw.loads, policy).toBeGreaterThan(1);
    }
    // V4 with the exact match passes GLOBAL_CTRL through: the enabling WRMSR retires natively and its
    // cycles count (0xfe3 + the WRMSR cost); instruction and branch counts are unchanged.
    const v4 = run({ policy: "v4", mediated: true, perfCaps: 0x2000n, nGP: 8, nFX: 4 });
    expect(v4.io.text).toBe(text.replace("0x0000000000000fe3", "0x0000000000001015"));
    // I-4: the host's power-on values are not host data; nothing else is reachable and host-owned.
    expect(v4.checker.violations).toEqual([]);
  });

  it("under V4 with an exact match the counter reads pass through: only CPUID and the control writes exit", () => {
    const r = run({ policy: "v4", mediated: true, perfCaps: 0x2000n, nGP: 8, nFX: 4 });
    const pmu = exitSummary(r.vcpu).filter((l) => !l.startsWith("IO_INSTRUCTION"));
    expect(pmu).toEqual(["MSR_WRITE 0x186 ok", "MSR_WRITE 0x187 ok", "MSR_WRITE 0x38d ok", "CPUID ok"]);
  });
});
