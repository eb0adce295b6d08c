// Issue 14 items 3 and 8: the PMU part of KVM_GET_MSR_INDEX_LIST (msrs.c msrs_to_save_pmu, kvm_probe_msr_to_save,
// kvm_init_msr_lists) and what it means for host accesses (kvm_do_msr_access); the PEBS registers with
// intel_pmu_refresh's reserved-bit rules (pebs_enable_rsvd, pebs_data_cfg_rsvd, GLOBAL_STATUS bit 62 with DS).
import { describe, expect, it } from "vitest";
import { Kvm } from "../../src/kvm/kvm.js";
import { msrsToSave } from "../../src/kvm/msr-common.js";
import type { Vcpu } from "../../src/kvm/vcpu.js";
import { LEGACY } from "../../src/pmu/code-states.js";
import { intelPmuRefresh } from "../../src/pmu/intel.js";
import { KvmPmu } from "../../src/pmu/pmu.js";
import { intelPmuOps } from "../../src/pmu/intel.js";
import { createKvm, runGuest, type TestKvmOptions } from "./harness.js";

function kvmOf(opts: TestKvmOptions): Kvm {
  const k = createKvm(opts);
  if (!(k instanceof Kvm)) throw new Error(k.error);
  return k;
}
function vcpuOf(opts: TestKvmOptions): Vcpu {
  return kvmOf(opts).createVm().createVcpu();
}
function setVersion(v: Vcpu, version: number): void {
  const a = v.leaf(0xa);
  expect(v.setCpuid(v.withCpuidLeaf({ function: 0xa, index: 0, ...a, eax: (a.eax & ~0xff) | version })).ok).toBe(true);
}

const hex = (xs: number[]): string[] => xs.map((x) => x.toString(16));
const BASE = ["345", "10", "1a0", "1b"];
const GP8 = ["c1", "c2", "c3", "c4", "c5", "c6", "c7", "c8", "186", "187", "188", "189", "18a", "18b", "18c", "18d"];
const guest = { hostInitiated: false };

describe("KVM_GET_MSR_INDEX_LIST, PMU part, in msrs_to_save_pmu order", () => {
  it.each([
    [
      "spr legacy",
      { host: "spr", codeState: "legacy" },
      [...BASE, "309", "30a", "30b", "38d", "38e", "38f", "3f1", "600", "3f2", ...GP8],
    ],
    [
      "spr base",
      { host: "spr", codeState: "base", enableMediatedPmu: true },
      [...BASE, "309", "30a", "30b", "38d", "38e", "38f", "3f1", "600", "3f2", ...GP8],
    ],
    [
      "spr v4",
      { host: "spr", codeState: "v4", enableMediatedPmu: true },
      [...BASE, "309", "30a", "30b", "30c", "38d", "38e", "38f", "3f1", "600", "3f2", ...GP8, "329"],
    ],
    [
      "spr fix",
      { host: "spr", codeState: "fix", enableMediatedPmu: true },
      [...BASE, "309", "30a", "30b", "30c", "38d", "38e", "38f", "3f1", "600", "3f2", ...GP8, "329"],
    ],
    // SKX: PEBS but no baseline (no PEBS_DATA_CFG to read), 4 GP counters.
    [
      "skx legacy",
      { host: "skx", codeState: "legacy" },
      [
        ...BASE,
        "309",
        "30a",
        "30b",
        "38d",
        "38e",
        "38f",
        "3f1",
        "600",
        "c1",
        "c2",
        "c3",
        "c4",
        "186",
        "187",
        "188",
        "189",
      ],
    ],
    ["enable_pmu=0", { host: "spr", enablePmu: false }, BASE],
  ] as const)("%s", (_n, opts, expected) => {
    const list = hex(msrsToSave(kvmOf(opts as TestKvmOptions)));
    expect(list).toEqual(expected);
    expect(list).not.toContain("390"); // GLOBAL_OVF_CTRL is not in msrs_to_save_pmu
  });
});

