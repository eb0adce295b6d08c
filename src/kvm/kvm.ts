/**
 * The "small KVM" a user drives: module parameters + host preset (Kvm), a VM with its PMU event filter
 * (Vm), and vCPUs (src/kvm/vcpu.ts). Verbs follow KVM's API. Facts: model.md §2 (knobs, R-MED-1), §6.1, §10;
 * pmu.c (kvm_init_pmu_capability, kvm_vm_ioctl_set_pmu_event_filter).
 */
import { findHostPreset, type HostPreset, type HostPresetId } from "../host/presets.js";
import {
  isFilterError,
  preparePmuEventFilter,
  type FilterError,
  type PmuEventFilter,
  type PmuEventFilterInput,
} from "../pmu/filter.js";
import { hostMediatedPmuUnsupported } from "../pmu/capability.js";
import { findCodeState, type CodeState } from "../pmu/code-states.js";
import type { PmuCap } from "../pmu/pmu.js";
import { supportedCpuid, type CpuidEntry } from "./cpuid.js";
import { Vcpu } from "./vcpu.js";
import type { X86Vendor } from "./x86-ops.js";

export interface KvmOptions {
  /** The vendor module (kvm_x86_vendor_init's ops): src/vmx's Vmx. Fixed for the instance's lifetime. */
  readonly vendor: X86Vendor;
  /** Host CPU preset id or row (default "spr"). */
  readonly host?: HostPresetId | HostPreset;
  /** Kernel code state (model.md §1): a row of src/pmu/code-states.ts or a built-in's name. "legacy" = a kernel
   *  without the mediated vPMU. Default "base". */
  readonly codeState?: CodeState | string;
  /** Module parameter enable_pmu (default true). */
  readonly enablePmu?: boolean;
  /** Module parameter enable_mediated_pmu (default false). */
  readonly enableMediatedPmu?: boolean;
  /** Module parameter enable_vmware_backdoor (default false). */
  readonly enableVmwareBackdoor?: boolean;
  /** The host kernel keeps TSX (tsx=on): X86_FEATURE_HLE/RTM stay in boot_cpu_data, so KVM's supported
   *  CPUID reports them (kvm_set_cpu_caps) and intel_pmu_refresh may allow IN_TX. Default off, as most
   *  hosts run today (CONFIG_X86_INTEL_TSX_MODE_OFF, or the TAA mitigation): TSX is hidden. */
  readonly tsx?: boolean;
  /** Module parameter force_emulation_prefix (default false): ud2; "kvm" before an instruction makes KVM
   *  emulate it (src/kvm/emulate-forced.ts). */
  readonly forceEmulationPrefix?: boolean;
}

export interface KvmParams {
  readonly enablePmu: boolean;
  /** After R-MED-1: silently off if the host or kernel cannot mediate. */
  readonly enableMediatedPmu: boolean;
  readonly enableVmwareBackdoor: boolean;
  readonly forceEmulationPrefix: boolean;
  readonly codeState: CodeState;
  /** The host kernel left HLE/RTM enabled (KvmOptions.tsx). */
  readonly tsx: boolean;
}

export type KvmError = { readonly error: string };

export class Kvm {
  readonly host: HostPreset;
  readonly params: KvmParams;
  /** Why enable_mediated_pmu was forced off (R-MED-1), if it was requested. */
  readonly mediatedRejected: string | null;

  private constructor(
    host: HostPreset,
    params: KvmParams,
    mediatedRejected: string | null,
    readonly vendor: X86Vendor,
  ) {
    this.host = host;
    this.params = params;
    this.mediatedRejected = mediatedRejected;
  }

  /** Open the model: validates the options, applies R-MED-1, then the vendor's hardware_setup. */
  static create(opts: KvmOptions): Kvm | KvmError {
    const host =
      typeof opts.host === "object" && opts.host !== null
        ? opts.host
        : typeof (opts.host ?? "spr") === "string"
          ? findHostPreset(opts.host ?? "spr")
          : undefined;
    if (host === undefined) return { error: `unknown host preset '${String(opts.host)}'` };
    const codeState = typeof opts.codeState === "object" ? opts.codeState : findCodeState(opts.codeState ?? "base");
    if (codeState === undefined) return { error: `unknown code state '${String(opts.codeState)}'` };
    // kvm_init_pmu_capability: a hybrid host (X86_FEATURE_HYBRID_CPU) gets enable_pmu forced off, because
    // KVM's APIs cannot describe two PMUs; nothing of the host PMU is reported.
    const enablePmu = (opts.enablePmu ?? true) && !host.hybrid;
    let mediated = opts.enableMediatedPmu ?? false;
    let rejected: string | null = null;
    if (mediated) rejected = mediatedUnsupported(host, enablePmu, codeState);
    if (rejected !== null) mediated = false;
    const kvm = new Kvm(
      host,
      {
        enablePmu,
        enableMediatedPmu: mediated,
        enableVmwareBackdoor: opts.enableVmwareBackdoor ?? false,
        forceEmulationPrefix: opts.forceEmulationPrefix ?? false,
        codeState,
        tsx: opts.tsx ?? false,
      },
      rejected,
      opts.vendor,
    );
    const refused = opts.vendor.hardwareSetup(kvm);
    return refused === null ? kvm : { error: refused };
  }

