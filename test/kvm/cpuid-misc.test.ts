// Issue 14 items 1 and 2: MSR_IA32_MISC_ENABLE after vCPU reset and PMU refresh (kvm_vcpu_reset; refresh has
// left the MSR alone since "KVM: x86: Give host userspace full control of MSR_IA32_MISC_ENABLES"), and
// CPUID leaves 1 and 7 as KVM's supported CPUID reports them (kvm_set_cpu_caps, vmx_set_cpu_caps), with
// TSX hidden unless the host kernel keeps it. Every code state: legacy, base, v4, fix.
import { describe, expect, it } from "vitest";
import { Kvm } from "../../src/kvm/kvm.js";
import type { Vcpu } from "../../src/kvm/vcpu.js";
import { createKvm, runGuest, type TestKvmOptions } from "./harness.js";

const STATES: readonly [string, TestKvmOptions][] = [
  ["legacy", { codeState: "legacy" }],
  ["base", { codeState: "base", enableMediatedPmu: true }],
  ["v4", { codeState: "v4", enableMediatedPmu: true }],
  ["fix", { codeState: "fix", enableMediatedPmu: true }],
];

function vcpuOf(opts: TestKvmOptions): Vcpu {
  const k = createKvm(opts);
  if (!(k instanceof Kvm)) throw new Error(k.error);
  return k.createVm().createVcpu();
}

const guest = { hostInitiated: false };

describe("MISC_ENABLE is 0x1800 from kvm_vcpu_reset; PMU refresh never touches it", () => {
  for (const [name, opts] of STATES) {
    for (const host of ["skx", "spr"] as const) {
      it(`${name} on ${host}`, () => {
        const v = vcpuOf({ ...opts, host });
        expect(v.getMsr(0x1a0)).toEqual({ ok: true, value: 0x1800n });
        // A refresh to PMU version 1, 0 and back to 2: still 0x1800 (no EMON, PEBS_UNAVAIL kept).
        for (const version of [1, 0, 2]) {
          const a = v.leaf(0xa);
          const table = v.withCpuidLeaf({ function: 0xa, index: 0, ...a, eax: (a.eax & ~0xff) | version });
          expect(v.setCpuid(table).ok).toBe(true);
          expect(v.getMsr(0x1a0, guest)).toEqual({ ok: true, value: 0x1800n });
        }
        // Userspace's EMON survives a later refresh (KVM_SET_CPUID2 → kvm_pmu_refresh).
        expect(v.setMsr(0x1a0, 0x1880n)).toBe(true);
        expect(v.setCpuid(v.cpuidTable).ok).toBe(true);
        expect(v.getMsr(0x1a0)).toEqual({ ok: true, value: 0x1880n });
      });
    }
  }
  it("a PERF_CAPABILITIES write with a PEBS format (legacy, SPR) leaves PEBS_UNAVAIL set", () => {
    const v = vcpuOf({ codeState: "legacy", host: "spr" });
    expect(v.setMsr(0x345, 0x225c0n)).toBe(true);
    expect(v.getMsr(0x1a0)).toEqual({ ok: true, value: 0x1800n });
  });
});

