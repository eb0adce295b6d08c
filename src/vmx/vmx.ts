/**
 * The VMX vendor module (kvm_intel) as KVM's common code receives it: the intercept policy it runs, the
 * host's perf activity on the physical PMU, Intel's PMU ops, and vcpu_create building each vCPU's VMX part.
 * Facts: model.md §1 (code states), §11, §12; vmx/main.c (vt_init_ops), vmx.c (vmx_hardware_setup,
 * vmx_vcpu_create, vmx_get_perf_capabilities).
 */
import { findHostActivity, HostPerf, type HostActivityPreset, type HostMsrValue } from "../host/activity.js";
import { PhysicalPmu } from "../host/physical-pmu.js";
import type { Kvm } from "../kvm/kvm.js";
import type { Vcpu } from "../kvm/vcpu.js";
import type { X86Vendor } from "../kvm/x86-ops.js";
import { supportedPerfCapabilities } from "../pmu/capability.js";
import { intelPmuOps } from "../pmu/intel.js";
import { kernelPolicy } from "./policies/index.js";
import type { InterceptPolicy } from "./policies/policy.js";
import { VmxLayer } from "./vmx-layer.js";

export interface VmxOptions {
  /** The intercept policy (default: the kernel's own for the KVM instance's code state). */
  readonly policy?: InterceptPolicy;
  /** Host perf activity on the physical PMU (default "idle"). */
  readonly activity?: HostActivityPreset;
  /** --host-msr values the host's perf leaves in hardware. */
  readonly hostMsrs?: readonly HostMsrValue[];
}

/** kvm_intel for one KVM instance: built by the composition root, handed to Kvm.create as its vendor. */
export class Vmx implements X86Vendor {
  readonly name = "kvm_intel";
  readonly pmuOps = intelPmuOps;
  /** Each vCPU's VMX part, in creation order. */
  readonly vcpus: VmxLayer[] = [];
  private readonly activity: HostActivityPreset;
  private readonly hostMsrs: readonly HostMsrValue[];
  private policy: InterceptPolicy | null = null;

  constructor(private readonly opts: VmxOptions = {}) {
    this.activity = opts.activity ?? findHostActivity("idle")!;
    this.hostMsrs = opts.hostMsrs ?? [];
  }

  /** The policy's plan follows the instance's code state (kvm.params, as the vPMU emulation does); host perf
   *  must accept the host MSR values. Errors are sentences. */
  hardwareSetup(kvm: Kvm): string | null {
    const policy = this.opts.policy ?? kernelPolicy(kvm.params.codeState);
    const hp = HostPerf.create(new PhysicalPmu(kvm.host), this.activity, this.hostMsrs);
    if (!hp.ok) return hp.error;
    this.policy = policy;
    return null;
  }

  supportedPerfCapabilities(kvm: Kvm): bigint {
    const p = kvm.params;
    return supportedPerfCapabilities(kvm.host, p.enablePmu, p.codeState, p.enableMediatedPmu);
  }

  /** vmx_vcpu_create: the vCPU's own physical PMU with the host's perf activity on it, and its VMCS. */
  vcpuCreate(vcpu: Vcpu): VmxLayer {
    const kvm = vcpu.kvm;
    const policy = this.policy;
    if (policy === null) throw new Error("Vmx.vcpuCreate before hardwareSetup");
    const p = kvm.params;
    const phys = new PhysicalPmu(kvm.host);
    const hp = HostPerf.create(phys, this.activity, this.hostMsrs);
    if (!hp.ok) throw new Error(`host perf accepted at hardware_setup but not at vcpu_create: ${hp.error}`);
    const layer = new VmxLayer(vcpu, policy, p, kvm.host, phys, hp.value);
    this.vcpus.push(layer);
    return layer;
  }

  /** The VMX part of `vcpu` (to_vmx). */
  layerOf(vcpu: Vcpu): VmxLayer {
    const l = this.vcpus.find((x) => x.vcpu === vcpu);
    if (l === undefined) throw new Error(`vCPU ${vcpu.id} was not created by this VMX module`);
    return l;
  }
}
