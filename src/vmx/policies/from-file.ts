/**
 * A user's own intercept policy, read from a JSON description, so a KVM developer can try a patch idea
 * (which MSRs pass through and when, when RDPMC runs natively) before writing kernel code. It starts
 * from a kernel code state (`extends`), may change that kernel's feature predicates by name (`features`,
 * the names of src/pmu/code-states.ts: a new patch revision as a file), and overrides decisions with named
 * conditions that are model.md's rules (R-MED-2, R-INT-3/4/5, R-VAL-2). Format and examples: docs/vmx.md.
 */
import {
  CODE_STATE_FEATURES,
  CODE_STATES,
  deriveCodeState,
  findCodeState,
  type CodeStateFeatures,
} from "../../pmu/code-states.js";
import type { Decision, InterceptPlan, InterceptPolicy, MsrIntercept, PmuMsrRef, PolicyInput } from "./policy.js";
import { PERF_CAP_FW_WRITES } from "../../arch/msr-index.js";
import { bitmapFromDecisions, hex } from "./policy.js";
import { kernelMsrDecision, kernelPlanParts } from "./kvm-recalc.js";
import { guestHasPerfMetrics, needPerfMetricsIntercept } from "./rules.js";

/** What a condition sees: the input, the mediated decision and (for MSR rules) the MSR. */
interface ConditionContext {
  readonly input: PolicyInput;
  readonly mediated: Decision;
  readonly msr: PmuMsrRef | null;
}

/** A condition returns null when it holds, or the reason it does not. */
type Condition = (c: ConditionContext) => string | null;

/** The condition vocabulary (one row each; docs/vmx.md lists them). */
export const POLICY_CONDITIONS: Readonly<Record<string, { readonly doc: string; readonly test: Condition }>> = {
  mediated: {
    doc: "the vCPU has a mediated PMU (R-MED-1, R-MED-2)",
    test: (c) => (c.mediated.intercept ? c.mediated.rule : null),
  },
  "version>=2": {
    doc: "guest PMU version ≥ 2",
    test: (c) => (c.input.guest.version >= 2 ? null : `guest PMU version ${c.input.guest.version} < 2`),
  },
  "counts-match": {
    doc: "guest nGP and nFX equal the host's (kvm_need_any_pmc_intercept)",
    test: ({ input: { guest, host } }) =>
      guest.nGP !== host.nGP
        ? `guest nGP ${guest.nGP} ≠ host nGP ${host.nGP}`
        : guest.nFX !== host.nFX
          ? `guest nFX ${guest.nFX} ≠ host nFX ${host.nFX}`
          : null,
  },
  "widths-match": {
    doc: "guest GP and fixed widths equal the host's (R-INT-5)",
    test: ({ input: { guest, host } }) =>
      guest.wGP !== host.wGP
        ? `guest GP width ${guest.wGP} ≠ host ${host.wGP}`
        : guest.wFX !== host.wFX
          ? `guest fixed width ${guest.wFX} ≠ host ${host.wFX}`
          : null,
  },
  "no-vmware-backdoor": {
    doc: "enable_vmware_backdoor is off",
    test: (c) => (c.input.params.enableVmwareBackdoor ? "enable_vmware_backdoor is on" : null),
  },
  "metrics-match": {
    doc: "not (host has PERF_METRICS and guest lacks it) (R-INT-4)",
    test: (c) => needPerfMetricsIntercept(c.input.guest, c.input.host),
  },
  "guest-perf-metrics": {
    doc: "guest PERF_CAPABILITIES bit 15 set",
    test: (c) => (guestHasPerfMetrics(c.input.guest) ? null : "guest PERF_CAPABILITIES bit 15 clear"),
  },
  "guest-fw-writes": {
    doc: "guest PERF_CAPABILITIES bit 13 (FW_WRITES) set",
    test: (c) =>
      (c.input.guest.perfCapabilities & PERF_CAP_FW_WRITES) !== 0n ? null : "guest PERF_CAPABILITIES lacks FW_WRITES",
  },
  "counter-exposed": {
    doc: "the MSR names a GP/fixed counter or selector the guest has (R-INT-2)",
    test: ({ input: { guest }, msr }) => {
      if (!msr || msr.counter < 0) return "not a counter MSR";
      const n = msr.kind === "fixed-counter" ? guest.nFX : guest.nGP;
      return msr.counter < n ? null : `counter ${msr.counter} not exposed (guest has ${n})`;
    },
  },
  never: { doc: "never holds (always intercept)", test: () => "the policy says never" },
};

interface MsrRule {
  readonly lo: number;
  readonly hi: number;
  readonly read: boolean;
  readonly write: boolean;
  readonly when: readonly string[];
}

export interface PolicyFile {
  readonly name: string;
  /** The built-in code state the policy starts from (one with the mediated vPMU). */
  readonly extends: string;
  /** Feature predicates changed from `extends` (empty: the kernel runs `extends` itself); the kernel the
   *  policy runs is its `codeState`. */
  readonly features: Partial<CodeStateFeatures>;
  readonly rdpmcWhen: readonly string[] | null;
  readonly msrRules: readonly MsrRule[];
}

