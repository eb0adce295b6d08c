/**
 * The sweep report: run records → findings grouped by signature (direction, register, instruction or
 * step), each explained by the smallest conditions over the configuration attributes (group.ts), with
 * the policy rules that let the accesses through and an example to reproduce with `vpmu run` / `vpmu
 * explain`. Text and JSON renderings; both depend only on the records, never on scheduling.
 */
import { PERF_CAP_FW_WRITES, PERF_CAP_PERF_METRICS } from "../arch/msr-index.js";
import { findHostPreset } from "../host/presets.js";
import { findCodeState } from "../pmu/code-states.js";
import { letThrough } from "../report/let-through.js";
import { explain, type Attribute, type AttrVector, type Explanation } from "./group.js";
import { BUILTIN_KVM, configJson, configLabel, type SweepConfig } from "./matrix.js";
import type { Finding, RunRecord } from "./run.js";

/** The attributes the summariser explains findings with, in sentence order. */
export const SWEEP_ATTRIBUTES: readonly Attribute[] = [
  { id: "kvm", phrase: (v) => (BUILTIN_KVM.includes(v) ? v : `policy ${v}`) },
  {
    id: "pmu",
    phrase: (v) =>
      v === "mediated" ? "mediated vPMU" : v === "legacy" ? "perf-backed (legacy) vPMU" : "enable_pmu off",
  },
  { id: "vmwareBackdoor", phrase: (v) => `VMware backdoor ${v}` },
  { id: "hostPerfMetrics", phrase: (v) => (v === "yes" ? "host has PERF_METRICS" : "host lacks PERF_METRICS") },
  {
    id: "guestPerfMetrics",
    phrase: (v, o) =>
      v === "yes"
        ? o.get("hostPerfMetrics") === "yes"
          ? "guest has it"
          : "guest has PERF_METRICS"
        : o.get("hostPerfMetrics") === "yes"
          ? "guest lacks it"
          : "guest lacks PERF_METRICS",
  },
  { id: "guestFwWrites", phrase: (v) => (v === "yes" ? "guest has FW_WRITES" : "guest lacks FW_WRITES") },
  { id: "pdcm", phrase: (v) => (v === "yes" ? "guest has PDCM" : "guest lacks PDCM") },
  {
    id: "version",
    phrase: (v) =>
      v === "0" ? "guest has no PMU (version 0)" : v === "1" ? "guest PMU version 1" : "guest PMU version ≥ 2",
  },
  { id: "counts", phrase: (v) => `counts ${v}` },
  { id: "widths", phrase: (v) => `widths ${v}` },
  {
    id: "gpCount",
    phrase: (v) => (v === "equal" ? "guest GP count = host's" : `guest has ${v} GP counters than the host`),
  },
  {
    id: "fixedCount",
    phrase: (v) => (v === "equal" ? "guest fixed count = host's" : `guest has ${v} fixed counters than the host`),
  },
  { id: "host", phrase: (v) => `host ${v}` },
  { id: "activity", phrase: (v) => `host activity ${v}` },
];

const compare = (guest: number, host: number): string => (guest === host ? "equal" : guest < host ? "fewer" : "more");

/** A configuration's attribute values: its knobs, and facts about the guest KVM realised (counts and
 *  widths compared with the raw host PMU, as R-INT-3/R-INT-5 compare them). */
export function configAttributes(c: SweepConfig, r: RunRecord): AttrVector {
  const host = findHostPreset(c.host)!;
  const g = r.realised!;
  const yes = (b: boolean) => (b ? "yes" : "no");
  return [
    c.kvm,
    c.pmu,
    c.vmwareBackdoor ? "on" : "off",
    yes((host.perfCapabilities & PERF_CAP_PERF_METRICS) !== 0n),
    yes((g.perfCapabilities & PERF_CAP_PERF_METRICS) !== 0n),
    yes((g.perfCapabilities & PERF_CAP_FW_WRITES) !== 0n),
    yes(c.guest.pdcm),
    g.version >= 2 ? "≥2" : String(g.version),
    g.nGP === host.nGP && g.nFX === host.nFX ? "equal" : "differ",
    g.wGP === host.wGP && g.wFX === host.wFX ? "equal" : "differ",
    compare(g.nGP, host.nGP),
    compare(g.nFX, host.nFX),
    c.host,
    c.activity,
  ];
}

