/**
 * The machine as `vpmu run` and `vpmu explain` describe it — host preset, PMU mode, code state or policy
 * file, guest vPMU model (CPUID 0xA, PDCM, PERF_CAPABILITIES), event filter, host perf activity — resolved
 * into a MachineSpec and built by the composition root. Every rejected option is one sentence naming it.
 */
import { findHostActivity, HOST_ACTIVITIES, type HostMsrValue } from "../host/activity.js";
import { findHostPreset, HOST_PRESET_IDS, hybridVariant, type HostPreset } from "../host/presets.js";
import { KVM_PMU_CAP_DISABLE } from "../kvm/kvm.js";
import type { CpuidEntry } from "../kvm/cpuid.js";
import type { Kvm } from "../kvm/kvm.js";
import type { Vcpu } from "../kvm/vcpu.js";
import { CODE_STATES, type CodeState } from "../pmu/code-states.js";
import type { PmuEventFilterInput } from "../pmu/filter.js";
import { findPolicy, legacyPolicy } from "../vmx/policies/index.js";
import type { InterceptPolicy } from "../vmx/policies/policy.js";
import { Vmx } from "../vmx/vmx.js";
import { err, ok, type Result } from "../result.js";
import {
  buildMachine,
  openKvm,
  setGuestPmu,
  type GuestPmuRequest,
  type Machine,
  type MachineError,
  type PmuMode,
} from "./machine.js";

export interface VpmuOptions {
  /** Host preset id (skx | icx | spr | gnr); default spr. */
  readonly host?: string;
  /** default legacy, or mediated when kvm names a mediated code state or policy (createMachine). */
  readonly pmu?: PmuMode;
  /** Kernel code state for mediated runs: base | v4 | fix (default base). Ignored for legacy/off. */
  readonly kvm?: CodeState | string;
  readonly pmuVersion?: number;
  readonly gp?: number;
  readonly gpWidth?: number;
  readonly fixed?: number;
  readonly fixedWidth?: number;
  /** Guest PERF_CAPABILITIES, written host-initiated after CPUID (must be a subset of the supported caps). */
  readonly perfCaps?: bigint;
  /** Clear CPUID.1:ECX.PDCM. */
  readonly noPdcm?: boolean;
  /** KVM_SET_PMU_EVENT_FILTER on the VM before the first run. */
  readonly filter?: PmuEventFilterInput;
  /** The host kernel keeps TSX (tsx=on): KVM reports HLE/RTM as the part has them (default: hidden). */
  readonly tsx?: boolean;
  /** The host preset reported as a hybrid CPU: KVM turns enable_pmu off (kvm_init_pmu_capability). */
  readonly hybridHost?: boolean;
  /** KVM_CAP_PMU_CAPABILITY with KVM_PMU_CAP_DISABLE on the VM before its vCPU exists. */
  readonly vmPmuDisable?: boolean;
  /** Guest CPUID.0AH:EBX (events the guest is told are unavailable), EAX[31:24] (its length) and ECX (the
   *  fixed-counter bitmap); KVM's supported values when absent. */
  readonly eventsUnavailable?: number;
  readonly eventMaskLength?: number;
  readonly fixedBitmap?: number;
}

export interface MachineOptions extends Omit<VpmuOptions, "kvm"> {
  /** A code state (base|v4|fix, or legacy) or a parsed policy file (default "base"). A mediated one implies
   *  pmu "mediated" and is refused with legacy/off; without the mediated vPMU the LEGACY policy applies (R-INT-1). */
  readonly kvm?: string | InterceptPolicy;
  /** Host perf activity preset (default "idle") and --host-msr values. */
  readonly hostActivity?: string;
  readonly hostMsrs?: readonly HostMsrValue[];
  /** Assert I-1..I-4 at every load, entry and put (IsolationChecker.invariants). */
  readonly checkIsolation?: boolean;
  /** Record every load/put step (VmxLayer.recordSteps) for --exits. */
  readonly traceSwitch?: boolean;
  /** Module parameters enable_vmware_backdoor and force_emulation_prefix (default off). */
  readonly vmwareBackdoor?: boolean;
  readonly forceEmulationPrefix?: boolean;
}