describe("KVM_GET_SUPPORTED_CPUID leaves 1 and 7 (kvm_set_cpu_caps)", () => {
  // Leaf 1 EDX: TSC 4, MSR 5, APIC 9, CLFLUSH 19, DS 21 with guest PEBS; EBX[15:8] = 8 (64-byte lines);
  // ECX: DTES64 2 with PEBS, PDCM 15 with a PMU, x2APIC 21, HYPERVISOR 31. Leaf 7 EDX: SPEC_CTRL 26.
  it.each([
    // host, code state, leaf 1 EAX, EBX, ECX, EDX, leaf 7 EBX (TSX hidden), leaf 7 EBX with --tsx
    ["skx", "legacy", 0x50650, 0x800, 0x80208000, 0x80230, 0, 0x810],
    ["icx", "legacy", 0x606a0, 0x800, 0x80208004, 0x280230, 0, 0x800],
    ["spr", "legacy", 0x806f0, 0x800, 0x80208004, 0x280230, 0, 0x800],
    ["gnr", "legacy", 0xa06d0, 0x800, 0x80208004, 0x280230, 0, 0x800],
    ["spr", "base", 0x806f0, 0x800, 0x80208000, 0x80230, 0, 0x800],
    ["spr", "v4", 0x806f0, 0x800, 0x80208000, 0x80230, 0, 0x800],
    ["spr", "fix", 0x806f0, 0x800, 0x80208000, 0x80230, 0, 0x800],
  ] as const)("%s %s", (host, codeState, eax1, ebx1, ecx1, edx1, ebx7, ebx7Tsx) => {
    const mediated = codeState !== "legacy";
    for (const tsx of [false, true]) {
      const k = createKvm({ host, codeState, enableMediatedPmu: mediated, tsx }) as Kvm;
      const t = k.getSupportedCpuid();
      const l1 = t.find((e) => e.function === 1)!;
      const l7 = t.find((e) => e.function === 7)!;
      expect([l1.eax, l1.ebx, l1.ecx >>> 0, l1.edx]).toEqual([eax1, ebx1, ecx1, edx1]);
      expect([l7.ebx, l7.ecx, l7.edx]).toEqual([tsx ? ebx7Tsx : ebx7, 0, 0x4000000]);
    }
  });
  it("enable_pmu=0 drops PDCM (vmx_set_cpu_caps) but keeps CLFLUSH", () => {
    const k = createKvm({ host: "spr", enablePmu: false }) as Kvm;
    const l1 = k.getSupportedCpuid().find((e) => e.function === 1)!;
    expect([l1.ebx, l1.ecx >>> 0, l1.edx]).toEqual([0x800, 0x80200000, 0x80230]);
  });
});

describe("TSX: IN_TX is legal only when host kernel and guest CPUID both have HLE/RTM (intel_pmu_refresh)", () => {
  for (const [name, opts] of STATES) {
    it(name, () => {
      const hidden = vcpuOf({ ...opts, host: "spr" });
      expect(hidden.setMsr(0x186, 1n << 32n, guest)).toBe(false);
      expect(hidden.setMsr(0x188, 1n << 33n, guest)).toBe(false);
      const shown = vcpuOf({ ...opts, host: "spr", tsx: true });
      expect(shown.setMsr(0x186, 1n << 32n, guest)).toBe(true);
      expect(shown.setMsr(0x188, 1n << 33n, guest)).toBe(true);
      // The VMM may still hide RTM from one guest on a tsx=on host: the guest CPUID decides.
      const l7 = shown.leaf(7);
      expect(shown.setCpuid(shown.withCpuidLeaf({ function: 7, index: 0, ...l7, ebx: 0 })).ok).toBe(true);
      expect(shown.setMsr(0x186, 1n << 32n, guest)).toBe(false);
    });
  }
});

describe("a guest reads leaf 1 and leaf 7 through CPUID (an exit KVM emulates)", () => {
  it("CLFLUSH, its line size and RTM as the guest sees them", () => {
    const src = [
      "  mov eax, 1",
      "  cpuid",
      "  mov r8d, ebx",
      "  mov r9d, edx",
      "  mov eax, 7",
      "  xor ecx, ecx",
      "  cpuid",
      "  mov r10d, ebx",
      "  hlt",
    ].join("\n");
    for (const tsx of [false, true]) {
      const g = runGuest(src, { host: "skx", tsx });
      expect(g.cpu.getLo(8) & 0xff00).toBe(0x800);
      expect((g.cpu.getLo(9) >>> 19) & 1).toBe(1);
      expect(g.cpu.getLo(10) >>> 0).toBe(tsx ? 0x810 : 0);
    }
  });
});