/** "host→guest MSR_PERF_METRICS (0x329) via RDPMC" or "I-4 MSR_PERF_METRICS (0x329) while the guest
 *  runs": what kind of crossing (or which invariant), independent of values. */
export function findingSignature(f: Finding): string {
  if (f.direction === "invariant") return `${f.path.slice(0, 3)} ${f.register} ${f.path.slice(4)}`;
  return `${f.direction} ${f.register} via ${f.path.split(" ")[0]}`;
}

export interface FindingExample {
  readonly config: SweepConfig;
  readonly program: string;
  readonly finding: Finding;
}

export interface FindingGroup {
  readonly signature: string;
  readonly direction: Finding["direction"];
  readonly register: string;
  /** Configurations (and runs) with at least one such finding. */
  readonly configurations: number;
  readonly runs: number;
  readonly explanation: Explanation;
  /** The distinct policy rules that let the accesses through, sorted. */
  readonly rules: readonly string[];
  /** The first finding in matrix order. */
  readonly example: FindingExample;
}

export interface SweepReport {
  readonly mode: "matrix" | "fuzz";
  readonly seed: number | null;
  readonly shard: string;
  readonly configurations: number;
  readonly programs: readonly string[];
  readonly runs: number;
  readonly ran: number;
  readonly rejected: number;
  readonly failed: number;
  readonly groups: readonly FindingGroup[];
  /** Why KVM refused configurations (its ioctl rules), with how many runs each. */
  readonly rejections: readonly { readonly reason: string; readonly runs: number }[];
  /** Runs that did not complete (first 20, matrix order). */
  readonly failures: readonly { readonly config: SweepConfig; readonly program: string; readonly detail: string }[];
  readonly failuresTotal: number;
  /** The instruction limit of the user's programs (null when only built-in or random probes ran). */
  readonly maxInsns: number | null;
}

export interface SummariseInput {
  readonly mode: "matrix" | "fuzz";
  readonly seed?: number;
  readonly shard?: string;
  /** Configurations by matrix index (only those that ran need be present). */
  readonly configs: ReadonlyMap<number, SweepConfig>;
  readonly programs: readonly string[];
  readonly records: readonly RunRecord[];
  /** The instruction limit of the user's programs, if any ran (`--max-insns`). */
  readonly maxInsns?: number;
}

