/**
 * The composition root: the one place a machine is put together, for `vpmu run`/`explain`/`demo`, the
 * sweep, the benchmarks and the tests. In the order a VMM meets them: KVM with its module parameters
 * (kvm.ko enable_pmu, kvm_intel enable_mediated_pmu), a VM and one vCPU (KVM_CREATE_VM, KVM_CREATE_VCPU)
 * run by the VMX vendor layer (physical PMU, host perf activity, intercept policy, isolation checks), then
 * the guest's vPMU model as userspace sets it (KVM_SET_CPUID2, KVM_SET_MSRS, KVM_SET_PMU_EVENT_FILTER).
 */
import { CPUID_1_ECX_TSC_DEADLINE_TIMER } from "../arch/apicdef.js";
import { MSR_IA32_PERF_CAPABILITIES } from "../arch/msr-index.js";
import type { HostActivityPreset, HostMsrValue } from "../host/activity.js";
import type { HostPreset } from "../host/presets.js";
import { CPUID_1_ECX_PDCM } from "../arch/cpuid.js";
import type { CpuidEntry } from "../kvm/cpuid.js";
import { Kvm, KVM_PMU_CAP_DISABLE } from "../kvm/kvm.js";
import type { Vcpu } from "../kvm/vcpu.js";
import type { CodeState } from "../pmu/code-states.js";
import type { FilterError, PmuEventFilterInput } from "../pmu/filter.js";
import type { InterceptPolicy } from "../vmx/policies/policy.js";
import { IsolationChecker } from "../check/checker.js";
import type { VmxLayer } from "../vmx/vmx-layer.js";
import { Vmx } from "../vmx/vmx.js";
import { err, ok, type Result } from "../result.js";

/** `--pmu`: the perf-backed LEGACY vPMU (enable_mediated_pmu=0), the mediated vPMU, or enable_pmu=0. */
export type PmuMode = "legacy" | "mediated" | "off";

/** A machine described with every name already resolved (front ends: src/machine/options.ts for the CLI's
 *  options, src/sweep/run.ts for a sweep configuration). */
export interface MachineSpec {
  readonly host: HostPreset;
  readonly pmu: PmuMode;
  /** The intercept policy; its code state is the kernel's (Kvm params.codeState). */
  readonly policy: InterceptPolicy;
  readonly activity: HostActivityPreset;
  /** Host-owned values in hardware before the first entry (--host-msr). */
  readonly hostMsrs?: readonly HostMsrValue[];
  /** Module parameter enable_vmware_backdoor. */
  readonly vmwareBackdoor?: boolean;
  /** The host kernel keeps TSX (Kvm option tsx; default hidden). */
  readonly tsx?: boolean;
  /** Module parameter force_emulation_prefix (src/kvm/emulate-forced.ts). */
  readonly forceEmulationPrefix?: boolean;
  /** KVM_CAP_PMU_CAPABILITY(KVM_PMU_CAP_DISABLE) on the VM before the vCPU is created. */
  readonly vmPmuDisable?: boolean;
  /** Assert I-1..I-4 at every load, entry and put (IsolationChecker.invariants). */
  readonly checkIsolation?: boolean;
  /** Record every load/put step (VmxLayer.recordSteps) for --exits. */
  readonly traceSwitch?: boolean;
  /** Keep the vCPU's exit log (default true; the sweep turns it off: it reads only the leak records). */
  readonly logExits?: boolean;
  /** Refuse the machine when KVM turned enable_mediated_pmu off (R-MED-1) instead of running LEGACY. */
  readonly requireMediated?: boolean;
  /** The guest's vPMU model, set after the vCPU exists (or later, with setGuestPmu). */
  readonly guest?: GuestPmuRequest;
}

/** The guest's vPMU model as userspace hands it to KVM. */
export interface GuestPmuRequest {
  /** KVM_SET_CPUID2: leaf 0xA computed from the one KVM offers (the vCPU's initial table), and
   *  CPUID.1:ECX.PDCM set (true), cleared (false) or left (undefined). Absent: CPUID is not set. */
  readonly cpuid?: { readonly leaf0a: (supported: CpuidEntry) => CpuidEntry; readonly pdcm?: boolean };
  /** KVM_SET_MSRS of IA32_PERF_CAPABILITIES (host-initiated), after CPUID as KVM requires. */
  readonly perfCapabilities?: bigint;
  /** KVM_SET_PMU_EVENT_FILTER on the VM before the first run. */
  readonly filter?: PmuEventFilterInput;
}

/** Which step refused the machine; front ends turn it into their own sentence. */
export type MachineError =
  | { readonly step: "kvm" | "KVM_SET_CPUID2"; readonly error: string }
  | { readonly step: "mediated"; readonly reason: string }
  | { readonly step: "KVM_SET_MSRS"; readonly perfCapabilities: bigint; readonly supported: bigint }
  | { readonly step: "KVM_SET_PMU_EVENT_FILTER"; readonly filter: FilterError };

export interface Machine {
  readonly kvm: Kvm;
  readonly vcpu: Vcpu;
  readonly layer: VmxLayer;
  /** Leaks and (with checkIsolation) invariant violations, recorded as the machine runs. */
  readonly checker: IsolationChecker;
  readonly policy: InterceptPolicy;
  readonly pmu: PmuMode;
}

