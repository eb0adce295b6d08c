import { CPUID_1_ECX_PDCM } from "../../src/arch/cpuid.js";
import { describe, expect, it } from "vitest";
import { Kvm } from "../../src/kvm/kvm.js";
import type { Vcpu } from "../../src/kvm/vcpu.js";
import { cpuid0a } from "../../src/kvm/cpuid.js";
import { createKvm, type TestKvmOptions } from "./harness.js";

function vcpuOf(opts: TestKvmOptions = {}): Vcpu {
  const k = createKvm(opts);
  if (!(k instanceof Kvm)) throw new Error(k.error);
  return k.createVm().createVcpu();
}

function setPmu(v: Vcpu, version: number, nGP: number, wGP: number, nFX: number, wFX: number, len = 8): void {
  const eax = (version | (nGP << 8) | (wGP << 16) | (len << 24)) >>> 0;
  const edx = (nFX | (wFX << 5)) >>> 0;
  expect(v.setCpuid(v.withCpuidLeaf({ function: 0xa, index: 0, eax, ebx: 0, ecx: 0, edx })).ok).toBe(true);
}

const guest = { hostInitiated: false };

describe("KVM_GET_SUPPORTED_CPUID leaf 0xA mirrors kvm_pmu_cap", () => {
  it.each([
    ["skx", 0x07300402, 0x8603],
    ["icx", 0x08300802, 0x8603],
    ["spr", 0x08300802, 0x8603],
    ["gnr", 0x08300802, 0x8603],
  ] as const)("%s", (host, eax, edx) => {
    const k = createKvm({ host }) as Kvm;
    const a = k.getSupportedCpuid().find((e) => e.function === 0xa)!;
    expect([a.eax, a.edx]).toEqual([eax, edx]);
  });
  it("V4 mediated on SPR exposes 4 fixed counters and PERF_METRICS", () => {
    const k = createKvm({ host: "spr", codeState: "v4", enableMediatedPmu: true }) as Kvm;
    expect(cpuid0a(k.pmuCap()).edx).toBe(0x8604);
    expect(k.supportedPerfCapabilities()).toBe(0xa000n);
  });
  it("R-MED-1: mediated is forced off on a LEGACY kernel", () => {
    const k = createKvm({ host: "spr", codeState: "legacy", enableMediatedPmu: true }) as Kvm;
    expect(k.params.enableMediatedPmu).toBe(false);
    expect(k.mediatedRejected).toBe("the LEGACY kernel has no mediated vPMU");
  });
  it("rejects an unknown preset as a value", () => {
    expect(createKvm({ host: "zen" as never })).toEqual({ error: "unknown host preset 'zen'" });
  });
});

describe("validity sweep: versions 0–5 × GP 0..host × fixed 0..host (R-VAL-1..9)", () => {
  for (const host of ["skx", "spr"] as const) {
    const k = createKvm({ host }) as Kvm;
    for (let version = 0; version <= 5; version++) {
      for (let nGP = 0; nGP <= k.host.nGP; nGP++) {
        for (let nFX = 0; nFX <= k.host.nFX; nFX++) {
          it(`${host} v${version} gp${nGP} fx${nFX}`, () => {
            const v = vcpuOf({ host });
            setPmu(v, version, nGP, 48, nFX, 48);
            const effFX = version >= 2 ? Math.min(nFX, 3) : 0; // LEGACY caps fixed at 3
            const effGP = version === 0 ? 0 : nGP;
            for (let n = 0; n < 8; n++) {
              const ok = v.getMsr(0xc1 + n, guest).ok;
              expect(ok).toBe(n < effGP || n <= 1); // P6 exemption for 0xC1/0xC2
              expect(v.getMsr(0x186 + n, guest).ok).toBe(n < effGP || n <= 1);
              expect(v.getMsr(0x4c1 + n, guest).ok).toBe(n < effGP); // FW_WRITES is in the default caps
            }
            for (let i = 0; i < 4; i++) expect(v.getMsr(0x309 + i, guest).ok).toBe(i < effFX);
            for (const m of [0x38d, 0x38e, 0x38f, 0x390]) expect(v.getMsr(m, guest).ok).toBe(version >= 2);
            for (const m of [0x391, 0x392, 0x329]) expect(v.getMsr(m, guest).ok).toBe(false);
            if (version >= 2) {
              // GLOBAL_CTRL reset value: GP enable bits (model.md §6.3 step 5)
              expect((v.getMsr(0x38f, guest) as { value: bigint }).value).toBe((1n << BigInt(effGP)) - 1n);
            }
          });
        }
      }
    }
  }
});

