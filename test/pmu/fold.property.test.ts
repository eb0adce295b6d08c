// Property: counting is independent of where KVM folds. Feeding the same event deltas and syncing at
// arbitrary points (every step, or only at the end) gives identical counters and GLOBAL_STATUS,
// including wraps; a CPL switch folds what ran before it at the old CPL.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Kvm } from "../../src/kvm/kvm.js";
import { Vmx } from "../../src/vmx/vmx.js";
import type { GuestEvents } from "../../src/isa/platform.js";

function setup(presets: readonly bigint[]) {
  const v = (Kvm.create({ host: "spr", vendor: new Vmx() }) as Kvm).createVm().createVcpu();
  const ev: GuestEvents = {
    instructions: 0,
    branches: 0,
    branchMispredicts: 0,
    cycles: 0,
    memStallCycles: 0,
    mispredictCycles: 0,
    llcReferences: 0,
    llcMisses: 0,
    uops: 0,
    haltedCycles: 0,
  };
  const pmu = v.pmu;
  pmu.events = ev;
  const sels = [0x4300c0n, 0x4300c4n, 0x43003cn, 0x43013cn, 0x4301a4n, 0x434f2en, 0x4200c0n, 0x4100c0n];
  sels.forEach((s, i) => {
    v.setMsr(0x4c1 + i, presets[i]!);
    v.setMsr(0x186 + i, s);
  });
  v.setMsr(0x309, presets[0]!);
  v.setMsr(0x30a, presets[1]!);
  v.setMsr(0x30b, presets[2]!);
  v.setMsr(0x38d, 0x333n);
  v.setMsr(0x38f, 0x7000000ffn);
  return { v, ev, pmu };
}

const step = fc.record({
  insns: fc.integer({ min: 0, max: 50 }),
  branches: fc.integer({ min: 0, max: 10 }),
  cycles: fc.integer({ min: 0, max: 400 }),
  llc: fc.integer({ min: 0, max: 5 }),
  cplSwitch: fc.boolean(),
  fold: fc.boolean(),
});

describe("fold invariance (property)", () => {
  it("same counters whether KVM folds at every step or only when the CPL changes", () => {
    const near = fc.bigInt({ min: (1n << 48n) - 3000n, max: (1n << 48n) - 1n });
    fc.assert(
      fc.property(
        fc.array(near, { minLength: 8, maxLength: 8 }),
        fc.array(step, { minLength: 1, maxLength: 40 }),
        (presets, steps) => {
          const a = setup(presets);
          const b = setup(presets);
          let cpl = 0;
          // Independent reference for four counters: the events of a step ran at the CPL it started at.
          const M = 1n << 48n;
          const ref = { all: presets[0]!, br: presets[1]!, os: presets[6]!, usr: presets[7]! };
          for (const s of steps) {
            const br = BigInt(Math.min(s.branches, s.insns));
            ref.all += BigInt(s.insns);
            ref.br += br;
            if (cpl === 0) ref.os += BigInt(s.insns);
            else ref.usr += BigInt(s.insns);
            if (s.cplSwitch) cpl = 3 - cpl;
          }
          const wrapped = (_p: bigint, v: bigint) => v >= M;
          const expectStatus = [
            [0, ref.all],
            [1, ref.br],
            [6, ref.os],
            [7, ref.usr],
          ] as const;
          cpl = 0;
          for (const s of steps) {
            for (const x of [a, b]) {
              x.ev.instructions += s.insns;
              x.ev.branches += Math.min(s.branches, s.insns);
              x.ev.cycles += s.cycles + s.insns;
              x.ev.llcReferences += s.llc;
            }
            const next = s.cplSwitch ? 3 - cpl : cpl;
            a.pmu.sync(a.ev, next); // every step
            if (s.fold || next !== cpl) b.pmu.sync(b.ev, next); // only sometimes (always at a CPL change)
            cpl = next;
          }
          a.pmu.sync(a.ev, cpl);
          b.pmu.sync(b.ev, cpl);
          expect(b.pmu.gp.map((p) => p.counter)).toEqual(a.pmu.gp.map((p) => p.counter));
          expect(b.pmu.fixed.map((p) => p.counter)).toEqual(a.pmu.fixed.map((p) => p.counter));
          expect(b.pmu.globalStatus).toBe(a.pmu.globalStatus);
          expect(
            [a.pmu.gp[0]!.counter, a.pmu.gp[1]!.counter, a.pmu.gp[6]!.counter, a.pmu.gp[7]!.counter].map(BigInt),
          ).toEqual([ref.all % M, ref.br % M, ref.os % M, ref.usr % M]);
          for (const [idx, v] of expectStatus)
            expect(((a.pmu.globalStatus >> BigInt(idx)) & 1n) === 1n).toBe(wrapped(presets[idx]!, v));
        },
      ),
      { numRuns: 200, seed: 7 },
    );
  });
});
