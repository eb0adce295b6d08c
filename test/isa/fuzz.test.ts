// Fuzz: random byte images never throw a host exception; every run ends in #UD/triple fault, HLT,
// an exit, the instruction limit, or a fetch from unwritten memory, deterministically.
import { expect, test } from "vitest";
import fc from "fast-check";
import { Guest } from "../../src/vmm/guest.js";

function runImage(bytes: Uint8Array) {
  const g = Guest.create(bytes, 0x1000, { memSize: 64 * 1024, maxInsns: 20_000 });
  if ("error" in g) throw new Error(g.error);
  for (let i = 0; i < 1000; i++) {
    const r = g.runChunk(5000);
    if (r) return r;
  }
  throw new Error("did not stop");
}

test("random images end cleanly and deterministically", () => {
  const stops = new Set<string>();
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 1, maxLength: 256 }), (bytes) => {
      const a = runImage(bytes);
      expect(["ud", "triple-fault", "halted", "exit", "insn-limit", "unwritten"]).toContain(a.stop);
      const b = runImage(bytes);
      expect(b).toEqual(a);
      stops.add(a.stop);
    }),
    { numRuns: 400, seed: 1234 },
  );
  // The generator reaches more than one kind of ending (the test is not vacuous).
  expect(stops.size).toBeGreaterThanOrEqual(3);
});

test("images biased to real opcodes (prefixes, 0F map, ModRM forms) end cleanly", () => {
  const interesting = [
    0x0f, 0x48, 0x66, 0x67, 0xf3, 0x41, 0xff, 0xcf, 0xc3, 0xe8, 0xcc, 0xf4, 0x31, 0xc0, 0x8f, 0x9d, 0x01, 0x22, 0x20,
    0xa2,
  ];
  fc.assert(
    fc.property(
      fc.array(fc.oneof(fc.constantFrom(...interesting), fc.integer({ min: 0, max: 255 })), {
        minLength: 1,
        maxLength: 128,
      }),
      (arr) => {
        const r = runImage(Uint8Array.from(arr));
        expect(["ud", "triple-fault", "halted", "exit", "insn-limit", "unwritten"]).toContain(r.stop);
      },
    ),
    { numRuns: 400, seed: 99 },
  );
});