describe("reserved bits and write rules (§7.4)", () => {
  const v = vcpuOf({ host: "spr", tsx: true });
  it("R-WR-2: legacy alias sign-extends bit 31 for the guest, not for the host (R-WR-3)", () => {
    expect(v.setMsr(0xc1, 0x89abcdefn, guest)).toBe(true);
    expect(v.getMsr(0xc1)).toEqual({ ok: true, value: 0xffff89abcdefn });
    expect(v.setMsr(0xc1, 0xff0123456789n, guest)).toBe(true);
    expect(v.getMsr(0xc1)).toEqual({ ok: true, value: 0x23456789n });
    expect(v.setMsr(0xc1, 0x89abcdefn)).toBe(true);
    expect(v.getMsr(0xc1)).toEqual({ ok: true, value: 0x89abcdefn });
  });
  it("R-WR-1: full-width alias faults above the width, guest and host", () => {
    expect(v.setMsr(0x4c1, 1n << 48n, guest)).toBe(false);
    expect(v.setMsr(0x4c1, 1n << 48n)).toBe(false);
    expect(v.setMsr(0x4c1, 0xffffffffffffn, guest)).toBe(true);
    expect(v.getMsr(0xc1, guest)).toEqual({ ok: true, value: 0xffffffffffffn });
  });
  it("R-WR-4: fixed counters truncate", () => {
    expect(v.setMsr(0x309, 0x1234_0000_0000_0001n, guest)).toBe(true);
    expect(v.getMsr(0x309)).toEqual({ ok: true, value: 0x0000_0000_0001n });
  });
  it("R-WR-6: selector reserved bits (AnyThread, 63:32 except IN_TX with TSX, IN_TXCP on counter 2)", () => {
    expect(v.setMsr(0x186, 1n << 21n, guest)).toBe(false);
    expect(v.setMsr(0x186, 1n << 32n, guest)).toBe(true); // tsx: SPR has RTM and the default CPUID mirrors it
    expect(v.setMsr(0x186, 1n << 33n, guest)).toBe(false);
    expect(v.setMsr(0x188, 1n << 33n, guest)).toBe(true);
    expect(v.setMsr(0x186, 1n << 34n, guest)).toBe(false);
  });
  it("R-WR-7/8: FIXED_CTR_CTRL AnyThread and GLOBAL_CTRL bit 48 are reserved (LEGACY)", () => {
    expect(v.setMsr(0x38d, 0x4n, guest)).toBe(false);
    expect(v.setMsr(0x38d, 0xbbbn, guest)).toBe(true);
    expect(v.setMsr(0x38d, 0xb000n, guest)).toBe(false); // FC3 not exposed in LEGACY
    expect(v.setMsr(0x38f, 1n << 48n, guest)).toBe(false);
    expect(v.setMsr(0x38f, 0x7_0000_00ffn, guest)).toBe(true);
    expect(v.setMsr(0x38f, 0x8_0000_0000n, guest)).toBe(false);
  });
  it("R-WR-9/10: GLOBAL_STATUS read-only to the guest, host may write; OVF_CTRL clears only for the guest", () => {
    expect(v.setMsr(0x38e, 1n, guest)).toBe(false);
    expect(v.setMsr(0x38e, 0xc000_0007_0000_0003n)).toBe(true);
    expect(v.setMsr(0x38e, 1n << 48n)).toBe(false);
    expect(v.setMsr(0x390, 1n)).toBe(true);
    expect(v.getMsr(0x38e)).toEqual({ ok: true, value: 0xc000_0007_0000_0003n });
    expect(v.setMsr(0x390, 0x8000_0001_0000_0001n, guest)).toBe(true);
    expect(v.getMsr(0x38e)).toEqual({ ok: true, value: 0x4000_0006_0000_0002n });
    expect(v.getMsr(0x390, guest)).toEqual({ ok: true, value: 0n });
  });
  it("R-WR-14: MISC_ENABLE BTS/PEBS-unavailable are read-only, EMON silently kept", () => {
    const m = (v.getMsr(0x1a0) as { value: bigint }).value;
    expect(m).toBe(0x1800n); // kvm_vcpu_reset: BTS_UNAVAIL | PEBS_UNAVAIL; refresh adds nothing
    expect(v.setMsr(0x1a0, 1n << 11n, guest)).toBe(false);
    expect(v.setMsr(0x1a0, m | (1n << 7n), guest)).toBe(true);
    expect(v.getMsr(0x1a0)).toEqual({ ok: true, value: m });
    // Userspace owns the MSR: a host write may set EMON, and the guest then cannot clear it.
    expect(v.setMsr(0x1a0, 0x1880n)).toBe(true);
    expect(v.setMsr(0x1a0, 0x1800n, guest)).toBe(true);
    expect(v.getMsr(0x1a0)).toEqual({ ok: true, value: 0x1880n });
    expect(v.setMsr(0x1a0, 0x1800n)).toBe(true);
  });
  it("unknown MSRs #GP for the guest and fail for the host (ignore_msrs off)", () => {
    expect(v.getMsr(0x12345, guest).ok).toBe(false);
    expect(v.getMsr(0x12345).ok).toBe(false);
    expect(v.setMsr(0x12345, 0n)).toBe(false);
  });
});