/** Group records into the report. Records may arrive in any order: they are sorted first. */
export function summarise(inp: SummariseInput): SweepReport {
  const records = [...inp.records].sort((a, b) => a.config - b.config || a.program - b.program);
  let ran = 0,
    rejected = 0,
    failed = 0;
  const rejections = new Map<string, number>();
  const failures: { config: SweepConfig; program: string; detail: string }[] = [];
  // Per configuration: attribute vector (if it ran), signatures seen, runs per signature.
  const perConfig = new Map<number, { attrs: AttrVector | null; sigs: Set<string> }>();
  const sigRuns = new Map<string, number>();
  const sigRules = new Map<string, Set<string>>();
  const sigExample = new Map<string, FindingExample>();
  for (const r of records) {
    const c = inp.configs.get(r.config)!;
    let pc = perConfig.get(r.config);
    if (!pc) {
      pc = { attrs: null, sigs: new Set() };
      perConfig.set(r.config, pc);
    }
    if (r.outcome === "rejected") {
      rejected++;
      rejections.set(r.detail, (rejections.get(r.detail) ?? 0) + 1);
      continue;
    }
    if (r.outcome === "failed") {
      failed++;
      if (failures.length < 20) failures.push({ config: c, program: inp.programs[r.program], detail: r.detail });
    } else ran++;
    if (pc.attrs === null && r.realised !== null) pc.attrs = configAttributes(c, r);
    const seenHere = new Set<string>();
    for (const f of r.findings) {
      const s = findingSignature(f);
      pc.sigs.add(s);
      if (!seenHere.has(s)) {
        seenHere.add(s);
        sigRuns.set(s, (sigRuns.get(s) ?? 0) + 1);
      }
      let rules = sigRules.get(s);
      if (!rules) sigRules.set(s, (rules = new Set()));
      rules.add(f.rule);
      if (!sigExample.has(s)) sigExample.set(s, { config: c, program: inp.programs[r.program], finding: f });
    }
  }
  const groups: FindingGroup[] = [];
  const signatures = [...sigRuns.keys()].sort();
  for (const s of signatures) {
    const pos: AttrVector[] = [];
    const neg: AttrVector[] = [];
    for (const pc of perConfig.values()) {
      if (pc.attrs === null) continue;
      (pc.sigs.has(s) ? pos : neg).push(pc.attrs);
    }
    const ex = sigExample.get(s)!;
    groups.push({
      signature: s,
      direction: ex.finding.direction,
      register: ex.finding.register,
      configurations: pos.length,
      runs: sigRuns.get(s)!,
      explanation: explain(SWEEP_ATTRIBUTES, pos, neg),
      rules: [...sigRules.get(s)!].sort(),
      example: ex,
    });
  }
  return {
    mode: inp.mode,
    seed: inp.seed ?? null,
    shard: inp.shard ?? "1/1",
    configurations: perConfig.size,
    programs: inp.programs,
    runs: records.length,
    ran,
    rejected,
    failed,
    groups,
    rejections: [...rejections]
      .map(([reason, runs]) => ({ reason, runs }))
      .sort((a, b) => b.runs - a.runs || (a.reason < b.reason ? -1 : 1)),
    failures,
    failuresTotal: failed,
    maxInsns: inp.maxInsns ?? null,
  };
}

/** The `vpmu explain` / `vpmu run` options that reproduce a configuration; `policyFiles` maps policy
 *  names to the files they came from. A LEGACY kernel has no mediated vPMU, so it is `--pmu legacy`. */
export function configOptions(c: SweepConfig, policyFiles: ReadonlyMap<string, string> = new Map()): string {
  const g = c.guest;
  const parts = [`--host ${c.host}`];
  if (findCodeState(c.kvm)?.mediatedPmu === false || c.pmu !== "mediated")
    parts.push(`--pmu ${c.pmu === "off" ? "off" : "legacy"}`);
  else parts.push("--pmu mediated", `--kvm ${policyFiles.get(c.kvm) ?? c.kvm}`);
  parts.push(
    `--pmu-version ${g.version}`,
    `--gp ${g.nGP}`,
    `--gp-width ${g.wGP}`,
    `--fixed ${g.nFX}`,
    `--fixed-width ${g.wFX}`,
  );
  if (g.pdcm) parts.push(`--perf-caps 0x${g.perfCapabilities.toString(16)}`);
  else parts.push("--no-pdcm");
  parts.push(`--host-activity ${c.activity}`);
  return parts.join(" ");
}

const hex = (v: bigint | number) => `0x${v.toString(16)}`;