describe("kvm_do_msr_access: host accesses to an MSR the vCPU lacks succeed only if it is listed", () => {
  for (const codeState of ["legacy", "base", "v4", "fix"] as const) {
    it(`${codeState}: a v1 vCPU`, () => {
      const v = vcpuOf({ host: "spr", codeState, enableMediatedPmu: codeState !== "legacy" });
      setVersion(v, 1);
      // GLOBAL_CTRL/STATUS are listed: read 0, write 0 only. GLOBAL_OVF_CTRL is not: both fail.
      expect(v.getMsr(0x38f)).toEqual({ ok: true, value: 0n });
      expect(v.setMsr(0x38f, 0n)).toBe(true);
      expect(v.setMsr(0x38f, 1n)).toBe(false);
      expect(v.getMsr(0x38e)).toEqual({ ok: true, value: 0n });
      expect(v.getMsr(0x390)).toEqual({ ok: false });
      expect(v.setMsr(0x390, 0n)).toBe(false);
      // The guest gets #GP for all three.
      for (const m of [0x38e, 0x38f, 0x390]) expect(v.getMsr(m, guest).ok).toBe(false);
    });
  }
  it("mediated (no guest PEBS): PEBS_ENABLE, DS_AREA, PEBS_DATA_CFG are listed, so the host reads 0", () => {
    for (const codeState of ["base", "v4", "fix"] as const) {
      const v = vcpuOf({ host: "spr", codeState, enableMediatedPmu: true });
      for (const m of [0x3f1, 0x600, 0x3f2]) {
        expect(v.getMsr(m)).toEqual({ ok: true, value: 0n });
        expect(v.setMsr(m, 0n)).toBe(true);
        expect(v.setMsr(m, 1n)).toBe(false);
        expect(v.getMsr(m, guest)).toEqual({ ok: false });
      }
    }
  });
  it("SKX legacy: no PEBS-via-EPT, PEBS_ENABLE and DS_AREA listed, PEBS_DATA_CFG not (the host cannot read it)", () => {
    const v = vcpuOf({ host: "skx", codeState: "legacy" });
    expect(v.getMsr(0x3f1)).toEqual({ ok: true, value: 0n });
    expect(v.getMsr(0x600)).toEqual({ ok: true, value: 0n });
    expect(v.getMsr(0x3f2)).toEqual({ ok: false });
  });
});

