// The physical PMU's WRMSR and the selector decode run on 32-bit halves (issue 16: no bigint per write);
// these properties hold them to the bigint formulation they replaced, value for value, on every preset.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { EventSource, sourceOfEvent } from "../../src/arch/arch-events.js";
import { shapedSource } from "../../src/host/event-counts.js";
import { PhysicalPmu } from "../../src/host/physical-pmu.js";
import { HOST_PRESET_IDS, findHostPreset, type HostPreset } from "../../src/host/presets.js";

const M64 = 0xffffffffffffffffn;

/** The bigint WRMSR the register file had before (kept here as the reference). */
function referenceWrmsr(ph: PhysicalPmu, msr: number, value: bigint, p: number): boolean {
  const c = ph.canonical(msr);
  if (c < 0) return false;
  if (value < 0n || value > M64) value &= M64;
  if (c >= 0xc1 && c < 0xc1 + ph.nGP) {
    const mask = BigInt(ph.gpMask);
    let v: bigint;
    if (msr === c) v = BigInt.asIntN(32, value) & mask;
    else if (value & ~mask) return false;
    else v = value;
    ph.writeGp(c - 0xc1, Number(v), p);
    return true;
  }
  if (c >= 0x186 && c < 0x186 + ph.nGP) {
    if (value >= 1n << 35n) return false;
    ph.writeSel(c - 0x186, Number(value), p);
    return true;
  }
  if (c >= 0x309 && c < 0x309 + ph.nFX) {
    ph.writeFixed(c - 0x309, Number(value & BigInt(ph.fxMask)), p);
    return true;
  }
  const lo = Number(value & 0xffffffffn);
  const hi = Number(value >> 32n);
  switch (c) {
    case 0x38d:
      ph.writeFixedCtrCtrl(lo, hi, p);
      return true;
    case 0x38f:
      if ((value & ~ph.globalCtrlBits) !== 0n) return false;
      ph.writeGlobalCtrl(lo, hi, p);
      return true;
    case 0x390:
      ph.clearStatus(lo, hi, p);
      return true;
    case 0x391:
      ph.setStatus(lo, hi, p);
      return true;
    case 0x329:
      ph.writePerfMetrics(lo, hi, p);
      return true;
  }
  return false;
}

/** The bigint selector shaping the decode had before. */
function referenceShaped(src: EventSource, sel: bigint): EventSource {
  if ((sel & ((1n << 32n) | (1n << 33n))) !== 0n) return EventSource.None;
  const cmask = Number((sel & 0xff000000n) >> 24n);
  if ((sel & ((1n << 18n) | (1n << 23n))) !== 0n) return EventSource.None;
  if (cmask === 0) return src;
  const perInstruction =
    src === EventSource.Instructions || src === EventSource.Branches || src === EventSource.BranchMispredicts;
  return perInstruction && cmask === 1 ? src : EventSource.None;
}

const MSRS = [
  ...Array.from({ length: 9 }, (_, n) => [0xc1 + n, 0x4c1 + n, 0x186 + n]).flat(),
  ...Array.from({ length: 5 }, (_, i) => 0x309 + i),
  0x38d,
  0x38e,
  0x38f,
  0x390,
  0x391,
  0x329,
  0x345,
];

/** Values around every boundary the semantics have (bit 31, 32, 35, 40, 48, 53, 64) and random ones. */
const value = fc.oneof(
  fc.bigInt({ min: -(1n << 70n), max: 1n << 70n }),
  fc.bigInt({ min: 0n, max: M64 }),
  fc.bigInt({ min: 0n, max: (1n << 36n) - 1n }),
  fc
    .tuple(fc.constantFrom(31n, 32n, 35n, 40n, 48n, 53n, 64n), fc.integer({ min: -2, max: 2 }))
    .map(([b, d]) => (1n << b) + BigInt(d)),
);

function state(ph: PhysicalPmu): unknown[] {
  return [
    ...MSRS.map((m) => ph.rdmsr(m)),
    [...ph.prov],
    [...ph.regs],
    ph.fccLo,
    ph.fccHi,
    ph.ctrlLo,
    ph.ctrlHi,
    ph.statusLo,
    ph.statusHi,
    ph.metricsLo,
    ph.metricsHi,
  ];
}

describe("physical PMU WRMSR on Numbers", () => {
  for (const id of HOST_PRESET_IDS) {
    const host = findHostPreset(id) as HostPreset;
    it(`${id}: every write leaves the state and the answer the bigint formulation gave`, () => {
      fc.assert(
        fc.property(fc.array(fc.tuple(fc.constantFrom(...MSRS), value), { minLength: 1, maxLength: 40 }), (writes) => {
          const a = new PhysicalPmu(host);
          const b = new PhysicalPmu(host);
          writes.forEach(([msr, v], k) => {
            expect(a.wrmsrAs(msr, v, k)).toBe(referenceWrmsr(b, msr, v, k));
          });
          expect(state(a)).toEqual(state(b));
        }),
        { numRuns: 300 },
      );
    });
  }

  it("each selector's decoded source is its current value's, however often EN and the rest toggle", () => {
    class Decoded extends PhysicalPmu {
      source(n: number): number {
        return this.gpSource[n]!;
      }
    }
    const spr = findHostPreset("spr") as HostPreset;
    // Selector values from a few event codes, umasks and shaping bits, with EN and the other bits random.
    const sel = fc
      .tuple(
        fc.constantFrom(0x3c, 0xc0, 0x2e),
        fc.constantFrom(0x00, 0x01, 0x4f, 0x41),
        // EN/OS/USR in any mix; now and then EDGE (bit 18) or INV (bit 23).
        fc.oneof(
          fc.integer({ min: 0, max: 0x43 }).map((x) => x & 0x43),
          fc.constantFrom(0x47, 0xc3),
        ),
        fc.constantFrom(0, 1, 2),
        fc.integer({ min: 0, max: 0xff }),
      )
      .map(
        ([ev, um, mid, cm, hi]) =>
          BigInt(hi & 3) * 2n ** 32n + BigInt(((cm << 24) | (mid << 16) | (um << 8) | ev) >>> 0),
      );
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 3 }), sel), { maxLength: 60 }), (writes) => {
        const ph = new Decoded(spr);
        for (const [n, v] of writes) {
          ph.wrmsr(0x186 + n, v, { owner: "host", source: "test" });
          for (let k = 0; k < 8; k++) {
            const e = BigInt(ph.eventsel[k]!);
            expect(ph.source(k)).toBe(shapedSource(sourceOfEvent(Number(e & 0xffn), Number((e >> 8n) & 0xffn)), e));
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  it("the selector shaping on halves matches the bigint one", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...Object.values(EventSource).filter((x): x is EventSource => typeof x === "number")),
        fc.oneof(fc.bigInt({ min: 0n, max: (1n << 35n) - 1n }), fc.bigInt({ min: 0n, max: M64 })),
        (src, sel) => {
          expect(shapedSource(src, sel)).toBe(referenceShaped(src, sel));
        },
      ),
      { numRuns: 2000 },
    );
  });
});
