/**
 * Running one configuration × program: build the machine for the configuration through the composition
 * root (src/machine: module parameters, host preset, the VMX layer with the policy and host activity,
 * guest CPUID 0xA / PDCM / PERF_CAPABILITIES through KVM's own ioctl rules), run the guest, and collect
 * the leak records the isolation checker (src/check, via the VMX layer) made while it ran. Leaks are
 * found by running, never by asking the policy. Facts: model.md §2 (knobs), §6.3/§6.5 (refresh,
 * PERF_CAPABILITIES rules), §12, §14.
 */
import { findHostActivity, type HostActivityPreset } from "../host/activity.js";
import { findHostPreset, type HostPreset } from "../host/presets.js";
import { findPolicy } from "../vmx/policies/index.js";
import type { InterceptPolicy } from "../vmx/policies/policy.js";
import type { LeakRecord } from "../check/leaks.js";
import type { SharedDecodes } from "../isa/shared-decodes.js";
import { buildMachine, loadGuest, runToEnd, type MachineError, type MachineSpec } from "../machine/index.js";
import type { SweepConfig } from "./matrix.js";

/** A program ready to run: bytes, load address, guest RAM, instruction limit. */
export interface LoadedProgram {
  readonly bytes: Uint8Array;
  readonly origin: number;
  readonly memSize: number;
  readonly maxInsns: number;
  /** Built-in probes must end with status 0 through port 0xF4; a user's program must exit (any status)
   *  or halt. Anything else (triple fault, #UD, the instruction limit) is a run that did not complete. */
  readonly probe: boolean;
}

/** A value that crossed between host and guest, as the checker recorded it: a src/check leak record
 *  (direction, register, path, RIP, value, owner, source, rule), or with `invariants` on an I-1..I-4
 *  violation of the VMX layer's checks at every load, entry and put (direction "invariant"). */
export interface Finding extends Omit<LeakRecord, "direction"> {
  readonly direction: LeakRecord["direction"] | "invariant";
}

/** The vPMU KVM realised for the guest (after refresh clamps, PDCM gating). */
export interface RealisedGuest {
  readonly version: number;
  readonly nGP: number;
  readonly wGP: number;
  readonly nFX: number;
  readonly wFX: number;
  readonly perfCapabilities: bigint;
}

export interface RunRecord {
  readonly config: number;
  readonly program: number;
  /** ran: the guest ran to its end; rejected: KVM refused the configuration (an ioctl failed, as it
   *  would for a real VMM); failed: the run did not complete (a probe that did not exit with 0, a
   *  program that did not exit or halt: the checker saw only what ran before it stopped). */
  readonly outcome: "ran" | "rejected" | "failed";
  readonly detail: string;
  readonly realised: RealisedGuest | null;
  readonly exits: number;
  readonly findings: readonly Finding[];
}

/** Policies from files, by name, beside the built-in code states. */
export type PolicyTable = ReadonlyMap<string, InterceptPolicy>;

export function lookupPolicy(kvm: string, files: PolicyTable): InterceptPolicy | undefined {
  return files.get(kvm) ?? findPolicy(kvm);
}

/** CPUID.0AH:EAX event-vector length KVM offers on these hosts (all 8 architectural events of §3.3 that
 *  the presets report); the sweep's guests take the host's, so EBX (unavailable events) is 0. */
function leaf0a(c: SweepConfig, evLen: number): { eax: number; ebx: number; ecx: number; edx: number } {
  const g = c.guest;
  const eax = ((g.version & 0xff) | ((g.nGP & 0xff) << 8) | ((g.wGP & 0xff) << 16) | ((evLen & 0xff) << 24)) >>> 0;
  const edx = ((g.nFX & 0x1f) | ((g.wFX & 0xff) << 5)) >>> 0;
  return { eax, ebx: 0, ecx: 0, edx };
}

const rejected = (config: number, program: number, detail: string): RunRecord => ({
  config,
  program,
  outcome: "rejected",
  detail,
  realised: null,
  exits: 0,
  findings: [],
});

export interface RunOptions {
  /** Also check the isolation invariants I-1..I-4 (model.md §12.3) at every load, entry and put. */
  readonly invariants?: boolean;
}

/** Where in the context switch each invariant is checked (model.md §12.3). */
const INVARIANT_WHEN: Readonly<Record<string, string>> = {
  "I-1": "after put",
  "I-2": "while the switch runs",
  "I-3": "after load",
  "I-4": "while the guest runs",
};