describe("PEBS registers with a PEBS format in the caps (legacy vPMU on a PEBS-via-EPT host)", () => {
  it("ICX/SPR/GNR legacy: DS_AREA, PEBS_ENABLE writable by the guest with KVM's reserved bits", () => {
    for (const host of ["icx", "spr", "gnr"] as const) {
      const v = vcpuOf({ host, codeState: "legacy" });
      expect(v.getMsr(0x345, guest)).toEqual({ ok: true, value: host === "icx" ? 0x24c5n : 0x225c0n });
      expect(v.setMsr(0x600, 0xffff_8000_0010_0000n, guest)).toBe(true); // canonical
      expect(v.getMsr(0x600, guest)).toEqual({ ok: true, value: 0xffff_8000_0010_0000n });
      expect(v.setMsr(0x600, 0x0000_8000_0000_0000n, guest)).toBe(false); // non-canonical
      expect(v.setMsr(0x3f1, 0xffn, guest)).toBe(true); // the 8 GP bits (no baseline)
      expect(v.setMsr(0x3f1, 1n << 32n, guest)).toBe(false); // fixed bits need baseline
      expect(v.setMsr(0x3f1, 1n << 8n, guest)).toBe(false);
      expect(v.getMsr(0x3f1, guest)).toEqual({ ok: true, value: 0xffn });
      expect(v.getMsr(0x3f2, guest)).toEqual({ ok: false }); // no baseline: PEBS_DATA_CFG is not valid
      // GLOBAL_STATUS bit 62 (DS buffer overflow) is writable by the host since the guest has DS.
      expect(v.setMsr(0x38e, 1n << 62n)).toBe(true);
    }
  });
  it("without guest DS: DS_AREA #GP, GLOBAL_STATUS bit 62 reserved (intel_pmu_refresh)", () => {
    const v = vcpuOf({ host: "spr", codeState: "legacy" });
    const l1 = v.leaf(1);
    expect(v.setMsr(0x345, 0x2000n)).toBe(true); // drop the PEBS group first (R-CFG-3 needs DS)
    expect(v.setCpuid(v.withCpuidLeaf({ function: 1, index: 0, ...l1, edx: l1.edx & ~(1 << 21) })).ok).toBe(true);
    expect(v.setMsr(0x600, 0x1000n, guest)).toBe(false);
    expect(v.setMsr(0x38e, 1n << 62n)).toBe(false);
    expect(v.setMsr(0x38e, 1n << 63n)).toBe(true);
    expect(v.setMsr(0x390, 1n << 62n, guest)).toBe(false);
  });
  it("PMU version 1 with a PEBS format: PEBS_ENABLE exists but every bit is reserved (refresh stops at v1)", () => {
    const v = vcpuOf({ host: "spr", codeState: "legacy" });
    setVersion(v, 1);
    expect(v.getMsr(0x3f1, guest)).toEqual({ ok: true, value: 0n });
    expect(v.setMsr(0x3f1, 1n, guest)).toBe(false);
  });
  it("with PEBS baseline (a refresh input KVM's caps never produce): adaptive bits and PEBS_DATA_CFG", () => {
    const pmu = new KvmPmu({ tscKhz: 2_000_000, coreKhz: 4_000_000, slotsPerCycle: 6 }, intelPmuOps);
    intelPmuRefresh(pmu, {
      enablePmu: true,
      codeState: LEGACY,
      mediatedModule: false,
      cpuid0a: { eax: 0x08300802, ebx: 0, ecx: 0, edx: 0x8603 },
      perfCapabilities: 0x2000n | 0x4000n | 0x400n, // FW_WRITES, baseline, PEBS format 4
      ds: true,
      tsx: false,
      lbr: null,
      cpuidModelConsistent: true,
      cap: { version: 2, nGP: 8, wGP: 48, nFX: 3, wFX: 48, eventMaskLength: 8, eventsUnavailable: 0 },
    });
    expect(pmu.pebsEnableRsvd).toBe(~0x7_0000_00ffn);
    expect(pmu.pebsDataCfgRsvd).toBe(~0xff00000fn);
    expect(pmu.eventselRsvd & (1n << 34n)).toBe(0n);
    expect(pmu.fixedCtrCtrlRsvd).toBe(~0x111_0000_0bbbn);
    expect(pmu.isValidMsr(0x3f2)).toBe(true);
  });
});

describe("a guest that programs DS_AREA and PEBS_ENABLE (legacy, SPR)", () => {
  it("no #GP, values read back", () => {
    const g = runGuest(
      [
        "  mov ecx, 0x600",
        "  mov eax, 0x00200000",
        "  xor edx, edx",
        "  wrmsr",
        "  mov ecx, 0x3f1",
        "  mov eax, 1",
        "  wrmsr",
        "  mov ecx, 0x600",
        "  rdmsr",
        "  mov r8d, eax",
        "  mov ecx, 0x3f1",
        "  rdmsr",
        "  mov r9d, eax",
        "  hlt",
      ].join("\n"),
      { host: "spr", codeState: "legacy" },
    );
    expect(g.vcpu.exits.map((e) => e.outcome)).toEqual(["ok", "ok", "ok", "ok", "halt"]);
    expect([g.cpu.getLo(8), g.cpu.getLo(9)]).toEqual([0x200000, 1]);
  });
});
