/**
 * `vpmu explain` as data and text: for one machine, every PMU MSR with read/write intercepted or passed
 * through and the rule that decided it, RDPMC exiting and why, the VMCS controls, the context-switch
 * settings, and KVM's reserved-bit masks (model.md §6.3, §11, §12). Answers "why does this exit?".
 */
import { controlNames, ENTRY_CONTROLS, EXIT_CONTROLS, PRIMARY_CONTROLS } from "../arch/vmx-controls.js";
import type { Machine } from "../machine/machine.js";
import { KVM_PMU_EVENT_ALLOW, type MaskedEntry } from "../pmu/filter.js";
import { lbrSummary } from "../pmu/lbr.js";

export interface ExplainMsr {
  readonly index: number;
  readonly name: string;
  readonly read: "exit" | "pass";
  readonly write: "exit" | "pass";
  readonly why: string;
}

export interface ExplainReport {
  readonly host: string;
  readonly pmu: string;
  readonly policy: string;
  readonly codeState: string;
  readonly guest: {
    readonly version: number;
    readonly nGP: number;
    readonly wGP: number;
    readonly nFX: number;
    readonly wFX: number;
    readonly perfCapabilities: string;
    /** The vCPU's LBR MSRs (pmu_intel.c intel_pmu_is_valid_lbr_msr), or why it has none. */
    readonly lbr: string;
  };
  readonly mediatedPmuEnabled: { readonly on: boolean; readonly why: string };
  readonly vcpuMediated: { readonly on: boolean; readonly why: string };
  readonly rdpmcExiting: { readonly on: boolean; readonly why: string };
  readonly perfMetricsSwitch: { readonly on: boolean; readonly why: string };
  /** Module parameters that widen the exception bitmap, present only when on. */
  readonly forceEmulationPrefix?: string;
  readonly vmwareBackdoor?: string;
  readonly controls: {
    readonly primary: string;
    readonly primaryBits: readonly string[];
    readonly entry: readonly string[];
    readonly exit: readonly string[];
  };
  readonly msrs: readonly ExplainMsr[];
  readonly reservedMasks: Readonly<Record<string, string>>;
  /** The VM's PMU event filter (KVM_SET_PMU_EVENT_FILTER, model.md §10), when one is installed: entries as
   *  "event 0xc0, umask & 0xff == 0x00". */
  readonly eventFilter?: {
    readonly action: "allow" | "deny";
    readonly include: readonly string[];
    readonly exclude: readonly string[];
    readonly fixedCounterBitmap: string;
  };
}

const hex = (v: number | bigint): string =>
  "0x" + (typeof v === "bigint" ? BigInt.asUintN(64, v) : v >>> 0).toString(16);

export function explainMachine(m: Machine): ExplainReport {
  const { layer, vcpu } = m;
  const plan = layer.plan;
  const pmu = vcpu.pmu;
  const msrs: ExplainMsr[] = plan.msrs.map((x) => ({
    index: x.index,
    name: x.name,
    read: x.read.intercept ? "exit" : "pass",
    write: x.write.intercept ? "exit" : "pass",
    why: x.read.rule === x.write.rule ? x.read.rule : `read: ${x.read.rule}; write: ${x.write.rule}`,
  }));
  return {
    host: `${m.kvm.host.id} (${m.kvm.host.name})`,
    pmu: m.pmu,
    policy: plan.policy,
    codeState: plan.codeState.id,
    guest: {
      version: pmu.version,
      nGP: pmu.nGP,
      wGP: pmu.wGP,
      nFX: pmu.nFX,
      wFX: pmu.wFX,
      perfCapabilities: hex(pmu.perfCapabilities),
      lbr: lbrSummary(pmu, m.kvm.host.lbr, m.kvm.host.archLbr, pmu.mediated),
    },
    mediatedPmuEnabled: { on: !plan.mediatedPmuEnabled.intercept, why: plan.mediatedPmuEnabled.rule },
    vcpuMediated: { on: !plan.vcpuMediated.intercept, why: plan.vcpuMediated.rule },
    rdpmcExiting: { on: plan.rdpmcExiting.intercept, why: plan.rdpmcExiting.rule },
    perfMetricsSwitch: { on: !plan.perfMetricsSwitch.intercept, why: plan.perfMetricsSwitch.rule },
    ...(m.kvm.params.forceEmulationPrefix
      ? {
          forceEmulationPrefix:
            'every #UD exits (handle_ud); after ud2; "kvm" (0F 0B 6B 76 6D) KVM emulates the next instruction and counts it (kvm_pmu_instruction_retired, kvm_pmu_branch_retired)',
        }
      : {}),
    ...(m.kvm.params.enableVmwareBackdoor
      ? {
          vmwareBackdoor:
            "#GP exits (handle_exception_nmi): RDPMC 0x10000-0x10002 at any CPL (check_rdpmc), IN/OUT of ports 0x5658/0x5659 at CPL > IOPL",
        }
      : {}),
    controls: {
      primary: hex(layer.vmcs.cpuBasedVmExecControl),
      primaryBits: controlNames(PRIMARY_CONTROLS, layer.vmcs.cpuBasedVmExecControl),
      entry: controlNames(ENTRY_CONTROLS, layer.vmcs.vmEntryControls),
      exit: controlNames(EXIT_CONTROLS, layer.vmcs.vmExitControls),
    },
    msrs,
    reservedMasks: {
      eventsel_rsvd: hex(pmu.eventselRsvd),
      fixed_ctr_ctrl_rsvd: hex(pmu.fixedCtrCtrlRsvd),
      global_ctrl_rsvd: hex(pmu.globalCtrlRsvd),
      global_status_rsvd: hex(pmu.globalStatusRsvd),
      counter_rsvd: hex(pmu.counterRsvd),
    },
    ...(pmu.filter
      ? {
          eventFilter: {
            action: pmu.filter.action === KVM_PMU_EVENT_ALLOW ? ("allow" as const) : ("deny" as const),
            include: pmu.filter.includes.map(entry),
            exclude: pmu.filter.excludes.map(entry),
            fixedCounterBitmap: hex(pmu.filter.fixedCounterBitmap),
          },
        }
      : {}),
  };
}

