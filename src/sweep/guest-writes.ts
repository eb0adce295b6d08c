/**
 * Guest→host check for pass-through writes: a native WRMSR (no exit) that puts into hardware bits which
 * the hardware accepts but KVM's model of the guest reserves — the guest then controls host-visible
 * hardware state KVM believes it cannot. Facts: spec §5.3 (GLOBAL_CTRL layout), §6.3 step 4.8–4.9
 * (global_ctrl_rsvd; V4 frees bit 48 only for a guest with PERF_METRICS), §14.2 (the bit-48 path).
 * (src/check holds the host→guest records; this is the write direction the sweep needs. Candidate to
 * move into src/check/leaks.ts.)
 */
import type { HostPreset } from "../host/presets.js";
import { PERF_CAP_PERF_METRICS } from "../host/presets.js";
import { GLOBAL_PERF_METRICS_BIT, INTEL_PMC_IDX_FIXED, MSR_CORE_PERF_GLOBAL_CTRL } from "../pmu/msrs.js";
import type { Finding } from "./run.js";

/** Bits of IA32_PERF_GLOBAL_CTRL the silicon defines (SDM architectural PMU; spec §5.3): GP enables
 *  0..nGP−1, fixed enables 32..32+nFX−1, and EN_PERF_METRICS (48) on a CPU with PERF_METRICS. */
export function hardwareGlobalCtrlBits(host: HostPreset): bigint {
  let bits = (1n << BigInt(host.nGP)) - 1n;
  bits |= ((1n << BigInt(host.nFX)) - 1n) << BigInt(INTEL_PMC_IDX_FIXED);
  if ((host.perfCapabilities & PERF_CAP_PERF_METRICS) !== 0n) bits |= 1n << BigInt(GLOBAL_PERF_METRICS_BIT);
  return bits;
}

/**
 * A native GLOBAL_CTRL write that sets bits the hardware defines but KVM's `global_ctrl_rsvd` reserves
 * for this guest. `owner` names the guest ("vcpu:0"); `rule` is the decision that passed the MSR through.
 * Bits the hardware itself reserves are not reported (real silicon would #GP them).
 */
export function checkNativeGlobalCtrlWrite(host: HostPreset, globalCtrlRsvd: bigint, msr: number, value: bigint, rip: number, owner: string, rule: string): Finding | null {
  if (msr !== MSR_CORE_PERF_GLOBAL_CTRL) return null;
  const forbidden = value & globalCtrlRsvd & hardwareGlobalCtrlBits(host);
  if (forbidden === 0n) return null;
  return {
    direction: "guest→host",
    register: "MSR_CORE_PERF_GLOBAL_CTRL (0x38f)",
    msr,
    path: `WRMSR 0x38f (bits 0x${forbidden.toString(16)} reserved by KVM's global_ctrl_rsvd)`,
    rip,
    value,
    owner,
    source: `guest WRMSR at rip 0x${rip.toString(16)}`,
    rule,
  };
}
