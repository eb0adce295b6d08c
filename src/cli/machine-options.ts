// The machine options `vpmu run` and `vpmu explain` share (host, PMU mode, KVM code state or policy file,
// guest vPMU model, host perf activity): declared once, turned into the library's MachineOptions.
import type { Command } from "commander";
// The option lists come from the host tables alone; the parsers of policy and filter files load with the
// machine, when a run uses one (a bare `vpmu run` sets up no KVM model: issue 16, start-up).
import { HOST_ACTIVITIES } from "../host/activity.js";
import { HOST_PRESET_IDS } from "../host/presets.js";
import type { MachineOptions } from "../machine/index.js";
import { usageError } from "./errors.js";
import { readText } from "./files.js";
import { choiceOption, countOption, msrAssignmentOption, unsignedOption } from "./options.js";
import { collectStep, STEP_FORMS } from "./host-steps.js";

/** Commander keys of the machine options (any of them given ⇒ run on the KVM model, not the bare platform; reporting options never do). */
export const MACHINE_OPTION_KEYS = [
  "host",
  "pmu",
  "kvm",
  "pmuVersion",
  "gp",
  "gpWidth",
  "fixed",
  "fixedWidth",
  "perfCaps",
  "hostActivity",
  "hostMsr",
  "pmuFilter",
  "tsx",
  "vmwareBackdoor",
  "forceEmulationPrefix",
  "hybridHost",
  "vmPmuDisable",
  "eventsUnavailable",
  "eventMaskLength",
  "fixedBitmap",
] as const;

export function addMachineOptions(cmd: Command): Command {
  return cmd
    .option(
      "--host <preset>",
      `host CPU preset: ${HOST_PRESET_IDS.join(", ")} (default spr)`,
      choiceOption("--host", HOST_PRESET_IDS),
    )
    .option(
      "--pmu <mode>",
      "legacy (perf-backed; the default without --kvm), mediated (the default with --kvm), or off",
      choiceOption("--pmu", ["legacy", "mediated", "off"] as const),
    )
    .option(
      "--kvm <state|file>",
      "KVM code state base, v4 or fix, or an intercept policy file (.json): implies --pmu mediated (default base); legacy is the perf-backed kernel",
    )
    .option("--pmu-version <n>", "guest CPUID.0AH version", countOption("--pmu-version", 0, 255))
    .option("--gp <n>", "guest GP counters", countOption("--gp", 0, 255))
    .option("--gp-width <bits>", "guest GP counter width", countOption("--gp-width", 0, 255))
    .option("--fixed <n>", "guest fixed counters", countOption("--fixed", 0, 31))
    .option("--fixed-width <bits>", "guest fixed counter width", countOption("--fixed-width", 0, 255))
    .option("--perf-caps <value>", "guest IA32_PERF_CAPABILITIES (host-initiated write)", unsignedOption("--perf-caps"))
    .option("--no-pdcm", "clear CPUID.1:ECX.PDCM (no PERF_CAPABILITIES)")
    .option("--tsx", "host kernel keeps TSX (tsx=on): CPUID.7 reports the part's HLE/RTM (default: hidden)")
    .option("--hybrid-host", "the host CPU is hybrid (X86_FEATURE_HYBRID_CPU): KVM turns enable_pmu off")
    .option("--vm-pmu-disable", "KVM_CAP_PMU_CAPABILITY with KVM_PMU_CAP_DISABLE: this VM gets no vPMU")
    .option(
      "--events-unavailable <mask>",
      "guest CPUID.0AH:EBX (architectural events reported unavailable)",
      countOption("--events-unavailable", 0, 0xffffffff),
    )
    .option(
      "--event-mask-length <n>",
      "guest CPUID.0AH:EAX[31:24] (length of the EBX vector)",
      countOption("--event-mask-length", 0, 255),
    )
    .option(
      "--fixed-bitmap <mask>",
      "guest CPUID.0AH:ECX (fixed-counter bitmap; KVM ignores it, EDX[4:0] decides)",
      countOption("--fixed-bitmap", 0, 0xffffffff),
    )
    .option(
      "--host-activity <name>",
      `host perf activity: ${HOST_ACTIVITIES.map((a) => a.id).join(", ")} (default idle)`,
    )
    .option(
      "--host-msr <msr=value>",
      "hardware holds this host-owned value before the first entry (repeatable)",
      msrAssignmentOption("--host-msr"),
    )
    .option(
      "--pmu-filter <file.json>",
      'install a PMU event filter (KVM_SET_PMU_EVENT_FILTER) before the first run: {"action": "deny", "events": [{"event": "0xc0"}]} (docs/vpmu.md)',
    )
    .option(
      "--vmware-backdoor",
      "module parameter enable_vmware_backdoor: #GP intercepted; RDPMC 0x10000-0x10002 and ports 0x5658/0x5659 work at CPL 3 (docs/vpmu.md)",
    )
    .option(
      "--force-emulation-prefix",
      'module parameter force_emulation_prefix: ud2; "kvm" (0F 0B 6B 76 6D) before an instruction makes KVM emulate it (docs/vpmu.md)',
    );
}