/** KVM (kvm.ko and the vendor module loaded with these parameters; hardware_setup may refuse). */
export function openKvm(
  spec: Pick<MachineSpec, "host" | "pmu" | "vmwareBackdoor" | "forceEmulationPrefix" | "requireMediated" | "tsx">,
  vendor: Vmx,
  codeState: CodeState | string,
): Result<Kvm, MachineError> {
  const kvm = Kvm.create({
    vendor,
    host: spec.host,
    codeState,
    enablePmu: spec.pmu !== "off",
    enableMediatedPmu: spec.pmu === "mediated",
    enableVmwareBackdoor: spec.vmwareBackdoor === true,
    tsx: spec.tsx === true,
    forceEmulationPrefix: spec.forceEmulationPrefix === true,
  });
  if (!(kvm instanceof Kvm)) return err({ step: "kvm", error: kvm.error });
  if (spec.requireMediated === true && spec.pmu === "mediated" && kvm.mediatedRejected !== null)
    return err({ step: "mediated", reason: kvm.mediatedRejected });
  return ok(kvm);
}

/** Build the machine: KVM with the VMX module as its vendor, a VM, one vCPU (whose VMX part the module
 *  built at vcpu_create), then the guest's vPMU model. */
export function buildMachine(spec: MachineSpec): Result<Machine, MachineError> {
  const vmx = new Vmx({ policy: spec.policy, activity: spec.activity, hostMsrs: spec.hostMsrs ?? [] });
  const kvm = openKvm(spec, vmx, spec.policy.codeState);
  if (!kvm.ok) return kvm;
  const vm = kvm.value.createVm();
  if (spec.vmPmuDisable === true && vm.enablePmuCapability(KVM_PMU_CAP_DISABLE) !== null)
    return err({ step: "kvm", error: "KVM_CAP_PMU_CAPABILITY is refused (EINVAL): enable_pmu is off" });
  const vcpu = vm.createVcpu();
  // QEMU's -cpu host turns on CPUID.1:ECX.TSC_DEADLINE_TIMER, which KVM emulates (KVM_GET_EMULATED_CPUID,
  // KVM_CAP_TSC_DEADLINE_TIMER) but leaves out of KVM_GET_SUPPORTED_CPUID: the LVT timer's TSC-deadline mode.
  // Given the guest's vPMU model too, it is one KVM_SET_CPUID2 with both, as QEMU makes it (the vCPU ends
  // exactly as after the two calls of buildMachine and setGuestPmu: test/machine/build).
  const leaf1 = vcpu.leaf(1);
  const table = vcpu.withCpuidLeaf({
    function: 1,
    index: 0,
    ...leaf1,
    ecx: (leaf1.ecx | CPUID_1_ECX_TSC_DEADLINE_TIMER) >>> 0,
  });
  const guestCpuid = spec.guest?.cpuid;
  if (guestCpuid === undefined) vcpu.setCpuid(table);
  else {
    const set = vcpu.setCpuid(guestCpuidTable(table, guestCpuid));
    if (!set.ok) return err({ step: "KVM_SET_CPUID2", error: set.error });
  }
  if (spec.logExits === false) vcpu.logExits = false;
  const layer = vmx.layerOf(vcpu);
  // The checker observes the VMX layer's entry/exit/load/put events; the layer does not call it by name.
  const checker = new IsolationChecker(spec.checkIsolation === true);
  layer.attach(checker);
  layer.recordSteps = spec.traceSwitch === true;
  if (spec.guest !== undefined) {
    const g = setGuestPmu(vcpu, { ...spec.guest, cpuid: undefined });
    if (!g.ok) return g;
  }
  return ok({ kvm: kvm.value, vcpu, layer, checker, policy: spec.policy, pmu: spec.pmu });
}

/** `table` with the guest's leaf 0xA (computed from the one in `table`, KVM's supported leaf) and PDCM. */
function guestCpuidTable(table: readonly CpuidEntry[], c: NonNullable<GuestPmuRequest["cpuid"]>): CpuidEntry[] {
  const supported = table.find((e) => e.function === 0xa && e.index === 0)!;
  const leaf = c.leaf0a(supported);
  let out = [...table.filter((e) => !(e.function === leaf.function && e.index === leaf.index)), leaf];
  const pdcm = c.pdcm;
  if (pdcm !== undefined)
    out = out.map((e) =>
      e.function === 1 && e.index === 0
        ? { ...e, ecx: (pdcm ? e.ecx | CPUID_1_ECX_PDCM : e.ecx & ~CPUID_1_ECX_PDCM) >>> 0 }
        : e,
    );
  return out;
}

/** KVM_SET_CPUID2, then KVM_SET_MSRS PERF_CAPABILITIES (its checks read the CPUID, R-CFG-1..4), then the
 *  VM's event filter: each refuses as the ioctl would. */
export function setGuestPmu(vcpu: Vcpu, g: GuestPmuRequest): Result<void, MachineError> {
  if (g.cpuid !== undefined) {
    const set = vcpu.setCpuid(guestCpuidTable(vcpu.cpuidTable, g.cpuid));
    if (!set.ok) return err({ step: "KVM_SET_CPUID2", error: set.error });
  }
  const caps = g.perfCapabilities;
  if (caps !== undefined && !vcpu.setMsr(MSR_IA32_PERF_CAPABILITIES, caps, { hostInitiated: true }))
    return err({
      step: "KVM_SET_MSRS",
      perfCapabilities: caps,
      supported: vcpu.vm.kvm.supportedPerfCapabilities(),
    });
  if (g.filter !== undefined) {
    const e = vcpu.vm.setPmuEventFilter(g.filter);
    if (e !== null) return err({ step: "KVM_SET_PMU_EVENT_FILTER", filter: e });
  }
  return ok(undefined);
}
