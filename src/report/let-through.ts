/**
 * Why an access ran without a VM exit, in a report's words: the VMCS control or MSR-bitmap bit that was
 * clear, the kernel function whose answer cleared it, the decision's own words, and where docs/model.md
 * states the rule. The decisions come from src/vmx/policies ("R-INT-5: mediated, guest counters match the
 * host exactly (…)"); this turns their id into the kernel's vocabulary instead of leaving a bare id.
 * Facts: model.md §11.6 (R-INT-1..5: kvm_need_rdpmc_intercept, kvm_need_perf_global_ctrl_intercept,
 * kvm_need_perf_metrics_intercept, vmx_recalc_pmu_msr_intercepts), §13 (P-4), SDM Vol. 3C 25.6.2 (RDPMC
 * exiting is bit 11 of the primary processor-based VM-execution controls).
 */

import { formatLeak as formatLeakRecord, type LeakRecord } from "../check/leaks.js";

/** What a leak record carries that the explanation needs (src/check LeakRecord, the run document's). */
export interface LetThroughAccess {
  /** "RDPMC ecx=0x20000000", "RDMSR 0x38e", "WRMSR 0x38f (…)", "left in hardware after put (…)". */
  readonly path: string;
  /** The MSR the access reached (canonical physical register). */
  readonly msr: number;
  /** The decision that let it through ("R-INT-5: …", "§11.6: …", "policy NAME: …"). */
  readonly rule: string;
}

/** The kernel function behind each rule id and the model.md section that states it. */
const RULES: Readonly<Record<string, { readonly fn: string; readonly section: string }>> = {
  "R-INT-1": { fn: "kvm_init_pmu_capability", section: "11.6" },
  "R-INT-2": { fn: "vmx_recalc_pmu_msr_intercepts", section: "11.6" },
  "R-INT-3": { fn: "kvm_need_perf_global_ctrl_intercept", section: "11.6" },
  "R-INT-4": { fn: "kvm_need_perf_metrics_intercept", section: "11.6" },
  "R-INT-5": { fn: "kvm_need_rdpmc_intercept", section: "11.6" },
  "R-VAL-2": { fn: "vmx_recalc_pmu_msr_intercepts", section: "7.2" },
  "P-4": { fn: "vmx_recalc_pmu_msr_intercepts", section: "13" },
  "§11.6": { fn: "vmx_recalc_pmu_msr_intercepts", section: "11.6" },
};

const RDPMC_EXITING = "RDPMC exiting (primary processor-based VM-execution controls, bit 11)";

/** The control that was clear for this access. */
function control(a: LetThroughAccess): string {
  const msr = `0x${a.msr.toString(16)}`;
  if (a.path.startsWith("RDPMC")) return `${RDPMC_EXITING} clear`;
  if (a.path.startsWith("RDMSR")) return `MSR-bitmap read bit for ${msr} clear`;
  return `MSR-bitmap write bit for ${msr} clear`;
}

/**
 * A decision in the kernel's words: "kvm_need_rdpmc_intercept() false — mediated, guest counters match the
 * host exactly (…) (docs/model.md §11.6 R-INT-5)" (`intercept` is the function's answer). A policy file's
 * decision names the policy instead of a kernel function; an id this table does not know keeps the
 * decision's words as they are.
 */
export function decisionInKernelTerms(rule: string, intercept: boolean): string {
  const m = /^(R-[A-Z]+-\d+|P-\d+|\u00a7[\d.]+|policy [^:]+): (.*)$/.exec(rule);
  if (m === null) return rule;
  const id = m[1]!;
  const words = m[2]!;
  if (id.startsWith("policy ")) return `${id} (a policy file, not a kernel decision) — ${words}`;
  const known = RULES[id];
  if (known === undefined) return rule;
  const cite = id.startsWith("§") ? `docs/model.md ${id}` : `docs/model.md §${known.section} ${id}`;
  return `${known.fn}() ${intercept ? "true" : "false"} — ${words} (${cite})`;
}

/** "RDPMC exiting (primary processor-based VM-execution controls, bit 11) clear: kvm_need_rdpmc_intercept()
 *  false — … (docs/model.md §11.6 R-INT-5)": why this access ran without an exit. */
export function letThrough(a: LetThroughAccess): string {
  return `${control(a)}: ${decisionInKernelTerms(a.rule, false)}`;
}

/** The RDPMC-exiting control and the decision that set or cleared it (`vpmu demo`, `vpmu explain`). */
export function rdpmcExitingInKernelTerms(set: boolean, rule: string): string {
  return `${RDPMC_EXITING} ${set ? "set" : "clear"}: ${decisionInKernelTerms(rule, set)}`;
}

/** A leak record as one line (src/check formatLeak) with its decision explained by letThrough. */
export function formatLeak(l: LeakRecord): string {
  return formatLeakRecord({ ...l, rule: letThrough(l) });
}