describe("extended leaves 0x80000000..0x80000008 (kvm_set_cpu_caps CPUID_8000_0001_*, __do_cpuid_func)", () => {
  // 0x80000001 ECX: LAHF_LM 0, LZCNT 5; EDX: NX 20, GBPAGES 26, RDTSCP 27, LM 29 (SYSCALL 11 left out: not
  // modelled). 0x80000008 EAX: MAXPHYADDR 36 | 48 << 8.
  for (const host of ["skx", "icx", "spr", "gnr"] as const)
    it(host, () => {
      const t = (createKvm({ host }) as Kvm).getSupportedCpuid();
      const leaf = (f: number) => t.find((e) => e.function === f)!;
      expect(leaf(0x80000000).eax).toBe(0x80000008);
      expect([leaf(0x80000001).ecx, leaf(0x80000001).edx >>> 0]).toEqual([0x21, 0x2c100000]);
      expect(leaf(0x80000008).eax).toBe(0x3024);
    });
  it("a guest under KVM sets EFER.NXE (was #GP without CPUID NX) and runs LAHF/SAHF (was #UD)", () => {
    const src = [
      "  mov ecx, 0xc0000080",
      "  rdmsr",
      "  or eax, 0x800",
      "  wrmsr",
      "  rdmsr",
      "  mov r8d, eax",
      "  mov ah, 0xd5",
      "  sahf",
      "  mov ah, 0",
      "  lahf",
      "  mov r9d, eax",
      "  mov eax, 0x80000008",
      "  cpuid",
      "  mov r10d, eax",
      "  hlt",
    ].join("\n");
    for (const [, opts] of STATES) {
      const g = runGuest(src, { ...opts, host: "spr" });
      expect(g.cpu.getLo(8) & 0xd00).toBe(0xd00); // LME, LMA, NXE
      expect((g.cpu.getLo(9) >>> 8) & 0xd5).toBe(0xd5);
      expect(g.cpu.getLo(10)).toBe(0x3024);
    }
  });
  it("RDTSCP returns IA32_TSC_AUX in ECX; a VMM that drops CPUID RDTSCP gets #UD (KVM clears enable-RDTSCP)", () => {
    const src = [
      "  mov ecx, 0xc0000103",
      "  mov eax, 0x1234",
      "  xor edx, edx",
      "  wrmsr",
      "  xor ecx, ecx",
      "  rdtscp",
      "  mov r8d, ecx",
      "  hlt",
    ].join("\n");
    expect(runGuest(src, { host: "spr" }).cpu.getLo(8)).toBe(0x1234);
    const drop = (v: Vcpu) => {
      const e = v.leaf(0x80000001);
      const edx = e.edx & ~(1 << 27);
      expect(v.setCpuid(v.withCpuidLeaf({ function: 0x80000001, index: 0, ...e, edx })).ok).toBe(true);
    };
    const g = runGuest(src, { host: "spr" }, drop);
    expect(g.cpu.getLo(8)).toBe(0);
    expect(g.cpu.tripleFault?.chain[0]).toMatchObject({ vector: 6 });
    // The #UD exits (the exception bitmap always has #UD) and handle_ud reflects it: the emulator's RDTSCP
    // entry (group7_rm7, intercept-only, no EmulateOnUD) cannot run it under EMULTYPE_TRAP_UD.
    const ud = g.vcpu.recentExits().find((e) => e.name === "EXCEPTION_NMI");
    expect(ud).toMatchObject({ outcome: "#UD", why: "#UD reflected (handle_ud: no forced emulation prefix)" });
  });
  it("a VMM that drops LM/NX from the guest's CPUID gets set_efer's #GP back", () => {
    const src = ["  mov ecx, 0xc0000080", "  rdmsr", "  or eax, 0x800", "  wrmsr", "  mov r8d, 1", "  hlt"].join("\n");
    const drop = (v: Vcpu) => {
      const e = v.leaf(0x80000001);
      expect(v.setCpuid(v.withCpuidLeaf({ function: 0x80000001, index: 0, ...e, edx: 0 })).ok).toBe(true);
    };
    expect(runGuest(src, { host: "spr" }).cpu.getLo(8)).toBe(1);
    const g = runGuest(src, { host: "spr" }, drop);
    expect(g.cpu.getLo(8)).toBe(0);
    expect(g.cpu.tripleFault?.chain[0]).toMatchObject({ vector: 13, errorCode: 0 });
  });
});