/** The options' machine, built by the composition root (buildMachine), or the sentence saying why not. */
export function createMachine(o: MachineOptions): Result<Machine, string> {
  let policy: InterceptPolicy | undefined = typeof o.kvm === "object" ? o.kvm : findPolicy(o.kvm ?? "base");
  if (!policy)
    return err(`--kvm ${String(o.kvm)}: expected ${CODE_STATES.map((c) => c.id).join(", ")} or a policy file (.json)`);
  // A mediated code state (base, v4, fix or a policy file on one) is the mediated vPMU: without --pmu it
  // implies --pmu mediated, and an explicit --pmu legacy/off contradicts it.
  const mediatedKvm = o.kvm !== undefined && policy.codeState.mediatedPmu;
  const pmu = o.pmu ?? (mediatedKvm ? "mediated" : "legacy");
  if (mediatedKvm && pmu !== "mediated")
    return err(
      `--pmu ${pmu} contradicts --kvm ${policy.id}, a kernel with the mediated vPMU: drop --pmu or use --pmu mediated`,
    );
  if (pmu !== "mediated") policy = legacyPolicy;
  else if (!policy.codeState.mediatedPmu) return err(`--kvm ${policy.id} has no mediated vPMU: use --pmu legacy`);
  const activity = findHostActivity(o.hostActivity ?? "idle");
  if (!activity)
    return err(
      `--host-activity ${o.hostActivity}: unknown (expected one of: ${HOST_ACTIVITIES.map((a) => a.id).join(", ")})`,
    );
  const host = resolveHost(o);
  if (!host.ok) return host;
  const m = buildMachine({
    host: host.value,
    pmu,
    policy,
    activity,
    hostMsrs: o.hostMsrs ?? [],
    checkIsolation: o.checkIsolation === true,
    traceSwitch: o.traceSwitch === true,
    vmwareBackdoor: o.vmwareBackdoor === true,
    forceEmulationPrefix: o.forceEmulationPrefix === true,
    requireMediated: true,
    tsx: o.tsx === true,
    vmPmuDisable: o.vmPmuDisable === true,
  });
  if (!m.ok) return err(sentence(m.error, o));
  // The guest model after KVM accepted the module parameters, as userspace sets it on the new vCPU.
  const guest = guestRequest(o, host.value, pmu);
  if (!guest.ok) return guest;
  const set = setGuestPmu(m.value.vcpu, guest.value);
  return set.ok ? m : err(sentence(set.error, o));
}

export interface ConfiguredVcpu {
  readonly kvm: Kvm;
  readonly vcpu: Vcpu;
}

/** The same options on the kernel's own intercept policy for the code state and an idle host: the vCPU
 *  and its KVM, for tests of common KVM code. */
export function configureVcpu(o: VpmuOptions): ConfiguredVcpu | { readonly error: string } {
  const host = resolveHost(o);
  if (!host.ok) return { error: host.error };
  const mode = o.pmu ?? "legacy";
  const codeState = mode === "mediated" ? (o.kvm ?? "base") : "legacy";
  const kvm = openKvm(
    { host: host.value, pmu: mode, requireMediated: true, tsx: o.tsx === true },
    new Vmx(),
    codeState,
  );
  if (!kvm.ok) return { error: sentence(kvm.error, o) };
  const vm = kvm.value.createVm();
  if (o.vmPmuDisable === true && vm.enablePmuCapability(KVM_PMU_CAP_DISABLE) !== null)
    return { error: "KVM_CAP_PMU_CAPABILITY is refused (EINVAL): enable_pmu is off" };
  const vcpu = vm.createVcpu();
  const guest = guestRequest(o, host.value, mode);
  if (!guest.ok) return { error: guest.error };
  const set = setGuestPmu(vcpu, guest.value);
  if (!set.ok) return { error: sentence(set.error, o) };
  return { kvm: kvm.value, vcpu };
}