describe("PERF_CAPABILITIES host rules (§6.5)", () => {
  it("R-CFG-1: no PDCM ⇒ reads 0, only 0 may be written; guest #GP", () => {
    const v = vcpuOf({ host: "spr" });
    const l1 = v.cpuidTable.find((e) => e.function === 1)!;
    v.setCpuid(v.withCpuidLeaf({ ...l1, ecx: l1.ecx & ~CPUID_1_ECX_PDCM }));
    expect(v.getMsr(0x345)).toEqual({ ok: true, value: 0n });
    expect(v.setMsr(0x345, 0n)).toBe(true);
    expect(v.setMsr(0x345, 0x2000n)).toBe(false);
    expect(v.getMsr(0x345, guest).ok).toBe(false);
    // FW_WRITES reads as 0 without PDCM: the full-width alias is invalid
    expect(v.getMsr(0x4c1, guest).ok).toBe(false);
  });
  it("R-CFG-2/4/6: subset of supported, fungible bits, frozen after the first run; guest writes #GP", () => {
    const v = vcpuOf({ host: "skx" });
    expect(v.getMsr(0x345)).toEqual({ ok: true, value: 0x2005n }); // FW_WRITES | LBR format 5 (issue 14 item 7)
    expect(v.setMsr(0x345, 0x8000n)).toBe(false); // PERF_METRICS not supported in LEGACY
    expect(v.setMsr(0x345, 0n)).toBe(true);
    expect(v.getMsr(0x4c1, guest).ok).toBe(false);
    expect(v.setMsr(0x345, 0x2000n)).toBe(true);
    expect(v.getMsr(0x4c1, guest).ok).toBe(true);
    expect(v.setMsr(0x345, 0x2000n, guest)).toBe(false);
    v.hasRun = true;
    expect(v.setMsr(0x345, 0x2000n)).toBe(true);
    expect(v.setMsr(0x345, 0n)).toBe(false);
  });
  it("R-CFG-3: the PEBS group must be whole", () => {
    const v = vcpuOf({ host: "icx" });
    expect(v.getMsr(0x345)).toEqual({ ok: true, value: 0x24c5n });
    expect(v.setMsr(0x345, 0x2400n)).toBe(false);
    expect(v.setMsr(0x345, 0x24c0n)).toBe(true);
  });
  it("P-1..P-6: V4 mediated: 0x329 valid with bit 15, guest get/set rejected, host get/set perf_metrics, bit 48 un-reserved", () => {
    const v = vcpuOf({ host: "spr", codeState: "v4", enableMediatedPmu: true });
    setPmu(v, 2, 8, 48, 4, 48);
    expect(v.getMsr(0x345)).toEqual({ ok: true, value: 0xa000n });
    expect(v.getMsr(0x329, guest).ok).toBe(false);
    expect(v.setMsr(0x329, 5n, guest)).toBe(false);
    expect(v.setMsr(0x329, 0x0102030405060708n)).toBe(true);
    expect(v.getMsr(0x329)).toEqual({ ok: true, value: 0x0102030405060708n });
    expect(v.setMsr(0x38f, 1n << 48n, guest)).toBe(true);
    expect(v.setMsr(0x345, 0x2000n)).toBe(true); // drop PERF_METRICS: refresh reserves bit 48 again
    expect(v.getMsr(0x329)).toEqual({ ok: true, value: 0n }); // listed, unsupported: host reads 0 (§14.6)
    expect(v.setMsr(0x329, 1n)).toBe(false);
    expect(v.setMsr(0x38f, 1n << 48n, guest)).toBe(false);
  });
  it("BASE mediated: PERF_METRICS never offered and FC3 never exposed", () => {
    const v = vcpuOf({ host: "spr", codeState: "base", enableMediatedPmu: true });
    setPmu(v, 2, 8, 48, 4, 48);
    expect(v.getMsr(0x345)).toEqual({ ok: true, value: 0x2000n });
    expect(v.getMsr(0x30c, guest).ok).toBe(false);
  });
});

