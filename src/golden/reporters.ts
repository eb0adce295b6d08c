// How `vpmu test` reports: kvm-unit-tests-style result lines for people, TAP 13 and JSON for CI.
// Every reporter is a pure function of the results in program order, so output is deterministic.
import type { GoldenResult } from "./verdict.js";

export type ReporterName = "line" | "tap" | "json";
export const REPORTERS: readonly ReporterName[] = ["line", "tap", "json"];

export interface Totals {
  programs: number;
  passed: number;
  failed: number;
  skipped: number;
  updated: number;
}

export function totals(results: readonly GoldenResult[], updated: ReadonlySet<string> = new Set()): Totals {
  const t: Totals = { programs: results.length, passed: 0, failed: 0, skipped: 0, updated: updated.size };
  for (const r of results) {
    if (updated.has(r.program)) continue;
    if (r.verdict === "PASS") t.passed++;
    else if (r.verdict === "FAIL") t.failed++;
    else t.skipped++;
  }
  return t;
}

type Paint = (text: string, style: "pass" | "fail" | "skip" | "bold" | "removed" | "added" | "hunk" | "dim") => string;
const plain: Paint = (t) => t;

function paintDiff(diff: string, paint: Paint): string {
  return diff
    .split("\n")
    .map((l) => {
      if (l.startsWith("+++") || l.startsWith("---")) return paint(l, "bold");
      if (l.startsWith("@@")) return paint(l, "hunk");
      if (l.startsWith("-")) return paint(l, "removed");
      if (l.startsWith("+")) return paint(l, "added");
      return l;
    })
    .join("\n");
}

/** `PASS pmu/overflow (12 tests)` — the runtime.bash line; UPDATE when --update rewrote the golden file. */
export function resultLine(r: GoldenResult, paint: Paint = plain, updated = false): string {
  if (updated) return `${paint("UPDATE", "bold")} ${r.name} (wrote ${r.golden})`;
  const tag = paint(r.verdict, r.verdict === "PASS" ? "pass" : r.verdict === "FAIL" ? "fail" : "skip");
  return r.detail === "" ? `${tag} ${r.name}` : `${tag} ${r.name} (${r.detail})`;
}

/** The run's stderr, indented under its result line ("" when it wrote none). */
export function stderrBlock(r: GoldenResult): string {
  if (r.stderr.trim() === "") return "";
  const parts = [`    stderr of vpmu run${r.args.length ? " " + r.args.join(" ") : ""} ${r.program}:\n`];
  for (const l of r.stderr.replace(/\n$/, "").split("\n")) parts.push(`    | ${l}\n`);
  return parts.join("");
}

/** The lines printed under a FAIL: notes, the unified diff, and the run's stderr. */
export function failureDetails(r: GoldenResult, paint: Paint = plain): string {
  const parts: string[] = [];
  for (const n of r.notes) parts.push(`    ${n}\n`);
  if (r.diff !== "") parts.push(paintDiff(r.diff, paint));
  parts.push(stderrBlock(r));
  return parts.join("");
}

/** The closing count, e.g. `12 programs: 10 passed, 1 failed, 1 skipped`. */
export function totalsLine(t: Totals): string {
  const parts = [`${t.passed} passed`];
  if (t.failed) parts.push(`${t.failed} failed`);
  if (t.skipped) parts.push(`${t.skipped} skipped`);
  if (t.updated) parts.push(`${t.updated} updated`);
  return `${t.programs} program${t.programs === 1 ? "" : "s"}: ${parts.join(", ")}`;
}

/** The whole human report (what `vpmu test` prints when every result is in). */
export function lineReport(
  results: readonly GoldenResult[],
  updated: ReadonlySet<string>,
  paint: Paint = plain,
): string {
  const out: string[] = [];
  for (const r of results) {
    const wasUpdated = updated.has(r.program);
    out.push(resultLine(r, paint, wasUpdated) + "\n");
    // An update shows the run's stderr, so a crash is never accepted as a golden file unseen.
    if (wasUpdated) out.push(stderrBlock(r));
    else if (r.verdict === "FAIL") out.push(failureDetails(r, paint));
  }
  out.push(totalsLine(totals(results, updated)) + "\n");
  return out.join("");
}

function yamlString(s: string): string {
  return JSON.stringify(s);
}

/** TAP version 13: one test point per program; FAIL points carry a YAML block with the diff. */
export function tapReport(results: readonly GoldenResult[], updated: ReadonlySet<string>): string {
  const out: string[] = ["TAP version 13\n", `1..${results.length}\n`];
  results.forEach((r, i) => {
    const n = i + 1;
    const desc = `${r.name}${r.detail ? ` (${r.detail})` : ""}`.replace(/#/g, "\\#");
    if (updated.has(r.program)) {
      out.push(`ok ${n} - ${r.name} # SKIP updated ${r.golden}\n`);
    } else if (r.verdict === "PASS") {
      out.push(`ok ${n} - ${desc}\n`);
    } else if (r.verdict === "SKIP") {
      out.push(`ok ${n} - ${r.name} # SKIP ${r.detail}\n`);
    } else {
      out.push(`not ok ${n} - ${desc}\n`);
      out.push("  ---\n");
      out.push(`  program: ${yamlString(r.program)}\n`);
      out.push(`  golden: ${yamlString(r.golden)}\n`);
      for (const note of r.notes) out.push(`  note: ${yamlString(note)}\n`);
      if (r.diff !== "") {
        out.push("  diff: |\n");
        for (const l of r.diff.replace(/\n$/, "").split("\n")) out.push(`    ${l}\n`);
      }
      if (r.stderr.trim() !== "") out.push(`  stderr: ${yamlString(r.stderr)}\n`);
      out.push("  ...\n");
    }
  });
  return out.join("");
}

/** One JSON document: totals and every result (diffs as text). */
export function jsonReport(results: readonly GoldenResult[], updated: ReadonlySet<string>): string {
  const doc = {
    totals: totals(results, updated),
    results: results.map((r) => ({
      name: r.name,
      program: r.program,
      golden: r.golden,
      args: r.args,
      verdict: updated.has(r.program) ? "UPDATE" : r.verdict,
      detail: r.detail,
      diff: r.diff,
      notes: r.notes,
      stderr: r.stderr,
    })),
  };
  return JSON.stringify(doc, null, 2) + "\n";
}
