// Issue 14 items 9 and 11: per-VM KVM_CAP_PMU_CAPABILITY (x86.c kvm_vm_ioctl_enable_cap), a hybrid host
// (pmu.c kvm_init_pmu_capability turns enable_pmu off), CPUID.0AH EBX/EAX[31:24]/ECX as KVM reads them
// (intel_pmu_refresh), and host MSR writes / event filter changes between two KVM_RUNs.
import { describe, expect, it } from "vitest";
import { hybridVariant, findHostPreset } from "../../src/host/presets.js";
import { Kvm, KVM_PMU_CAP_DISABLE } from "../../src/kvm/kvm.js";
import { KVM_PMU_EVENT_DENY } from "../../src/pmu/filter.js";
import { configureVcpu } from "../../src/machine/index.js";
import { createKvm, runGuest, type TestKvmOptions } from "./harness.js";

const STATES: readonly [string, TestKvmOptions][] = [
  ["legacy", { codeState: "legacy" }],
  ["base", { codeState: "base", enableMediatedPmu: true }],
  ["v4", { codeState: "v4", enableMediatedPmu: true }],
  ["fix", { codeState: "fix", enableMediatedPmu: true }],
];
const guest = { hostInitiated: false };

function kvmOf(opts: TestKvmOptions): Kvm {
  const k = createKvm(opts);
  if (!(k instanceof Kvm)) throw new Error(k.error);
  return k;
}

describe("KVM_CAP_PMU_CAPABILITY disables one VM's vPMU", () => {
  for (const [name, opts] of STATES) {
    it(name, () => {
      const k = kvmOf({ ...opts, host: "spr" });
      const off = k.createVm();
      expect(off.enablePmuCapability(2)).toBe("EINVAL"); // only KVM_PMU_CAP_DISABLE is a valid flag
      expect(off.enablePmuCapability(KVM_PMU_CAP_DISABLE)).toBeNull();
      const v = off.createVcpu();
      expect(off.enablePmuCapability(0)).toBe("EINVAL"); // a vCPU exists
      expect([v.pmu.version, v.pmu.nGP, v.pmu.nFX, v.pmu.mediated]).toEqual([0, 0, 0, false]);
      for (const m of [0x38f, 0x309, 0x4c1, 0x186 + 2]) expect(v.getMsr(m, guest).ok).toBe(false);
      expect(v.getMsr(0x38f)).toEqual({ ok: true, value: 0n }); // listed: host reads 0
      // The other VM of the same KVM keeps its vPMU.
      const on = k.createVm().createVcpu();
      expect([on.pmu.version, on.pmu.nGP, on.pmu.mediated]).toEqual([2, 8, name !== "legacy"]);
    });
  }
  it("EINVAL when the module's enable_pmu is off", () => {
    expect(kvmOf({ host: "spr", enablePmu: false }).createVm().enablePmuCapability(KVM_PMU_CAP_DISABLE)).toBe("EINVAL");
  });
  it("through the machine options (vmPmuDisable)", () => {
    const c = configureVcpu({ host: "spr", vmPmuDisable: true });
    if ("error" in c) throw new Error(c.error);
    expect(c.vcpu.pmu.version).toBe(0);
  });
});

describe("hybrid host: kvm_init_pmu_capability turns enable_pmu off", () => {
  for (const [name, opts] of STATES) {
    it(name, () => {
      const k = kvmOf({ ...opts, host: hybridVariant(findHostPreset("spr")!) });
      expect(k.params.enablePmu).toBe(false);
      expect(k.params.enableMediatedPmu).toBe(false);
      if (name !== "legacy")
        expect(k.mediatedRejected).toBe("the host is hybrid: kvm_init_pmu_capability turns enable_pmu off");
      const a = k.getSupportedCpuid().find((e) => e.function === 0xa)!;
      expect([a.eax, a.ebx, a.ecx, a.edx]).toEqual([0, 0, 0, 0]);
      expect(k.createVm().createVcpu().pmu.version).toBe(0);
    });
  }
});