/** The checks only `vpmu run` performs while the guest runs (explain runs nothing, so it does not list them). */
export function addRunCheckOptions(cmd: Command): Command {
  return cmd
    .option(
      "--check-isolation",
      "vpmu run: assert the isolation invariants I-1..I-4 at every load, entry and put (shown with --exits/--json)",
    )
    .option(
      "--step <step>",
      `vpmu run: what the VMM does between KVM_RUNs, in order (repeatable): ${STEP_FORMS}; the guest then runs to its end (docs/vpmu.md)`,
      collectStep,
    )
    .option(
      "--expect-exit <pattern>",
      "vpmu run: an exit-log line containing every word of the pattern must follow the previous one's (repeatable); unmet: exit status 1",
      collectStep,
    )
    .option(
      "--trace-switch",
      "vpmu run --exits: print every mediated load/put step next to the exit that caused it (no folding)",
    );
}

/** Commander's parsed options → MachineOptions; a policy file is read and validated here. */
export async function machineOptions(o: Record<string, unknown>): Promise<MachineOptions> {
  const { isFilterError, parsePmuFilterFile, parsePolicyFile, preparePmuEventFilter } = await import(
    "../machine/index.js"
  );
  let kvm: MachineOptions["kvm"] = o.kvm as string;
  if (typeof kvm === "string" && kvm.endsWith(".json")) {
    const p = parsePolicyFile(kvm, readText(kvm, "policy file"));
    if (!p.ok) throw usageError(p.error);
    kvm = p.policy;
  }
  let pmuFilter: MachineOptions["filter"];
  if (typeof o.pmuFilter === "string") {
    const f = parsePmuFilterFile(o.pmuFilter, readText(o.pmuFilter, "PMU event filter file"));
    if (!f.ok) throw usageError(f.error);
    const k = preparePmuEventFilter(f.filter);
    if (isFilterError(k))
      throw usageError(`${o.pmuFilter}: KVM_SET_PMU_EVENT_FILTER would fail with ${k.errno}: ${k.message}`);
    pmuFilter = f.filter;
  }
  return {
    host: o.host as string,
    pmu: o.pmu as MachineOptions["pmu"],
    kvm,
    pmuVersion: o.pmuVersion as number | undefined,
    gp: o.gp as number | undefined,
    gpWidth: o.gpWidth as number | undefined,
    fixed: o.fixed as number | undefined,
    fixedWidth: o.fixedWidth as number | undefined,
    perfCaps: o.perfCaps as bigint | undefined,
    noPdcm: o.pdcm === false,
    tsx: o.tsx === true,
    hybridHost: o.hybridHost === true,
    vmPmuDisable: o.vmPmuDisable === true,
    eventsUnavailable: o.eventsUnavailable as number | undefined,
    eventMaskLength: o.eventMaskLength as number | undefined,
    fixedBitmap: o.fixedBitmap as number | undefined,
    hostActivity: o.hostActivity as string,
    checkIsolation: o.checkIsolation === true,
    traceSwitch: o.traceSwitch === true,
    filter: pmuFilter,
    vmwareBackdoor: o.vmwareBackdoor === true,
    forceEmulationPrefix: o.forceEmulationPrefix === true,
    hostMsrs: ((o.hostMsr as { index: number; value: bigint }[] | undefined) ?? []).map((h) => ({
      msr: h.index,
      value: h.value,
    })),
  };
}