const entry = (m: MaskedEntry): string =>
  `event ${hex(m.eventSelect)}, umask & ${hex(m.umaskMask)} == ${hex(m.umaskMatch)}`;

const onOff = (b: boolean): string => (b ? "on " : "off");

export function formatExplain(r: ExplainReport): string {
  const out: string[] = [];
  out.push(`host ${r.host}, --pmu ${r.pmu}, --kvm ${r.policy} (code state ${r.codeState.toUpperCase()})`);
  const g = r.guest;
  out.push(
    `guest PMU: version ${g.version}, ${g.nGP} GP × ${g.wGP} bits, ${g.nFX} fixed × ${g.wFX} bits, PERF_CAPABILITIES ${g.perfCapabilities}`,
  );
  out.push(`guest LBRs: ${g.lbr}`);
  out.push("");
  out.push(`enable_mediated_pmu  ${onOff(r.mediatedPmuEnabled.on)}  ${r.mediatedPmuEnabled.why}`);
  out.push(`vCPU mediated        ${onOff(r.vcpuMediated.on)}  ${r.vcpuMediated.why}`);
  out.push(`RDPMC exiting        ${onOff(r.rdpmcExiting.on)}  ${r.rdpmcExiting.why}`);
  out.push(`PERF_METRICS switch  ${onOff(r.perfMetricsSwitch.on)}  ${r.perfMetricsSwitch.why}`);
  if (r.forceEmulationPrefix) out.push(`force_emulation_prefix on   ${r.forceEmulationPrefix}`);
  if (r.vmwareBackdoor) out.push(`enable_vmware_backdoor on   ${r.vmwareBackdoor}`);
  out.push("");
  out.push(`CPU_BASED_VM_EXEC_CONTROL ${r.controls.primary}: ${r.controls.primaryBits.join(" | ")}`);
  out.push(`VM_ENTRY_CONTROLS (PMU): ${r.controls.entry.join(" | ") || "—"}`);
  out.push(`VM_EXIT_CONTROLS (PMU):  ${r.controls.exit.join(" | ") || "—"}`);
  out.push("");
  out.push("MSR bitmap (every other MSR exits: KVM's all-ones default, model.md §11.1):");
  const w = Math.max(...r.msrs.map((m) => m.name.length));
  out.push(`  ${"msr".padEnd(6)} ${"name".padEnd(w)}  read  write  why`);
  for (const m of r.msrs)
    out.push(`  ${hex(m.index).padEnd(6)} ${m.name.padEnd(w)}  ${m.read.padEnd(4)}  ${m.write.padEnd(5)}  ${m.why}`);
  out.push("");
  out.push("reserved-bit masks (KVM refresh, model.md §6.3):");
  for (const [k, v] of Object.entries(r.reservedMasks)) out.push(`  ${k.padEnd(19)} ${v}`);
  const f = r.eventFilter;
  if (f) {
    out.push("");
    out.push(
      `PMU event filter (KVM_SET_PMU_EVENT_FILTER, model.md §10): ${f.action.toUpperCase()}, fixed counter bitmap ${f.fixedCounterBitmap}`,
    );
    for (const e of f.include) out.push(`  include  ${e}`);
    for (const e of f.exclude) out.push(`  exclude  ${e}`);
    out.push(
      `  a GP counter counts ${f.action === "allow" ? "only if" : "unless"} an include entry matches its event and no exclude entry does (R-FLT-4);`,
    );
    out.push(
      `  fixed counter i counts iff bit i of the bitmap is ${f.action === "allow" ? "set" : "clear"} (R-FLT-5); a denied counter is programmed but counts nothing`,
    );
  }
  return out.join("\n") + "\n";
}
