// The guest RDMSR's Number readers (PmuOps.getMsrHalves through Vcpu.readMsrHalves) answer exactly as the
// BigInt path (Vcpu.readMsr, hostInitiated false) does: for every MSR index below MSR_HALVES_LIMIT, on vCPUs of
// every PMU version, counter count, PERF_CAPABILITIES and code state built here, with non-zero values in the
// registers they read. A reader that answered for an invalid MSR, or with another value, fails this.
import { describe, expect, it } from "vitest";
import { CPUID_1_ECX_PDCM } from "../../src/arch/cpuid.js";
import { big } from "../../src/host/halves.js";
import { Kvm } from "../../src/kvm/kvm.js";
import type { Vcpu } from "../../src/kvm/vcpu.js";
import { MSR_HALVES_LIMIT } from "../../src/pmu/pmu.js";
import { createKvm, type TestKvmOptions } from "./harness.js";

function vcpuOf(opts: TestKvmOptions): Vcpu {
  const k = createKvm(opts);
  if (!(k instanceof Kvm)) throw new Error(k.error);
  return k.createVm().createVcpu();
}

function setPmu(v: Vcpu, version: number, nGP: number, nFX: number): void {
  const eax = (version | (nGP << 8) | (48 << 16) | (8 << 24)) >>> 0;
  const edx = (nFX | (48 << 5)) >>> 0;
  expect(v.setCpuid(v.withCpuidLeaf({ function: 0xa, index: 0, eax, ebx: 0, ecx: 0, edx })).ok).toBe(true);
}

/** Non-zero values in what the readers read (host writes; the ones a vCPU rejects stay as they are). */
function fill(v: Vcpu): void {
  const pmu = v.pmu;
  pmu.gp.forEach((p, n) => {
    p.counter = 0x8000_0000_0000 + 0x1234_5678_9 * (n + 1);
    v.setMsr(0x186 + n, 0x43_00c0n + BigInt(n));
  });
  pmu.fixed.forEach((p, i) => {
    p.counter = 0x7fff_ffff_fff0 - i;
  });
  v.setMsr(0x38d, 0xb0bn);
  v.setMsr(0x38f, 0x7_0000_0003n);
  pmu.globalStatus = 0x8000_0001_0000_0002n;
}

/** Every index whose Number reader answered; fails on the first one that disagrees with readMsr. */
function compareAll(v: Vcpu): number[] {
  const answered: number[] = [];
  const h = { lo: 0, hi: 0 };
  const out = { data: 0n };
  for (let index = 0; index < MSR_HALVES_LIMIT + 4; index++) {
    h.lo = -1;
    h.hi = -1;
    if (!v.readMsrHalves(index, h)) continue;
    answered.push(index);
    expect(v.readMsr(index, false, out), `0x${index.toString(16)} valid`).toBe(true);
    expect(big(h.lo, h.hi), `0x${index.toString(16)} value`).toBe(out.data);
  }
  return answered;
}

const range = (base: number, n: number): number[] => Array.from({ length: n }, (_, i) => base + i);

describe("guest RDMSR as Numbers = the BigInt path", () => {
  it.each(["legacy", "base", "v4", "fix"] as const)("code state %s, as created and filled", (codeState) => {
    const mediated = codeState !== "legacy";
    const v = vcpuOf({ host: "spr", codeState, enableMediatedPmu: mediated });
    fill(v);
    const answered = compareAll(v);
    const { nGP, nFX } = v.pmu;
    expect(nGP).toBeGreaterThan(0);
    // GLOBAL_STATUS/CTRL/OVF_CTRL, FIXED_CTR_CTRL, both counter aliases (SPR has FW_WRITES), selectors, fixed.
    expect(answered).toEqual(
      [
        ...range(0xc1, nGP),
        ...range(0x186, nGP),
        ...range(0x309, nFX),
        0x38d,
        0x38e,
        0x38f,
        0x390,
        ...range(0x4c1, nGP),
      ].sort((a, b) => a - b),
    );
  });

  it.each([
    [0, 0, 0],
    [1, 2, 0],
    [1, 4, 3],
    [2, 2, 1],
    [2, 8, 4],
    [4, 3, 2],
  ])("version %i, %i GP, %i fixed counters", (version, nGP, nFX) => {
    const v = vcpuOf({ host: "spr", codeState: "legacy" });
    setPmu(v, version, nGP, nFX);
    fill(v);
    const answered = compareAll(v);
    if (version === 0) expect(answered).toEqual([]);
    // Version 1 has no GLOBAL_* or FIXED_CTR_CTRL MSRs: the readers leave them to the BigInt path.
    if (version === 1) expect(answered.filter((i) => i >= 0x38d && i <= 0x390)).toEqual([]);
    if (version >= 2) expect(answered).toContain(0x38d);
  });

  it("without PDCM (no PERF_CAPABILITIES, so no full-width aliases)", () => {
    const v = vcpuOf({ host: "spr", codeState: "legacy" });
    const l1 = v.leaf(1);
    expect(v.setCpuid(v.withCpuidLeaf({ function: 1, index: 0, ...l1, ecx: l1.ecx & ~CPUID_1_ECX_PDCM })).ok).toBe(
      true,
    );
    fill(v);
    const answered = compareAll(v);
    expect(answered.filter((i) => i >= 0x4c1 && i < 0x4c9)).toEqual([]);
    expect(answered).toContain(0xc1);
  });

  it("the exit log and the recent-exits ring record a Number read as the BigInt path's record", () => {
    const v = vcpuOf({ host: "spr", codeState: "legacy" });
    fill(v);
    v.logMsrReadHalves("MSR_READ", 0x1000, 2, 0x38f, 3, 7);
    expect(v.exits.at(-1)).toEqual({
      reason: 31,
      name: "MSR_READ",
      rip: 0x1000,
      length: 2,
      msr: 0x38f,
      write: false,
      value: 0x7_0000_0003n,
      outcome: "ok",
    });
    v.logExits = false;
    v.logMsrReadHalves("MSR_READ", 0x1002, 3, 0x38f, 3, 7);
    expect(v.recentExits().at(-1)).toEqual({ ...v.exits.at(-1), rip: 0x1002, length: 3 });
  });

  it("KvmPmu's and the selectors' Number copies follow every store (put compares GLOBAL_STATUS, PERF_METRICS on them)", () => {
    const v = vcpuOf({ host: "spr", codeState: "fix", enableMediatedPmu: true });
    const pmu = v.pmu;
    const p = pmu.gp[0]!;
    for (const x of [0n, 1n, 0xffff_ffffn, 0x1_0000_0000n, 0x8000_0000_0000_0001n, 0xffff_ffff_ffff_ffffn]) {
      pmu.globalStatus = x;
      pmu.perfMetrics = x;
      pmu.globalCtrl = x;
      pmu.fixedCtrCtrl = x;
      pmu.perfCapabilities = x;
      p.eventsel = x;
      expect(big(pmu.globalStatusLo, pmu.globalStatusHi)).toBe(x);
      expect(big(pmu.perfMetricsLo, pmu.perfMetricsHi)).toBe(x);
      expect(big(pmu.globalCtrlLo, pmu.globalCtrlHi)).toBe(x);
      expect(big(pmu.fixedCtrCtrlLo, pmu.fixedCtrCtrlHi)).toBe(x);
      expect(pmu.perfCapabilitiesLo).toBe(Number(x & 0xffff_ffffn));
      expect(big(p.eventselLo, p.eventselHi)).toBe(x);
    }
  });
});