describe("PERF_CAPABILITIES bit sweep (vmx_pmu_caps_test: fungible bits, unsupported bits)", () => {
  for (const host of ["skx", "icx", "spr", "gnr"] as const) {
    for (const mediated of [false, true]) {
      const opts: TestKvmOptions = { host, codeState: mediated ? "v4" : "legacy", enableMediatedPmu: mediated };
      const k = createKvm(opts) as Kvm;
      const supported = k.supportedPerfCapabilities();
      it(`${host} ${mediated ? "v4 mediated" : "legacy"}: supported 0x${supported.toString(16)}`, () => {
        for (let bit = 0n; bit < 64n; bit++) {
          const v = vcpuOf(opts);
          const b = 1n << bit;
          // A non-zero PEBS format needs the whole PEBS group (vmx_set_msr); other PEBS bits alone pass.
          const pebsFormat = (b & 0xf00n) !== 0n;
          // A non-zero LBR format must be the host's whole format (R-CFG-3): one bit of format 5 is not.
          const lbrOk = (b & 0x3fn) === 0n || b === (supported & 0x3fn);
          const ok = (supported & b) !== 0n && !pebsFormat && lbrOk;
          expect([bit, v.setMsr(0x345, b)]).toEqual([bit, ok]);
        }
        // Each fungible bit can be cleared from the full set (R-CFG-4); clearing a PEBS-group bit while the
        // format stays non-zero breaks the group and fails.
        for (let bit = 0n; bit < 64n; bit++) {
          const b = 1n << bit;
          if ((supported & b) === 0n) continue;
          const v = vcpuOf(opts);
          if ((b & 0x3fn) !== 0n) {
            // Part of the LBR format cleared: what is left must be 0 or the host's format.
            const left = supported & ~b & 0x3fn;
            expect([bit, v.setMsr(0x345, supported & ~b)]).toEqual([bit, left === 0n]);
            continue;
          }
          if ((b & 0x24fc0n) !== 0n) {
            // Still a PEBS format ⇒ the group is incomplete ⇒ rejected; format cleared ⇒ a plain subset.
            const ok = (supported & ~b & 0xf00n) === 0n;
            expect([bit, v.setMsr(0x345, supported & ~b)]).toEqual([bit, ok]);
            continue;
          }
          expect(v.setMsr(0x345, supported & ~b)).toBe(true);
          expect(v.getMsr(0x345)).toEqual({ ok: true, value: supported & ~b });
        }
      });
    }
  }
  it("KVM_SET_CPUID2 after the first run only with the same table", () => {
    const v = vcpuOf({ host: "spr" });
    v.hasRun = true;
    expect(v.setCpuid(v.cpuidTable).ok).toBe(true);
    setPmuFails(v);
  });
});

function setPmuFails(v: Vcpu): void {
  const r = v.setCpuid(v.withCpuidLeaf({ function: 0xa, index: 0, eax: 0x08300801, ebx: 0, ecx: 0, edx: 0 }));
  expect(r).toEqual({ ok: false, error: "EINVAL: CPUID cannot change after the vCPU has run" });
}

