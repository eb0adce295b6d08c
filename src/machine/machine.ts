/**
 * A whole machine from one options object — host preset, module parameters, code state / policy, guest
 * vPMU model, host perf activity — as `vpmu run` and `vpmu explain` take them: a Kvm, a VM, one vCPU with
 * its CPUID and PERF_CAPABILITIES set the way userspace would (KVM_SET_CPUID2, KVM_SET_MSRS), and the
 * VMX layer. Every rejected option is an error value naming the option.
 */
import { findHostActivity, HOST_ACTIVITIES, type HostMsrValue } from "../host/activity.js";
import { configureVcpu, type PmuMode, type VpmuOptions } from "./config.js";
import type { Kvm } from "../kvm/kvm.js";
import type { Vcpu } from "../kvm/vcpu.js";
import { CODE_STATES } from "../pmu/code-states.js";
import { findPolicy, legacyPolicy } from "../vmx/policies/index.js";
import type { InterceptPolicy } from "../vmx/policies/policy.js";
import { IsolationChecker } from "../check/checker.js";
import type { VmxLayer } from "../vmx/vmx-layer.js";
import { Vmx } from "../vmx/vmx.js";

export interface MachineOptions extends Omit<VpmuOptions, "kvm"> {
  /** A code state (base|v4|fix, or legacy) or a parsed policy file (default "base"). With --pmu legacy/off
   *  the kernel runs without the mediated vPMU, so the LEGACY policy applies (R-INT-1). */
  readonly kvm?: string | InterceptPolicy;
  /** Host perf activity preset (default "idle") and --host-msr values. */
  readonly hostActivity?: string;
  readonly hostMsrs?: readonly HostMsrValue[];
  /** Assert I-1..I-4 at every load, entry and put (IsolationChecker.invariants). */
  readonly checkIsolation?: boolean;
  /** Record every load/put step (VmxLayer.recordSteps) for --exits. */
  readonly traceSwitch?: boolean;
}

export interface Machine {
  readonly kvm: Kvm;
  readonly vcpu: Vcpu;
  readonly layer: VmxLayer;
  /** Leaks and (with checkIsolation) invariant violations, recorded as the machine runs. */
  readonly checker: IsolationChecker;
  readonly policy: InterceptPolicy;
  readonly pmu: PmuMode;
}

export type MachineResult =
  | { readonly ok: true; readonly machine: Machine }
  | { readonly ok: false; readonly error: string };

/** configureVcpu (the vPMU's option handling) for the policy's code state, then the VMX layer. */
export function createMachine(o: MachineOptions): MachineResult {
  const fail = (error: string): MachineResult => ({ ok: false, error });
  const pmu = o.pmu ?? "legacy";
  let policy: InterceptPolicy | undefined = typeof o.kvm === "object" ? o.kvm : findPolicy(o.kvm ?? "base");
  if (!policy)
    return fail(`--kvm ${String(o.kvm)}: expected ${CODE_STATES.map((c) => c.id).join(", ")} or a policy file (.json)`);
  if (pmu !== "mediated") policy = legacyPolicy;
  else if (!policy.codeState.mediatedPmu) return fail(`--kvm ${policy.id} has no mediated vPMU: use --pmu legacy`);
  const activity = findHostActivity(o.hostActivity ?? "idle");
  if (!activity)
    return fail(
      `--host-activity ${o.hostActivity}: unknown (expected one of: ${HOST_ACTIVITIES.map((a) => a.id).join(", ")})`,
    );
  const vmx = new Vmx({ policy, activity, hostMsrs: o.hostMsrs ?? [] });
  const cfg = configureVcpu({ ...o, pmu, kvm: policy.codeState }, vmx);
  if ("error" in cfg) return fail(cfg.error);
  const layer = vmx.layerOf(cfg.vcpu);
  // The checker observes the VMX layer's entry/exit/load/put events; it is not called by the layer by name.
  const checker = new IsolationChecker(o.checkIsolation === true);
  layer.attach(checker);
  layer.recordSteps = o.traceSwitch === true;
  return { ok: true, machine: { kvm: cfg.kvm, vcpu: cfg.vcpu, layer, checker, policy, pmu } };
}