  /** kvm_pmu_cap for this instance (mediation decides the fixed-counter limit). */
  pmuCap(): PmuCap {
    const p = this.params;
    return this.vendor.pmuOps.pmuCap(this.host, p.enablePmu, p.codeState, p.enableMediatedPmu);
  }

  /** kvm_caps.supported_perf_cap (the vendor's vmx_get_perf_capabilities). */
  supportedPerfCapabilities(): bigint {
    return this.vendor.supportedPerfCapabilities(this);
  }

  /** Guest PEBS is offered (vmx_pebs_supported, and not with the mediated vPMU). */
  pebsSupported(): boolean {
    return this.params.enablePmu && this.host.pebs && !this.params.enableMediatedPmu;
  }

  /** KVM_GET_SUPPORTED_CPUID (modelled leaves). */
  getSupportedCpuid(): CpuidEntry[] {
    return supportedCpuid(this.host, this.pmuCap(), this.supportedPerfCapabilities() !== 0n, this.pebsSupported(), {
      hle: this.hostHas("hle"),
      rtm: this.hostHas("rtm"),
    });
  }

  /** boot_cpu_has(X86_FEATURE_HLE / RTM): the part has it and the host kernel did not turn TSX off. */
  hostHas(feature: "hle" | "rtm"): boolean {
    return this.params.tsx && this.host[feature];
  }

  createVm(): Vm {
    return new Vm(this);
  }
}

/** R-MED-1 (kvm_init_pmu_capability, intel_pmu_is_mediated_pmu_supported): the reason, or null if usable. */
export function mediatedUnsupported(host: HostPreset, enablePmu: boolean, codeState: CodeState): string | null {
  if (!codeState.mediatedPmu) return `the ${codeState.label} kernel has no mediated vPMU`;
  if (host.hybrid) return "the host is hybrid: kvm_init_pmu_capability turns enable_pmu off";
  if (!enablePmu) return "enable_pmu is off";
  return hostMediatedPmuUnsupported(host);
}

/** KVM_CAP_PMU_CAPABILITY's only flag (uapi kvm.h KVM_PMU_CAP_DISABLE). */
export const KVM_PMU_CAP_DISABLE = 1;

export class Vm {
  readonly vcpus: Vcpu[] = [];
  /** The installed PMU event filter (null = none). */
  pmuEventFilter: PmuEventFilter | null = null;
  /** kvm->arch.enable_pmu: the module parameter, until KVM_CAP_PMU_CAPABILITY disables it for this VM. */
  enablePmu: boolean;

  constructor(readonly kvm: Kvm) {
    this.enablePmu = kvm.params.enablePmu;
  }

  /**
   * KVM_ENABLE_CAP(KVM_CAP_PMU_CAPABILITY) (x86.c kvm_vm_ioctl_enable_cap): EINVAL if enable_pmu is off, if
   * `flags` has bits other than KVM_PMU_CAP_DISABLE, or once a vCPU exists; otherwise the VM's vPMU is on
   * or off for every vCPU created later (kvm_pmu_refresh then leaves version 0). Null on success.
   */
  enablePmuCapability(flags: number): "EINVAL" | null {
    if (!this.kvm.params.enablePmu || (flags & ~KVM_PMU_CAP_DISABLE) !== 0 || this.vcpus.length > 0) return "EINVAL";
    this.enablePmu = (flags & KVM_PMU_CAP_DISABLE) === 0;
    return null;
  }

  /** KVM_CREATE_VCPU. */
  createVcpu(): Vcpu {
    const v = new Vcpu(this, this.vcpus.length);
    this.vcpus.push(v);
    return v;
  }

  /**
   * KVM_SET_PMU_EVENT_FILTER (R-FLT-1..6): validate, install, and queue every counter of every vCPU for
   * reprogramming (takes effect before their next entry). Returns null on success or the ioctl's error.
   */
  setPmuEventFilter(input: PmuEventFilterInput | null): FilterError | null {
    if (input === null) {
      this.pmuEventFilter = null;
    } else {
      const f = preparePmuEventFilter(input);
      if (isFilterError(f)) return f;
      this.pmuEventFilter = f;
    }
    for (const v of this.vcpus) v.filterChanged();
    return null;
  }
}