export type PolicyParse =
  | { readonly ok: true; readonly policy: InterceptPolicy; readonly spec: PolicyFile }
  | { readonly ok: false; readonly error: string };

const TOP_KEYS = new Set(["name", "description", "extends", "features", "rdpmc", "msrs"]);

/** The code states a policy file may extend: those with the mediated vPMU (a file decides mediated intercepts). */
const EXTENDABLE = CODE_STATES.filter((c) => c.mediatedPmu).map((c) => c.id);

/** '"base", "v4" or "fix"' */
function orList(ids: readonly string[]): string {
  const q = ids.map((id) => JSON.stringify(id));
  return q.length > 1 ? `${q.slice(0, -1).join(", ")} or ${q[q.length - 1]}` : (q[0] ?? "");
}
const MSR_KEYS = new Set(["msr", "access", "passThroughWhen", "comment"]);

/** True if an MSR index has a bit in the bitmap (model.md §11.1); others always exit and cannot pass through. */
function inBitmapRange(m: number): boolean {
  return m <= 0x1fff || (m >= 0xc0000000 && m <= 0xc0001fff);
}

function parseMsrIndex(s: string): number | null {
  if (!/^0x[0-9a-f]{1,8}$/i.test(s)) return null;
  return parseInt(s, 16);
}

/**
 * Parse and validate a policy file. `fileName` only names the file in error sentences.
 * Every error is one sentence: "<file>: <field>: <what is wrong>".
 */
export function parsePolicyFile(fileName: string, text: string): PolicyParse {
  const fail = (field: string, msg: string): PolicyParse => ({ ok: false, error: `${fileName}: ${field}: ${msg}` });
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    return { ok: false, error: `${fileName}: not valid JSON (${(e as Error).message})` };
  }
  if (typeof doc !== "object" || doc === null || Array.isArray(doc))
    return fail("(top level)", "expected a JSON object");
  const o = doc as Record<string, unknown>;
  for (const k of Object.keys(o))
    if (!TOP_KEYS.has(k)) return fail(k, `unknown field (expected one of: ${[...TOP_KEYS].join(", ")})`);
  if (typeof o.name !== "string" || !/^[A-Za-z0-9_.-]{1,64}$/.test(o.name))
    return fail("name", "expected a name of 1–64 letters, digits, '.', '_' or '-'");
  if (o.description !== undefined && typeof o.description !== "string") return fail("description", "expected a string");
  const base = typeof o.extends === "string" && EXTENDABLE.includes(o.extends) ? findCodeState(o.extends) : undefined;
  if (base === undefined)
    return fail("extends", `expected ${orList(EXTENDABLE)} (the kernel code state the policy starts from)`);
  const features: Partial<Record<keyof CodeStateFeatures, boolean>> = {};
  if (o.features !== undefined) {
    if (typeof o.features !== "object" || o.features === null || Array.isArray(o.features))
      return fail("features", "expected an object of feature predicates, each true or false");
    for (const [k, v] of Object.entries(o.features)) {
      if (!(CODE_STATE_FEATURES as readonly string[]).includes(k))
        return fail(`features.${k}`, `unknown feature (expected one of: ${CODE_STATE_FEATURES.join(", ")})`);
      if (typeof v !== "boolean") return fail(`features.${k}`, "expected true or false");
      features[k as keyof CodeStateFeatures] = v;
    }
  }
  const codeState = Object.keys(features).length === 0 ? base : deriveCodeState(o.name, base, features);
  const checkWhen = (field: string, v: unknown): string[] | PolicyParse => {
    if (!Array.isArray(v)) return fail(field, "expected an array of condition names");
    for (let i = 0; i < v.length; i++) {
      if (typeof v[i] !== "string" || !(v[i] in POLICY_CONDITIONS))
        return fail(
          `${field}[${i}]`,
          `unknown condition ${JSON.stringify(v[i])} (expected one of: ${Object.keys(POLICY_CONDITIONS).join(", ")})`,
        );
    }
    return v as string[];
  };
  let rdpmcWhen: string[] | null = null;
  if (o.rdpmc !== undefined) {
    if (typeof o.rdpmc !== "object" || o.rdpmc === null || Array.isArray(o.rdpmc))
      return fail("rdpmc", 'expected an object { "passThroughWhen": [...] }');
    const r = o.rdpmc as Record<string, unknown>;
    for (const k of Object.keys(r))
      if (k !== "passThroughWhen") return fail(`rdpmc.${k}`, 'unknown field (expected "passThroughWhen")');
    const w = checkWhen("rdpmc.passThroughWhen", r.passThroughWhen);
    if (!Array.isArray(w)) return w;
    rdpmcWhen = w;
  }
  const msrRules: MsrRule[] = [];
  if (o.msrs !== undefined) {
    if (!Array.isArray(o.msrs)) return fail("msrs", "expected an array");
    for (let i = 0; i < o.msrs.length; i++) {
      const f = `msrs[${i}]`;
      const e = o.msrs[i];
      if (typeof e !== "object" || e === null || Array.isArray(e)) return fail(f, "expected an object");
      const m = e as Record<string, unknown>;
      for (const k of Object.keys(m))
        if (!MSR_KEYS.has(k)) return fail(`${f}.${k}`, `unknown field (expected one of: ${[...MSR_KEYS].join(", ")})`);
      if (typeof m.msr !== "string")
        return fail(`${f}.msr`, 'expected a hex MSR index "0x38f" or an inclusive range "0xc1-0xc8"');
      const parts = m.msr.split("-");
      const lo = parts.length <= 2 ? parseMsrIndex(parts[0].trim()) : null;
      const hi = parts.length === 2 ? parseMsrIndex(parts[1].trim()) : lo;
      if (lo === null || hi === null)
        return fail(`${f}.msr`, `${JSON.stringify(m.msr)} is not a hex MSR index "0x38f" or range "0xc1-0xc8"`);
      if (hi < lo) return fail(`${f}.msr`, `range ${m.msr} ends before it starts`);
      if (!inBitmapRange(lo) || !inBitmapRange(hi) || lo <= 0x1fff !== hi <= 0x1fff)
        return fail(
          `${f}.msr`,
          `${m.msr} is outside the MSR bitmap ranges 0x0–0x1fff and 0xc0000000–0xc0001fff, so it always exits (SDM) and cannot be passed through`,
        );
      const access = m.access ?? "rw";
      if (access !== "r" && access !== "w" && access !== "rw") return fail(`${f}.access`, 'expected "r", "w" or "rw"');
      const w = checkWhen(`${f}.passThroughWhen`, m.passThroughWhen);
      if (!Array.isArray(w)) return w;
      msrRules.push({ lo, hi, read: access !== "w", write: access !== "r", when: w });
    }
  }
  const spec: PolicyFile = { name: o.name, extends: base.id, features, rdpmcWhen, msrRules };
  return { ok: true, spec, policy: { id: o.name, codeState, plan: (input) => filePlan(spec, input) } };
}

