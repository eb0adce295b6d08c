/**
 * The one interface common KVM code reaches the vendor module through, fixed when the KVM instance and each
 * vCPU are built: kvm_x86_init_ops (hardware_setup, pmu_ops) and kvm_x86_ops (arch/x86/include/asm/kvm_host.h,
 * kvm-x86-ops.h). VMX implements it in src/vmx (vmx/main.c vt_init_ops, vmx.c vmx_x86_ops).
 */
import type { MmioBus, Platform } from "../isa/platform.js";
import type { PmuOps } from "../pmu/pmu.js";
import type { Kvm } from "./kvm.js";
import type { Vcpu } from "./vcpu.js";

/** The vendor module as kvm_x86_vendor_init receives it (struct kvm_x86_init_ops). */
export interface X86Vendor {
  /** Module name, as /sys/module shows it ("kvm_intel"). */
  readonly name: string;
  /** The vendor's PMU half (kvm_x86_init_ops.pmu_ops: intel_pmu_ops). */
  readonly pmuOps: PmuOps;
  /** hardware_setup for this KVM instance: null if the vendor can serve it, else why not. */
  hardwareSetup(kvm: Kvm): string | null;
  /** kvm_caps.supported_perf_cap as the vendor computes it (vmx.c vmx_get_perf_capabilities). */
  supportedPerfCapabilities(kvm: Kvm): bigint;
  /** .vcpu_create: the vendor's part of one vCPU (struct vcpu_vmx), serving that vCPU's kvm_x86_ops. */
  vcpuCreate(vcpu: Vcpu): X86Ops;
}

/**
 * kvm_x86_ops as bound to one vCPU. The Platform half is the guest in non-root operation: each privileged
 * instruction either runs natively or is a VM exit the vendor dispatches through its exit-handler table
 * (vmx.c kvm_vmx_exit_handlers), whose rows call KVM's common emulation (src/kvm/x86.ts).
 */
export interface X86Ops extends Platform {
  /** .vcpu_after_set_cpuid / .recalc_intercepts: after vCPU creation, KVM_SET_CPUID2, a PMU refresh (§11.8). */
  recalcIntercepts(): void;
  /** The VM entry half of .vcpu_run (vcpu_enter_guest): mediated load and the VMCS GLOBAL_CTRL load (§12.1).
   *  Called before every entry; a no-op while the guest has not left the CPU. */
  enterGuest(): void;
  /** The CPU stopped without an instruction exit (budget, CPL change): an exit that happened anyway (a
   *  mediated PMI as an external interrupt, R-PMI-4) is taken and handled here. */
  handleStop(): void;
  /** Natively retired instructions the guest may run before the vendor needs control (Infinity: none). */
  runBudget(): number;
  /** Guest-physical pages outside RAM the vendor turns into exits (the APIC-access page). */
  readonly mmio: MmioBus;
  /** .vcpu_put when KVM_RUN returns to userspace: the guest context leaves the hardware (§12.2). */
  vcpuPut(): void;
}
