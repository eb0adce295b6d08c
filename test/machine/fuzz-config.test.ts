// Fuzz (issue 15 Evidence): random machine configurations, valid and not, through the library API.
// A configuration is either refused with one sentence, or builds a machine on which a guest touching the
// PMU (CPUID 0xA, RDPMC, RDMSR/WRMSR of PMU MSRs) and then random bytes runs to a stop reason — never
// an exception — and the same configuration gives the same result twice.
import fc from "fast-check";
import { expect, test } from "vitest";
import { assemble } from "../../src/asm/index.js";
import { createMachine, loadGuest, runToEnd, type MachineOptions } from "../../src/machine/index.js";

const PROBE = assemble(`
  mov eax, 0xa
  cpuid
  xor ecx, ecx
  rdpmc
  mov ecx, 0x40000000
  rdpmc
  mov ecx, 0x38f
  rdmsr
  mov eax, 0xff
  xor edx, edx
  wrmsr
  mov ecx, 0x186
  mov eax, 0x4300c0
  wrmsr
  mov ecx, 0x329
  rdmsr
`);
if (!PROBE.ok) throw new Error("probe program does not assemble");
const probeBytes = PROBE.value.bytes;

const pick = <T>(xs: readonly T[]) => fc.constantFrom(...xs);
const wild: fc.Arbitrary<MachineOptions> = fc.record(
  {
    host: pick(["skx", "icx", "spr", "gnr", "zen", ""]),
    pmu: pick(["legacy", "mediated", "off", "bogus"] as const) as fc.Arbitrary<MachineOptions["pmu"]>,
    kvm: pick(["legacy", "base", "v4", "fix", "v9"]),
    pmuVersion: fc.integer({ min: -1, max: 7 }),
    gp: fc.integer({ min: -2, max: 20 }),
    gpWidth: fc.integer({ min: -1, max: 70 }),
    fixed: fc.integer({ min: -1, max: 8 }),
    fixedWidth: fc.integer({ min: -1, max: 70 }),
    perfCaps: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
    noPdcm: fc.boolean(),
    tsx: fc.boolean(),
    hostActivity: pick(["idle", "counting", "sampling", "nope"]),
    checkIsolation: fc.boolean(),
    vmwareBackdoor: fc.boolean(),
    forceEmulationPrefix: fc.boolean(),
  },
  { requiredKeys: [] },
);

// Mostly meaningful values, so that many configurations build a machine.
const plausible: fc.Arbitrary<MachineOptions> = fc.record(
  {
    host: pick(["skx", "icx", "spr", "gnr"]),
    pmu: pick(["legacy", "mediated", "off"] as const) as fc.Arbitrary<MachineOptions["pmu"]>,
    kvm: pick(["legacy", "base", "v4", "fix"]),
    gp: fc.integer({ min: 0, max: 8 }),
    fixed: fc.integer({ min: 0, max: 4 }),
    tsx: fc.boolean(),
    hostActivity: pick(["idle", "topdown", "counting"]),
    checkIsolation: fc.boolean(),
    vmwareBackdoor: fc.boolean(),
    forceEmulationPrefix: fc.boolean(),
  },
  { requiredKeys: [] },
);
const options = fc.oneof(wild, plausible);

type Outcome = { refused: string } | { stop: string; status: number; console: string; exits: number };

function attempt(o: MachineOptions, tail: Uint8Array): Outcome {
  const m = createMachine(o);
  if (!m.ok) return { refused: m.error };
  const image = new Uint8Array(probeBytes.length + tail.length);
  image.set(probeBytes);
  image.set(tail, probeBytes.length);
  const g = loadGuest(m.value, image, 0x100000, { maxInsns: 5_000 });
  if ("error" in g) return { refused: g.error };
  const r = runToEnd(g, 1_000);
  return { stop: r.stop, status: r.status, console: r.console, exits: m.value.vcpu.exitTotal };
}

test("random configurations are refused in one sentence or run to a stop reason, deterministically", () => {
  let refused = 0,
    ran = 0;
  fc.assert(
    fc.property(options, fc.uint8Array({ maxLength: 64 }), (o, tail) => {
      const a = attempt(o, tail);
      if ("refused" in a) {
        refused++;
        expect(a.refused).not.toContain("\n");
        expect(a.refused.length).toBeGreaterThan(10);
      } else {
        ran++;
        expect(["ud", "triple-fault", "halted", "exit", "insn-limit", "unwritten"]).toContain(a.stop);
      }
      expect(attempt(o, tail)).toEqual(a);
    }),
    { numRuns: 150, seed: 4242 },
  );
  // Both sides are reached (the test is not vacuous).
  expect(refused).toBeGreaterThan(10);
  expect(ran).toBeGreaterThan(10);
});
