/**
 * From `vpmu run`-style options to a configured vCPU: host preset, PMU mode (legacy | mediated | off), kernel
 * code state, and the guest's vPMU model (CPUID 0xA, PERF_CAPABILITIES, PDCM) set the way userspace does it
 * (KVM_SET_CPUID2, then KVM_SET_MSRS of PERF_CAPABILITIES). Bad values come back as one sentence.
 */
import { CPUID_1_ECX_PDCM } from "../arch/cpuid.js";
import { HOST_PRESET_IDS, findHostPreset } from "../host/presets.js";
import type { PmuEventFilterInput } from "../pmu/filter.js";
import type { CodeState } from "../pmu/code-states.js";
import type { CpuidEntry } from "../kvm/cpuid.js";
import { Kvm } from "../kvm/kvm.js";
import type { Vcpu } from "../kvm/vcpu.js";
import { Vmx } from "../vmx/vmx.js";

export type PmuMode = "legacy" | "mediated" | "off";

export interface VpmuOptions {
  /** Host preset id (skx | icx | spr | gnr); default spr. */
  readonly host?: string;
  /** default legacy. */
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
}

export interface ConfiguredVcpu {
  readonly kvm: Kvm;
  readonly vcpu: Vcpu;
}

/** Build Kvm (with `vmx` as its vendor module) → Vm → Vcpu for these options, or say what is wrong. */
export function configureVcpu(o: VpmuOptions, vmx: Vmx = new Vmx()): ConfiguredVcpu | { readonly error: string } {
  const hostId = o.host ?? "spr";
  const host = typeof hostId === "string" ? findHostPreset(hostId) : undefined;
  if (host === undefined)
    return { error: `unknown host preset '${hostId}' (expected one of ${HOST_PRESET_IDS.join(", ")})` };
  const mode = o.pmu ?? "legacy";
  if (!["legacy", "mediated", "off"].includes(mode))
    return { error: `--pmu must be legacy, mediated or off (got '${mode}')` };
  const codeState = mode === "mediated" ? (o.kvm ?? "base") : "legacy";
  const kvm = Kvm.create({
    host,
    codeState,
    enablePmu: mode !== "off",
    enableMediatedPmu: mode === "mediated",
    vendor: vmx,
  });
  if (!(kvm instanceof Kvm)) return kvm;
  if (mode === "mediated" && kvm.mediatedRejected !== null)
    return { error: `--pmu mediated is not available: ${kvm.mediatedRejected}` };
  const vcpu = kvm.createVm().createVcpu();
  const checks: [keyof VpmuOptions, number | undefined, number, number, string][] = [
    ["pmuVersion", o.pmuVersion, 0, 255, "--pmu-version"],
    ["gp", o.gp, 0, host.nGP, "--gp"],
    ["gpWidth", o.gpWidth, 0, 255, "--gp-width"],
    ["fixed", o.fixed, 0, host.nFX, "--fixed"],
    ["fixedWidth", o.fixedWidth, 0, 255, "--fixed-width"],
  ];
  for (const [, v, lo, hi, flag] of checks) {
    if (v === undefined) continue;
    if (!Number.isInteger(v) || v < lo || v > hi)
      return { error: `${flag} must be an integer from ${lo} to ${hi} for host ${host.id} (got ${v})` };
  }
  if (mode !== "off") {
    const a = vcpu.cpuidTable.find((e) => e.function === 0xa)!;
    const version = o.pmuVersion ?? a.eax & 0xff;
    const nGP = o.gp ?? (a.eax >>> 8) & 0xff;
    const wGP = o.gpWidth ?? (a.eax >>> 16) & 0xff;
    const len = (a.eax >>> 24) & 0xff;
    const nFX = o.fixed ?? a.edx & 0x1f;
    const wFX = o.fixedWidth ?? (a.edx >>> 5) & 0xff;
    const leaf: CpuidEntry = {
      function: 0xa,
      index: 0,
      eax: (version | (nGP << 8) | (wGP << 16) | (len << 24)) >>> 0,
      ebx: a.ebx,
      ecx: 0,
      edx: (nFX | (wFX << 5) | (a.edx & 0x8000)) >>> 0,
    };
    let table = vcpu.withCpuidLeaf(leaf);
    if (o.noPdcm === true) {
      table = table.map((e) => (e.function === 1 ? { ...e, ecx: (e.ecx & ~CPUID_1_ECX_PDCM) >>> 0 } : e));
    }
    const set = vcpu.setCpuid(table);
    if (!set.ok) return { error: set.error };
  }
  if (o.perfCaps !== undefined && typeof o.perfCaps !== "bigint")
    return { error: `--perf-caps must be an integer (got ${String(o.perfCaps)})` };
  if (o.perfCaps !== undefined && !vcpu.setMsr(0x345, o.perfCaps, { hostInitiated: true })) {
    return {
      error: `--perf-caps 0x${o.perfCaps.toString(16)} is not accepted by KVM_SET_MSRS (supported: 0x${kvm.supportedPerfCapabilities().toString(16)}${o.noPdcm ? ", and PDCM is off" : ""})`,
    };
  }
  if (o.filter !== undefined) {
    const err = vcpu.vm.setPmuEventFilter(o.filter);
    if (err !== null) return { error: `the PMU event filter is rejected (${err.errno}): ${err.message}` };
  }
  return { kvm, vcpu };
}