/** The human report. */
export function formatReport(r: SweepReport, policyFiles: ReadonlyMap<string, string> = new Map()): string {
  const out: string[] = [];
  const what = r.mode === "fuzz" ? `random-probe sweep (seed ${r.seed})` : "sweep";
  const progs = r.programs.length <= 6 ? `programs: ${r.programs.join(", ")}` : `${r.programs.length} programs`;
  out.push(`vpmu ${what}: ${r.configurations} configurations, ${r.runs} runs (${progs}; shard ${r.shard})`);
  out.push(`  ran ${r.ran}, rejected by KVM ${r.rejected}, did not complete ${r.failed}`);
  if (r.maxInsns !== null)
    out.push(
      `  your programs stop after ${r.maxInsns.toLocaleString("en-US")} instructions (--max-insns); one that reaches the limit, faults or does not exit did not complete`,
    );
  if (r.groups.length === 0) {
    const partial =
      r.failed > 0
        ? `; ${r.failed} runs did not complete (below): only what they ran before they stopped was checked`
        : "";
    out.push(
      "",
      `no leaks: no host-owned value reached a guest and no guest write reached hardware KVM reserves, in ${r.ran} runs that completed${partial}`,
    );
  }
  for (const g of r.groups) {
    out.push(
      "",
      `${g.direction === "invariant" ? "INVARIANT" : "LEAK"} ${g.signature}: ${g.configurations} configurations, ${g.runs} runs`,
    );
    for (const c of g.explanation.conditions)
      out.push(
        c.literals.length === 0
          ? `  in every configuration of the sweep (${c.covers})`
          : `  when ${c.sentence} (${c.covers})`,
      );
    if (g.explanation.unexplained > 0)
      out.push(
        `  and ${g.explanation.unexplained} configurations the attributes cannot separate from clean ones (the finding depends on the program)`,
      );
    if (g.explanation.uncovered > 0)
      out.push(`  and ${g.explanation.uncovered} configurations no condition of up to 8 attributes explains`);
    for (const rule of g.rules)
      out.push(
        g.direction === "invariant"
          ? `  ${rule}`
          : `  let through by: ${letThrough({ path: g.example.finding.path, msr: g.example.finding.msr, rule })}`,
      );
    const e = g.example;
    const f = e.finding;
    const at = f.direction === "invariant" ? `${f.path}: ${f.register}` : `${f.path} at rip ${hex(f.rip)}`;
    out.push(
      `  e.g. ${configLabel(e.config)} — ${e.program}: ${at} = ${hex(f.value)}, owned by ${f.owner} (${f.source})`,
    );
    out.push(`  see: vpmu explain ${configOptions(e.config, policyFiles)}`);
  }
  if (r.rejections.length > 0) {
    out.push("", "rejected by KVM (configurations a VMM could not create):");
    for (const x of r.rejections) out.push(`  ${x.runs} runs: ${x.reason}`);
  }
  if (r.failures.length > 0) {
    out.push(
      "",
      `did not complete (${r.failuresTotal} runs${r.failuresTotal > r.failures.length ? `, first ${r.failures.length} shown` : ""}):`,
    );
    for (const x of r.failures) out.push(`  ${configLabel(x.config)} — ${x.program}: ${x.detail}`);
  }
  return out.join("\n") + "\n";
}

function findingJson(f: Finding): Record<string, unknown> {
  return {
    direction: f.direction,
    register: f.register,
    msr: hex(f.msr),
    path: f.path,
    rip: hex(f.rip),
    value: hex(f.value),
    owner: f.owner,
    source: f.source,
    rule: f.rule,
  };
}

/** The JSON report (bigints as hex strings). */
export function reportJson(
  r: SweepReport,
  policyFiles: ReadonlyMap<string, string> = new Map(),
): Record<string, unknown> {
  return {
    mode: r.mode,
    seed: r.seed,
    shard: r.shard,
    configurations: r.configurations,
    programs: r.programs,
    runs: r.runs,
    ran: r.ran,
    rejected: r.rejected,
    failed: r.failed,
    ...(r.maxInsns !== null ? { maxInsns: r.maxInsns } : {}),
    leaks: r.groups.map((g) => ({
      signature: g.signature,
      direction: g.direction,
      register: g.register,
      configurations: g.configurations,
      runs: g.runs,
      conditions: g.explanation.conditions.map((c) => ({
        sentence: c.sentence,
        configurations: c.covers,
        literals: Object.fromEntries(c.literals.map((l) => [l.attr, l.value])),
      })),
      unexplained: g.explanation.unexplained,
      uncovered: g.explanation.uncovered,
      rules: g.rules,
      example: {
        config: configJson(g.example.config),
        program: g.example.program,
        finding: findingJson(g.example.finding),
        explain: `vpmu explain ${configOptions(g.example.config, policyFiles)}`,
      },
    })),
    rejections: r.rejections,
    failures: r.failures.map((x) => ({ config: configJson(x.config), program: x.program, detail: x.detail })),
  };
}