/** The sweep's sentence for a step the composition root refused (the record's `detail`). */
function refusal(e: MachineError): string {
  switch (e.step) {
    case "kvm":
      return e.error;
    case "KVM_SET_CPUID2":
      return `KVM_SET_CPUID2: ${e.error}`;
    case "KVM_SET_MSRS":
      return `KVM_SET_MSRS PERF_CAPABILITIES 0x${e.perfCapabilities.toString(16)}: not a subset of KVM's supported 0x${e.supported.toString(16)} (R-CFG-2)`;
    case "mediated":
      return `--pmu mediated is not available: ${e.reason}`;
    case "KVM_SET_PMU_EVENT_FILTER":
      return `KVM_SET_PMU_EVENT_FILTER: ${e.filter.message}`;
  }
}

/** The machine of a configuration, its names resolved. The policy runs as given: expandMatrix pairs --pmu
 *  legacy/off only with the legacy kernel and mediated only with kernels that have the mediated vPMU
 *  (pmuFitsKvm), as `vpmu run` does. */
export function sweepMachineSpec(
  c: SweepConfig,
  host: HostPreset,
  policy: InterceptPolicy,
  activity: HostActivityPreset,
  opts: RunOptions = {},
): MachineSpec {
  return {
    host,
    pmu: c.pmu,
    policy,
    activity,
    vmwareBackdoor: c.vmwareBackdoor,
    checkIsolation: opts.invariants === true,
    logExits: false,
    guest: {
      // KVM_SET_CPUID2: leaf 0xA as requested (KVM clamps it at refresh, R-CPUID-2/4) and CPUID.1:ECX.PDCM;
      // KVM_SET_MSRS PERF_CAPABILITIES (R-CFG-1..4): with PDCM the requested caps; without, caps read 0.
      cpuid: { leaf0a: () => ({ function: 0xa, index: 0, ...leaf0a(c, host.eventMaskLength) }), pdcm: c.guest.pdcm },
      ...(c.guest.pdcm ? { perfCapabilities: c.guest.perfCapabilities } : {}),
    },
  };
}

/** Run one program on one configuration. Never throws for a bad configuration: it is a record. `decodes`:
 *  instructions decoded by earlier runs of the same image (the same record either way). */
export function runOne(
  c: SweepConfig,
  programIndex: number,
  prog: LoadedProgram,
  policies: PolicyTable,
  opts: RunOptions = {},
  decodes?: SharedDecodes,
): RunRecord {
  const host = findHostPreset(c.host);
  if (host === undefined) return rejected(c.index, programIndex, `unknown host preset ${c.host}`);
  const policy = lookupPolicy(c.kvm, policies);
  if (policy === undefined) return rejected(c.index, programIndex, `unknown policy ${c.kvm}`);
  const activity = findHostActivity(c.activity);
  if (activity === undefined) return rejected(c.index, programIndex, `unknown host activity ${c.activity}`);
  const built = buildMachine(sweepMachineSpec(c, host, policy, activity, opts));
  if (!built.ok) return rejected(c.index, programIndex, refusal(built.error));
  const { vcpu, layer, checker } = built.value;
  const pmu = vcpu.pmu;
  const realised: RealisedGuest = {
    version: pmu.version,
    nGP: pmu.nGP,
    wGP: pmu.wGP,
    nFX: pmu.nFX,
    wFX: pmu.wFX,
    perfCapabilities: vcpu.effectivePerfCapabilities(),
  };
  const g = loadGuest(built.value, prog.bytes, prog.origin, {
    memSize: prog.memSize,
    maxInsns: prog.maxInsns,
    jit: !prog.probe,
    ...(decodes !== undefined ? { decodes } : {}),
  });
  if ("error" in g) return rejected(c.index, programIndex, g.error);
  const r = runToEnd(g, prog.maxInsns);
  // KVM_RUN has returned to userspace: the guest context is off the hardware (put, model.md §12.2).
  vcpu.ops.vcpuPut();
  // Both directions come from the checker's records (src/check/leaks.ts).
  const findings: Finding[] = [...checker.leaks];
  // Invariant violations repeat at every entry: one finding per (invariant, register) per run.
  const seen = new Set<string>();
  for (const v of checker.violations) {
    const key = `${v.invariant}/${v.msr}`;
    if (seen.has(key)) continue;
    seen.add(key);
    findings.push({
      direction: "invariant",
      register: v.register,
      msr: v.msr,
      path: `${v.invariant} ${INVARIANT_WHEN[v.invariant]}`,
      rip: 0,
      value: v.value,
      owner: v.owner,
      source: v.source,
      rule: `model.md §12.3 ${v.invariant}: expected ${v.expected}`,
    });
  }
  const ok = prog.probe ? r.stop === "exit" && r.status === 0 : r.stop === "exit" || r.stop === "halted";
  // Nothing reads the guest's memory or tables again: the next run's CPU takes them (src/isa/array-pool.ts).
  g.cpu.release();
  return {
    config: c.index,
    program: programIndex,
    outcome: ok ? "ran" : "failed",
    detail: ok ? `${r.stop} ${r.status}` : r.report,
    realised,
    exits: layer.exitCount,
    findings,
  };
}