function resolveHost(o: Omit<VpmuOptions, "kvm">): Result<HostPreset, string> {
  const hostId = o.host ?? "spr";
  const host = typeof hostId === "string" ? findHostPreset(hostId) : undefined;
  if (host === undefined) return err(`unknown host preset '${hostId}' (expected one of ${HOST_PRESET_IDS.join(", ")})`);
  const mode = o.pmu ?? "legacy";
  if (!["legacy", "mediated", "off"].includes(mode))
    return err(`--pmu must be legacy, mediated or off (got '${mode}')`);
  return ok(o.hybridHost === true ? hybridVariant(host) : host);
}

/** The guest model options as KVM_SET_CPUID2 / KVM_SET_MSRS / KVM_SET_PMU_EVENT_FILTER arguments: leaf 0xA
 *  is KVM's supported one with the given fields replaced (CPUID is left alone with --pmu off). */
function guestRequest(o: Omit<VpmuOptions, "kvm">, host: HostPreset, mode: PmuMode): Result<GuestPmuRequest, string> {
  const checks: [number | undefined, number, number, string][] = [
    [o.pmuVersion, 0, 255, "--pmu-version"],
    [o.gp, 0, host.nGP, "--gp"],
    // KVM clamps a wider guest counter to the host's width (and a 0-bit counter counts nothing): refused
    // here instead, as a counter count above the host's is.
    [o.gpWidth, 1, host.wGP, "--gp-width"],
    [o.fixed, 0, host.nFX, "--fixed"],
    [o.fixedWidth, 1, host.wFX, "--fixed-width"],
    [o.eventMaskLength, 0, 255, "--event-mask-length"],
    [o.eventsUnavailable, 0, 0xffffffff, "--events-unavailable"],
    [o.fixedBitmap, 0, 0xffffffff, "--fixed-bitmap"],
  ];
  for (const [v, lo, hi, flag] of checks) {
    if (v === undefined) continue;
    if (!Number.isInteger(v) || v < lo || v > hi)
      return err(`${flag} must be an integer from ${lo} to ${hi} for host ${host.id} (got ${v})`);
  }
  if (o.perfCaps !== undefined && typeof o.perfCaps !== "bigint")
    return err(`--perf-caps must be an integer (got ${String(o.perfCaps)})`);
  const leaf0a = (a: CpuidEntry): CpuidEntry => {
    const version = o.pmuVersion ?? a.eax & 0xff;
    const nGP = o.gp ?? (a.eax >>> 8) & 0xff;
    const wGP = o.gpWidth ?? (a.eax >>> 16) & 0xff;
    const len = o.eventMaskLength ?? (a.eax >>> 24) & 0xff;
    const nFX = o.fixed ?? a.edx & 0x1f;
    const wFX = o.fixedWidth ?? (a.edx >>> 5) & 0xff;
    return {
      function: 0xa,
      index: 0,
      eax: (version | (nGP << 8) | (wGP << 16) | (len << 24)) >>> 0,
      ebx: (o.eventsUnavailable ?? a.ebx) >>> 0,
      ecx: (o.fixedBitmap ?? a.ecx) >>> 0,
      edx: (nFX | (wFX << 5) | (a.edx & 0x8000)) >>> 0,
    };
  };
  return ok({
    ...(mode !== "off" ? { cpuid: { leaf0a, ...(o.noPdcm === true ? { pdcm: false } : {}) } } : {}),
    ...(o.perfCaps !== undefined ? { perfCapabilities: o.perfCaps } : {}),
    ...(o.filter !== undefined ? { filter: o.filter } : {}),
  });
}

/** The CLI's sentence for a step the composition root refused. */
function sentence(e: MachineError, o: Omit<VpmuOptions, "kvm">): string {
  switch (e.step) {
    case "kvm":
    case "KVM_SET_CPUID2":
      return e.error;
    case "mediated":
      return `--pmu mediated is not available: ${e.reason}`;
    case "KVM_SET_MSRS":
      return `--perf-caps 0x${e.perfCapabilities.toString(16)} is not accepted by KVM_SET_MSRS (supported: 0x${e.supported.toString(16)}${o.noPdcm ? ", and PDCM is off" : ""})`;
    case "KVM_SET_PMU_EVENT_FILTER":
      return `the PMU event filter is rejected (${e.filter.errno}): ${e.filter.message}`;
  }
}