/** Evaluate `when` (all must hold) into a decision that names the policy and the first failing condition. */
function evaluate(spec: PolicyFile, what: string, when: readonly string[], c: ConditionContext): Decision {
  for (const name of when) {
    const why = POLICY_CONDITIONS[name].test(c);
    if (why !== null) return { intercept: true, rule: `policy ${spec.name}: ${what} needs ${name}: ${why}` };
  }
  return { intercept: false, rule: `policy ${spec.name}: ${what} passes when [${when.join(", ")}]: all hold` };
}

/** The plan: the kernel plan of the instance's code state, then each file rule in order (later rules win). */
export function filePlan(spec: PolicyFile, input: PolicyInput): InterceptPlan {
  const p = kernelPlanParts(input);
  const byIndex = new Map<number, { ref: PmuMsrRef; read: Decision; write: Decision }>();
  for (const ref of p.refs) {
    const d = kernelMsrDecision(ref, p.mediated, p.globals, input);
    byIndex.set(ref.index, { ref, read: d, write: d });
  }
  for (const rule of spec.msrRules) {
    for (let m = rule.lo; m <= rule.hi; m++) {
      let row = byIndex.get(m);
      if (!row) {
        const unchanged: Decision = { intercept: true, rule: "§11.1: KVM's all-ones default" };
        row = {
          ref: { index: m, name: `MSR ${hex(m)}`, kind: "global", counter: -1 },
          read: unchanged,
          write: unchanged,
        };
        byIndex.set(m, row);
      }
      const d = evaluate(spec, `${row.ref.name} ${rule.read && rule.write ? "rw" : rule.read ? "r" : "w"}`, rule.when, {
        input,
        mediated: p.mediated,
        msr: row.ref,
      });
      if (rule.read) row.read = d;
      if (rule.write) row.write = d;
    }
  }
  const msrs: MsrIntercept[] = [...byIndex.values()]
    .sort((a, b) => a.ref.index - b.ref.index)
    .map((r) => ({ index: r.ref.index, name: r.ref.name, read: r.read, write: r.write }));
  const rdpmc =
    spec.rdpmcWhen === null
      ? p.rdpmc
      : evaluate(spec, "RDPMC", spec.rdpmcWhen, { input, mediated: p.mediated, msr: null });
  return {
    policy: spec.name,
    codeState: input.params.codeState,
    mediatedPmuEnabled: p.enabled,
    vcpuMediated: p.mediated,
    kvmMaxFixed: p.maxFixed,
    msrs,
    rdpmcExiting: rdpmc,
    globalCtrlSwitch: p.mediated,
    perfMetricsSwitch: p.metricsSwitch,
    bitmap: bitmapFromDecisions(msrs),
  };
}
