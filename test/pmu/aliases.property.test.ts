// Property: the two GP counter aliases and the fixed counters against a reference written from the SDM's
// words (model.md §5.7, R-WR-1..4), for every width the guest may be given and arbitrary 64-bit values.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Kvm } from "../../src/kvm/kvm.js";
import { Vmx } from "../../src/vmx/vmx.js";

const u64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });

function vcpu(wGP: number, wFX: number) {
  const v = (Kvm.create({ host: "spr", vendor: new Vmx() }) as Kvm).createVm().createVcpu();
  const eax = (2 | (8 << 8) | (wGP << 16) | (8 << 24)) >>> 0;
  v.setCpuid(v.withCpuidLeaf({ function: 0xa, index: 0, eax, ebx: 0, ecx: 0, edx: 3 | (wFX << 5) }));
  return v;
}

/** Reference: legacy alias (guest) keeps bits 31:0 and copies bit 31 upwards, then the width applies. */
function legacyGuest(value: bigint, w: number): bigint {
  const lo = value & 0xffffffffn;
  const sext = (lo & 0x80000000n) !== 0n ? lo | (0xffffffffn << 32n) : lo;
  return sext & ((1n << BigInt(w)) - 1n);
}

describe("counter write aliases (property)", () => {
  it("legacy alias, full-width alias and fixed counters, guest and host", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 48 }),
        fc.integer({ min: 1, max: 48 }),
        u64,
        fc.boolean(),
        (wGP, wFX, value, host) => {
          const v = vcpu(wGP, wFX);
          const opts = { hostInitiated: host };
          const maskGP = (1n << BigInt(wGP)) - 1n;
          const maskFX = (1n << BigInt(wFX)) - 1n;
          // legacy alias 0xC1: never faults; guest sign-extends, host does not
          expect(v.setMsr(0xc1, value, opts)).toBe(true);
          expect(v.getMsr(0x4c1)).toEqual({ ok: true, value: host ? value & maskGP : legacyGuest(value, wGP) });
          // full-width alias 0x4C1: faults on any bit at or above the width, for guest and host
          const fits = (value & ~maskGP) === 0n;
          expect(v.setMsr(0x4c2, value, opts)).toBe(fits);
          if (fits) expect(v.getMsr(0xc2)).toEqual({ ok: true, value });
          // fixed counters truncate
          expect(v.setMsr(0x30a, value, opts)).toBe(true);
          expect(v.getMsr(0x30a)).toEqual({ ok: true, value: value & maskFX });
        },
      ),
      { numRuns: 300, seed: 4242 },
    );
  });
});