describe("narrower guest counter widths (R-CPUID-2/4: widths clamp to the host's)", () => {
  it("32-bit GP and 40-bit fixed counters: masks, aliases and reads", () => {
    const v = vcpuOf({ host: "spr" });
    setPmu(v, 2, 4, 32, 3, 40);
    expect(v.pmu.maskGP).toBe(0xffffffff);
    expect(v.setMsr(0xc1, 0x89abcdefn, guest)).toBe(true);
    expect(v.getMsr(0xc1)).toEqual({ ok: true, value: 0x89abcdefn }); // sign extension stops at bit 31
    expect(v.setMsr(0x4c1, 1n << 32n, guest)).toBe(false);
    expect(v.setMsr(0x309, 0xffffffffffffn, guest)).toBe(true);
    expect(v.getMsr(0x309)).toEqual({ ok: true, value: 0xffffffffffn });
  });
  it("a width above the host's is clamped to the host's", () => {
    const v = vcpuOf({ host: "spr" });
    setPmu(v, 2, 8, 64, 3, 64);
    expect([v.pmu.wGP, v.pmu.wFX]).toEqual([48, 48]);
    expect(v.setMsr(0x4c1, 1n << 48n, guest)).toBe(false);
  });
  it("a GP counter count above the host's is clamped (SKX: 4)", () => {
    const v = vcpuOf({ host: "skx" });
    setPmu(v, 2, 8, 48, 3, 48);
    expect(v.pmu.nGP).toBe(4);
    expect(v.getMsr(0xc5, guest).ok).toBe(false);
    expect(v.getMsr(0xc5).ok).toBe(false); // not in SKX's save list either
    expect(v.getMsr(0xc4, guest).ok).toBe(true);
  });
});

describe("selector shapes the model cannot count", () => {
  it("IN_TX (no transactions run), INV, EDGE and CMASK ≥ 2 on instructions count nothing; CMASK 1 counts", () => {
    const v = vcpuOf({ host: "spr", tsx: true });
    const src = (sel: bigint): number => {
      expect(v.setMsr(0x186, sel, guest)).toBe(true);
      return v.pmu.gp[0]!.source;
    };
    const base = 0x4300c0n;
    expect(src(base)).toBe(2); // EventSource.Instructions
    expect(src(base | (1n << 32n))).toBe(0);
    expect(src(base | (1n << 23n) | (1n << 24n))).toBe(0);
    expect(src(base | (1n << 18n))).toBe(0);
    expect(src(base | (2n << 24n))).toBe(0);
    expect(src(base | (1n << 24n))).toBe(2);
    expect(src(0x43003cn | (1n << 24n))).toBe(0); // CMASK on cycles: not modelled
  });
});

describe("bad options are values, never exceptions", () => {
  it("Kvm.create and configureVcpu", async () => {
    const { configureVcpu } = await import("../../src/machine/index.js");
    expect(createKvm({ host: 5 as never })).toEqual({ error: "unknown host preset '5'" });
    expect(createKvm({ codeState: "v9" as never })).toEqual({ error: "unknown code state 'v9'" });
    expect(configureVcpu({ host: "skx", gp: 5 })).toEqual({
      error: "--gp must be an integer from 0 to 4 for host skx (got 5)",
    });
    expect(configureVcpu({ host: "zen" })).toEqual({
      error: "unknown host preset 'zen' (expected one of skx, icx, spr, gnr)",
    });
    expect(configureVcpu({ host: "spr", perfCaps: 0x8000n })).toEqual({
      error: "--perf-caps 0x8000 is not accepted by KVM_SET_MSRS (supported: 0x225c0)",
    });
    expect(configureVcpu({ host: "spr", perfCaps: 5 as never })).toEqual({
      error: "--perf-caps must be an integer (got 5)",
    });
    expect(configureVcpu({ host: "skx", pmu: "bogus" as never })).toEqual({
      error: "--pmu must be legacy, mediated or off (got 'bogus')",
    });
  });
});

describe("RDPMC emulation of the metrics type (§9.3 step 6)", () => {
  it("BASE/V4: #GP even with PERF_METRICS; FIX: the saved perf_metrics when the guest has the cap", async () => {
    for (const codeState of ["v4", "fix"] as const) {
      const v = vcpuOf({ host: "spr", codeState, enableMediatedPmu: true });
      setPmu(v, 2, 8, 48, 4, 48);
      expect(v.setMsr(0x329, 0x0102030405060708n)).toBe(true);
      const r = v.pmu.rdpmc(0x20000000, 0, true, false, () => 0n);
      expect(r).toEqual(
        codeState === "fix"
          ? { ok: true, value: 0x0102030405060708n }
          : { ok: false, reason: "metrics type not emulated" },
      );
      expect(v.setMsr(0x345, 0x2000n)).toBe(true); // without the cap: #GP in every state
      expect(v.pmu.rdpmc(0x20000000, 0, true, false, () => 0n)).toEqual({
        ok: false,
        reason: "metrics type not emulated",
      });
    }
  });
});
