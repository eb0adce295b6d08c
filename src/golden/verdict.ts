// One golden program's verdict: compare what `vpmu run` produced with the `.out` beside the program,
// the way kvm-unit-tests' runner names results (PASS / FAIL / SKIP with the guest's SUMMARY).
import { unifiedDiff } from "../report/diff.js";
import { goldenText } from "./expected.js";
import { parseSummary } from "./summary.js";

/** What running one program produced (the runner is injected: a child process, a worker, a test fake). */
export type RunOutcome =
  | { kind: "ran"; stdout: string; stderr: string; status: number }
  | { kind: "timeout"; seconds: number; stdout: string; stderr: string }
  | { kind: "signal"; signal: string; stdout: string; stderr: string }
  | { kind: "error"; message: string };

export type Verdict = "PASS" | "FAIL" | "SKIP";

export interface GoldenResult {
  /** Display name, e.g. `pmu/overflow`. */
  name: string;
  program: string;
  golden: string;
  verdict: Verdict;
  /** The text inside the parentheses of the result line (guest SUMMARY or the reason), or "". */
  detail: string;
  /** Unified diff expected → actual when the output differs ("" otherwise). */
  diff: string;
  /** The golden text this run produced (what --update writes), or null if the program did not run. */
  actual: string | null;
  /** True when --update should rewrite the golden file. */
  needsUpdate: boolean;
  /** stderr of the run, shown with a failure. */
  stderr: string;
  /** Extra lines explaining a failure (missing golden file, timeout …). */
  notes: string[];
  /** Run options taken from the header. */
  args: string[];
}

export interface JudgeInput {
  name: string;
  program: string;
  golden: string;
  args: string[];
  /** Contents of the golden file, or null when it does not exist. */
  expected: string | null;
  outcome: RunOutcome;
}

/** Compare and decide. A matching program whose guest exits 77 is a SKIP (kvm-unit-tests' convention). */
export function judge(input: JudgeInput): GoldenResult {
  const base = {
    name: input.name,
    program: input.program,
    golden: input.golden,
    args: input.args,
    diff: "",
    notes: [] as string[],
    stderr: "",
    actual: null as string | null,
    needsUpdate: false,
  };
  const o = input.outcome;
  if (o.kind === "error") {
    return { ...base, verdict: "FAIL", detail: o.message, notes: [] };
  }
  if (o.kind === "timeout") {
    return { ...base, verdict: "FAIL", detail: `timeout; duration=${o.seconds}s`, stderr: o.stderr };
  }
  if (o.kind === "signal") {
    return { ...base, verdict: "FAIL", detail: `terminated on ${o.signal}`, stderr: o.stderr };
  }
  const actual = goldenText(o.stdout, o.status);
  const summary = parseSummary(o.stdout);
  const detail = summary ? summary.text : `exit status ${o.status}`;
  if (input.expected === null) {
    return {
      ...base,
      verdict: "FAIL",
      detail: `no golden file ${input.golden}`,
      actual,
      needsUpdate: true,
      stderr: o.stderr,
      notes: [`create it with: vpmu test --update ${input.program}`],
    };
  }
  if (input.expected !== actual) {
    return {
      ...base,
      verdict: "FAIL",
      detail: `${detail}; output differs from ${input.golden}`,
      diff: unifiedDiff(input.expected, actual, input.golden, `${input.program} (actual)`),
      actual,
      needsUpdate: true,
      stderr: o.stderr,
    };
  }
  return { ...base, verdict: o.status === 77 ? "SKIP" : "PASS", detail, actual, stderr: o.stderr };
}