describe("CPUID.0AH EBX, EAX[31:24] and ECX (intel_pmu_refresh)", () => {
  for (const [name] of STATES) {
    it(name, () => {
      const mode = name === "legacy" ? {} : { pmu: "mediated" as const, kvm: name };
      // EBX bit 2 (reference cycles) unavailable, length 8: available_event_types = ~EBX & 0xff.
      const a = configureVcpu({ host: "spr", ...mode, eventsUnavailable: 0x4 });
      if ("error" in a) throw new Error(a.error);
      expect(a.vcpu.pmu.availableEventTypes).toBe(0xfb);
      expect(a.vcpu.leaf(0xa).ebx).toBe(0x4);
      // A length above KVM's (8 on SPR) is clamped to it; the guest still reads what the VMM wrote.
      const b = configureVcpu({ host: "spr", ...mode, eventMaskLength: 13, eventsUnavailable: 0x1001 });
      if ("error" in b) throw new Error(b.error);
      expect(b.vcpu.pmu.availableEventTypes).toBe(0xfe);
      expect(b.vcpu.leaf(0xa).eax >>> 24).toBe(13);
      // ECX names fixed counters 0..3, EDX[4:0] = 0: KVM ignores ECX, so no fixed counter exists.
      const c = configureVcpu({ host: "spr", ...mode, fixed: 0, fixedBitmap: 0xf });
      if ("error" in c) throw new Error(c.error);
      expect(c.vcpu.leaf(0xa).ecx).toBe(0xf);
      expect(c.vcpu.pmu.nFX).toBe(0);
      for (let i = 0; i < 4; i++) expect(c.vcpu.getMsr(0x309 + i, guest).ok).toBe(false);
      expect(c.vcpu.setMsr(0x38d, 0xbn, guest)).toBe(false);
    });
  }
});

describe("between two KVM_RUNs: KVM_SET_MSRS and KVM_SET_PMU_EVENT_FILTER", () => {
  // GP0 counts instructions at CPL 0 (EN|OS|USR, 0xC0); the guest stops twice with OUT 0xF4 and reads PMC0.
  const src = [
    "  mov ecx, 0x186",
    "  mov eax, 0x4300c0",
    "  xor edx, edx",
    "  wrmsr", // counted: the enabling WRMSR
    "  nop",
    "  nop",
    "  mov dx, 0xf4",
    "  out dx, al", // 1st KVM_RUN ends here
    "  nop",
    "  nop",
    "  nop",
    "  mov ecx, 0xc1",
    "  rdmsr",
    "  mov r8d, eax",
    "  mov dx, 0xf4",
    "  out dx, al", // 2nd KVM_RUN ends here
    "  nop",
    "  mov ecx, 0xc1",
    "  rdmsr",
    "  mov r9d, eax",
    "  hlt",
  ].join("\n");
  for (const [name, opts] of STATES) {
    it(name, () => {
      const g = runGuest(src, { ...opts, host: "spr" });
      expect(g.exit).toEqual({ reason: "io", port: 0xf4, value: 0xc0 });
      // wrmsr, nop, nop, mov dx: 4 (the OUT that ended the run is not completed yet).
      expect(g.vcpu.getMsr(0xc1)).toEqual({ ok: true, value: 4n });
      expect(g.vcpu.setMsr(0xc1, 1000n)).toBe(true); // host write between runs
      expect(g.vcpu.run({ maxInstructions: 1000 })).toMatchObject({ reason: "io", port: 0xf4 });
      // 1000 + the OUT (completed on re-entry, complete_fast_pio_out), nop×3, mov ecx = 1005 (RDMSR reads first).
      expect(g.cpu.getLo(8)).toBe(1005);
      // Deny instructions retired (KVM_SET_PMU_EVENT_FILTER after a KVM_RUN): nothing more is counted.
      const before = g.vcpu.getMsr(0xc1);
      expect(g.vcpu.vm.setPmuEventFilter({ action: KVM_PMU_EVENT_DENY, events: [0xc0n] })).toBeNull();
      expect(g.vcpu.run({ maxInstructions: 1000 })).toEqual({ reason: "hlt" });
      expect(before).toEqual({ ok: true, value: BigInt(g.cpu.getLo(9)) });
      expect(g.cpu.getLo(9)).toBe(1008);
    });
  }
});
