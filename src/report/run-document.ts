/**
 * What `vpmu run --json` prints and `vpmu demo` reads: one document with the console, exit status, exits,
 * final counters (guest view and hardware with owners), the context-switch totals and the leak records
 * (and, with --check-isolation, the invariant violations). BigInts appear as hex strings.
 */
import type { ExitRecord, Vcpu } from "../kvm/vcpu.js";
import type { IsolationChecker } from "../check/checker.js";
import { summarizeViolations } from "../check/isolation.js";
import { msrName } from "../check/msr-name.js";
import type { VmxLayer } from "../vmx/vmx-layer.js";
import { letThrough } from "./let-through.js";

const hex = (v: number | bigint): string => "0x" + v.toString(16);

/** One VM exit in the document (fields present as the exit record has them). */
export interface RunDocumentExit {
  readonly reason: number;
  readonly name: string;
  readonly rip: string;
  readonly length: number;
  readonly msr?: string;
  readonly ecx?: string;
  readonly port?: string;
  readonly in?: boolean;
  readonly size?: number;
  readonly value?: string;
  readonly outcome: string;
  readonly why?: string;
}

export interface RunDocumentLeak {
  readonly direction: string;
  readonly register: string;
  readonly path: string;
  readonly rip: string;
  readonly value: string;
  readonly owner: string;
  readonly source: string;
  readonly rule: string;
  /** The rule in the kernel's words: the control that was clear and the function that cleared it. */
  readonly why: string;
}

/** `vpmu run --json` on the bare platform (no machine options, docs/guest-abi.md): no KVM, so no exits,
 *  counters or leaks — the document says so by its platform rather than running another machine. */
export interface BareRunDocument {
  readonly platform: "bare";
  readonly console: string;
  readonly status: number;
  readonly stop: string;
  readonly report: string;
}

export function bareRunDocument(run: {
  console: string;
  status: number;
  stop: string;
  report: string;
}): BareRunDocument {
  return { platform: "bare", console: run.console, status: run.status, stop: run.stop, report: run.report };
}

export interface RunDocument {
  /** The KVM model (the policy, code state and mediated flag below name its configuration). */
  readonly platform: "kvm";
  readonly console: string;
  readonly status: number;
  readonly stop: string;
  readonly report: string;
  readonly policy: string;
  readonly codeState: string;
  readonly mediated: boolean;
  /** RDPMC exiting (primary processor-based VM-execution controls, bit 11) after the last recompute, and the
   *  decision behind it (src/vmx/policies). */
  readonly rdpmcExiting: { readonly set: boolean; readonly rule: string };
  readonly exits: readonly RunDocumentExit[];
  readonly counters: {
    readonly gp: readonly { readonly counter: string; readonly eventsel: string }[];
    readonly fixed: readonly string[];
    readonly fixedCtrCtrl: string;
    readonly globalCtrl: string;
    readonly globalStatus: string;
    readonly perfMetrics: string;
  };
  readonly hardware: Readonly<
    Record<string, { readonly value: string; readonly owner: string; readonly source: string }>
  >;
  readonly contextSwitch: { readonly loads: number; readonly puts: number; readonly fastpathExits: number };
  readonly leaks: readonly RunDocumentLeak[];
  readonly violations?: readonly {
    readonly invariant: string;
    readonly register: string;
    readonly value: string;
    readonly expected: string;
    readonly owner: string;
    readonly source: string;
    readonly count: number;
  }[];
}

/** One exit as the document shows it. */
export function exitDocument(e: ExitRecord): RunDocumentExit {
  return {
    reason: e.reason,
    name: e.name,
    rip: hex(e.rip),
    length: e.length,
    ...(e.msr !== undefined ? { msr: hex(e.msr) } : {}),
    ...(e.ecx !== undefined ? { ecx: hex(e.ecx) } : {}),
    ...(e.port !== undefined ? { port: hex(e.port), in: e.in, size: e.size } : {}),
    ...(e.value !== undefined ? { value: hex(e.value) } : {}),
    outcome: e.outcome,
    ...(e.why !== undefined ? { why: e.why } : {}),
  };
}

/** JSON-ready run document (BigInts as hex strings). */
export function runDocument(
  run: { console: string; status: number; stop: string; report: string },
  vcpu: Vcpu,
  layer: VmxLayer,
  checker: IsolationChecker,
): RunDocument {
  const pmu = vcpu.pmu;
  const phys = layer.phys;
  const hw: Record<string, { value: string; owner: string; source: string }> = {};
  for (const msr of phys.msrIndexes()) {
    const o = phys.owner(msr);
    hw[msrName(msr)] = { value: hex(phys.rdmsr(msr) as bigint), owner: o.owner, source: o.source };
  }
  return {
    platform: "kvm",
    console: run.console,
    status: run.status,
    stop: run.stop,
    report: run.report,
    policy: layer.plan.policy,
    codeState: layer.plan.codeState.id,
    mediated: layer.isMediated,
    rdpmcExiting: { set: layer.plan.rdpmcExiting.intercept, rule: layer.plan.rdpmcExiting.rule },
    exits: vcpu.exits.map(exitDocument),
    counters: {
      gp: pmu.gp.map((p) => ({ counter: hex(BigInt(p.counter)), eventsel: hex(p.eventsel) })),
      fixed: pmu.fixed.map((p) => hex(BigInt(p.counter))),
      fixedCtrCtrl: hex(pmu.fixedCtrCtrl),
      globalCtrl: hex(pmu.globalCtrl),
      globalStatus: hex(pmu.globalStatus),
      perfMetrics: hex(pmu.perfMetrics),
    },
    hardware: hw,
    contextSwitch: { loads: layer.sw.loads, puts: layer.sw.puts, fastpathExits: layer.fastpathExits },
    leaks: checker.leaks.map((l) => ({
      direction: l.direction,
      register: l.register,
      path: l.path,
      rip: hex(l.rip),
      value: hex(l.value),
      owner: l.owner,
      source: l.source,
      rule: l.rule,
      why: letThrough(l),
    })),
    ...(checker.invariants
      ? {
          violations: summarizeViolations(checker.violations).map((v) => ({
            invariant: v.invariant,
            register: v.register,
            value: hex(v.value),
            expected: v.expected,
            owner: v.owner,
            source: v.source,
            count: v.count,
          })),
        }
      : {}),
  };
}
