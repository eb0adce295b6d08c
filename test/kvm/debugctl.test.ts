// Which IA32_DEBUGCTL bits a guest may set (vmx.c vmx_get_supported_debugctl, vmx_is_valid_debugctl): LBR and
// FREEZE_LBRS_ON_PMI with guest LBRs (test/pmu/lbr.test.ts), RTM_DEBUG when the host has RTM and the guest's
// CPUID has it ("KVM: VMX: Allow guest to set DEBUGCTL.RTM_DEBUG if RTM is supported"), BUS_LOCK_DETECT only
// with X86_FEATURE_BUS_LOCK_DETECT (no preset has it); BTF and an unsupported LBR are dropped silently, any
// other unsupported bit is a #GP. Host-initiated writes skip the guest-CPUID half of each rule.
import { describe, expect, it } from "vitest";
import { Kvm } from "../../src/kvm/kvm.js";
import type { Vcpu } from "../../src/kvm/vcpu.js";
import { createKvm, type TestKvmOptions } from "./harness.js";

const MSR_IA32_DEBUGCTLMSR = 0x1d9;
const BTF = 1n << 1n;
const BUS_LOCK_DETECT = 1n << 2n;
const RTM_DEBUG = 1n << 15n;
const guest = { hostInitiated: false };

function vcpuOf(opts: TestKvmOptions, dropGuestRtm = false): Vcpu {
  const k = createKvm({ host: "spr", ...opts });
  if (!(k instanceof Kvm)) throw new Error(k.error);
  const v = k.createVm().createVcpu();
  if (dropGuestRtm) {
    const e = v.leaf(7);
    expect(v.setCpuid(v.withCpuidLeaf({ function: 7, index: 0, ...e, ebx: e.ebx & ~(1 << 11) })).ok).toBe(true);
  }
  return v;
}

describe("DEBUGCTL bits per configuration (vmx_get_supported_debugctl)", () => {
  for (const codeState of ["legacy", "base", "v4", "fix"] as const) {
    const opts: TestKvmOptions = { codeState, enableMediatedPmu: codeState !== "legacy" };
    it(`${codeState}: RTM_DEBUG with host and guest RTM (tsx=on)`, () => {
      const v = vcpuOf({ ...opts, tsx: true });
      expect(v.leaf(7).ebx & (1 << 11)).not.toBe(0);
      expect(v.setMsr(MSR_IA32_DEBUGCTLMSR, RTM_DEBUG, guest)).toBe(true);
      expect(v.getMsr(MSR_IA32_DEBUGCTLMSR, guest)).toEqual({ ok: true, value: RTM_DEBUG });
      // BTF is dropped (kvm_pr_unimpl_wrmsr), the rest kept.
      expect(v.setMsr(MSR_IA32_DEBUGCTLMSR, RTM_DEBUG | BTF, guest)).toBe(true);
      expect(v.getMsr(MSR_IA32_DEBUGCTLMSR, guest)).toEqual({ ok: true, value: RTM_DEBUG });
    });
    it(`${codeState}: RTM_DEBUG is a #GP when the host kernel hid TSX, or the VMM took RTM from the guest`, () => {
      const off = vcpuOf(opts);
      expect(off.setMsr(MSR_IA32_DEBUGCTLMSR, RTM_DEBUG, guest)).toBe(false);
      expect(off.setMsr(MSR_IA32_DEBUGCTLMSR, RTM_DEBUG)).toBe(false); // boot_cpu_has(RTM) is false for the host too
      const dropped = vcpuOf({ ...opts, tsx: true }, true);
      expect(dropped.setMsr(MSR_IA32_DEBUGCTLMSR, RTM_DEBUG, guest)).toBe(false);
      expect(dropped.setMsr(MSR_IA32_DEBUGCTLMSR, RTM_DEBUG)).toBe(true); // host_initiated skips guest CPUID
      expect(dropped.getMsr(MSR_IA32_DEBUGCTLMSR)).toEqual({ ok: true, value: RTM_DEBUG });
    });
    it(`${codeState}: BUS_LOCK_DETECT is a #GP (no preset has X86_FEATURE_BUS_LOCK_DETECT); BTF alone reads 0`, () => {
      const v = vcpuOf({ ...opts, tsx: true });
      expect(v.setMsr(MSR_IA32_DEBUGCTLMSR, BUS_LOCK_DETECT, guest)).toBe(false);
      expect(v.setMsr(MSR_IA32_DEBUGCTLMSR, BUS_LOCK_DETECT)).toBe(false);
      expect(v.setMsr(MSR_IA32_DEBUGCTLMSR, BTF, guest)).toBe(true);
      expect(v.getMsr(MSR_IA32_DEBUGCTLMSR, guest)).toEqual({ ok: true, value: 0n });
    });
  }
});
