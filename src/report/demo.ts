/**
 * What `vpmu demo` shows: two run documents of the same guest (model.md §14.4's set-up under `--kvm v4` and
 * `--kvm fix`) side by side — the RDPMC(0x2000_0000) fate, the value the guest read, the exits and console
 * lines that differ, the leak records — and the verdict, computed from the documents, never assumed.
 */
import { unifiedDiffLines } from "./diff.js";
import type { RunDocument, RunDocumentExit, RunDocumentLeak } from "./run-document.js";

export type DemoStyle = "bold" | "pass" | "fail" | "hunk" | "removed" | "added";
/** Colours a piece of text (the CLI's painter; the identity when colour is off). */
export type Paint = (text: string, style: DemoStyle) => string;

export interface DemoScenario {
  /** The host-owned PERF_METRICS value in hardware before the first entry (--host-msr 0x329=H). */
  readonly hostValue: string;
  /** The guest program as the user named it. */
  readonly program: string;
  /** The `vpmu run` options both sides share (shown, so either side can be run by hand). */
  readonly setup: readonly string[];
}

const METRICS_ECX = "0x20000000";

/** An exit as one line, console output folded away (it is the same on both sides). */
function exitLine(e: RunDocumentExit): string {
  let detail = "";
  if (e.msr !== undefined) detail = ` msr=${e.msr}`;
  else if (e.ecx !== undefined && e.name === "RDPMC") detail = ` ecx=${e.ecx}`;
  else if (e.port !== undefined) detail = ` port=${e.port}`;
  const outcome = e.outcome === "#GP" ? "#GP injected" : e.outcome === "ok" ? "emulated, rip += len" : e.outcome;
  return `${e.name}(${e.reason}) rip=${e.rip}${detail} -> ${outcome}`;
}

function pmuExits(doc: RunDocument): string[] {
  return doc.exits.filter((e) => !(e.port === "0xe9" && e.in === false)).map(exitLine);
}

function summaryOf(doc: RunDocument): string {
  const line = doc.console
    .split("\n")
    .reverse()
    .find((l) => l.startsWith("SUMMARY: "));
  return line ? line.slice("SUMMARY: ".length) : "(no SUMMARY line)";
}

/** What happened to RDPMC(0x2000_0000) on one side, from the exit log and the leak records. */
function rdpmcFate(doc: RunDocument): { exited: boolean; text: string } {
  const ex = doc.exits.find((e) => e.name === "RDPMC" && e.ecx === METRICS_ECX);
  if (ex)
    return { exited: true, text: `exit ${ex.reason} (RDPMC) -> ${ex.outcome === "#GP" ? "#GP injected" : ex.outcome}` };
  return { exited: false, text: "no exit: ran on the hardware" };
}

function hostLeak(doc: RunDocument): RunDocumentLeak | undefined {
  return doc.leaks.find((l) => l.owner === "host" && l.path === `RDPMC ecx=${METRICS_ECX}`);
}

function table(rows: readonly (readonly [string, string, string])[], paint: Paint): string {
  const w0 = Math.max(...rows.map((r) => r[0].length));
  const w1 = Math.max(...rows.map((r) => r[1].length));
  return rows
    .map(([a, b, c], i) => {
      const line = `  ${a.padEnd(w0)}   ${b.padEnd(w1)}   ${c}`.trimEnd();
      return i === 0 ? paint(line, "bold") : line;
    })
    .join("\n");
}

function colourLine(l: string, paint: Paint): string {
  if (l.startsWith("@@")) return paint(l, "hunk");
  if (l.startsWith("-")) return paint(l, "removed");
  if (l.startsWith("+")) return paint(l, "added");
  return l;
}

/** The demo's text and whether the leak was reproduced under v4 and closed under fix. */
export function demoReport(
  s: DemoScenario,
  v4: RunDocument,
  fix: RunDocument,
  paint: Paint,
): { readonly text: string; readonly ok: boolean } {
  const out: string[] = [];
  out.push(paint("vpmu demo: the PERF_METRICS leak of the V4 mediated-vPMU patch (model.md §14.4, §14.5)", "bold"), "");
  out.push(`  host     spr, mediated vPMU; before the first entry hardware PERF_METRICS (0x329) holds`);
  out.push(`           a host-owned value ${s.hostValue}`);
  out.push(`  guest    PMU version 2, 8 GP x 48-bit, 4 fixed x 48-bit, PERF_CAPABILITIES 0x2000`);
  out.push(`           (full-width writes; bit 15 PERF_METRICS clear: the guest has no PERF_METRICS)`);
  out.push(`  program  ${s.program}: rdpmc with ecx = ${METRICS_ECX} (the metrics type), then rdmsr 0x329`);
  out.push(`  runs     vpmu run --json ${s.setup.join(" ")} --kvm v4|fix ${s.program}`, "");

  const fates = [rdpmcFate(v4), rdpmcFate(fix)];
  const leaks = [hostLeak(v4), hostLeak(fix)];
  out.push(
    table(
      [
        ["", "--kvm v4", "--kvm fix"],
        [`RDPMC ecx=${METRICS_ECX}`, fates[0]!.text, fates[1]!.text],
        [
          "value the guest read",
          leaks[0] ? `${leaks[0].value} (host-owned)` : "no host value",
          leaks[1] ? `${leaks[1].value} (host-owned)` : "no host value",
        ],
        ["host->guest leaks", String(v4.leaks.length), String(fix.leaks.length)],
        ["guest SUMMARY", summaryOf(v4), summaryOf(fix)],
        ["exit status", String(v4.status), String(fix.status)],
      ],
      paint,
    ),
    "",
  );

  const exitDiff = unifiedDiffLines(pmuExits(v4), pmuExits(fix));
  out.push(paint("VM exits that differ (--- v4, +++ fix; console output exits omitted):", "bold"));
  out.push(exitDiff.length ? exitDiff.map((l) => "  " + colourLine(l, paint)).join("\n") : "  (none)", "");

  const consoleDiff = unifiedDiffLines(
    v4.console.replace(/\n$/, "").split("\n"),
    fix.console.replace(/\n$/, "").split("\n"),
  );
  out.push(paint("Guest console (--- v4, +++ fix):", "bold"));
  out.push(consoleDiff.length ? consoleDiff.map((l) => "  " + colourLine(l, paint)).join("\n") : "  (identical)", "");

  for (const [side, doc] of [
    ["v4", v4],
    ["fix", fix],
  ] as const) {
    out.push(paint(`Leak records under --kvm ${side}:`, "bold"));
    if (doc.leaks.length === 0) out.push("  none");
    for (const l of doc.leaks) {
      out.push(`  ${l.register} = ${l.value} owned by ${l.owner} (${l.source})`);
      out.push(`    via ${l.path} at rip ${l.rip}; let through by ${l.rule}`);
    }
  }
  out.push("");

  // The verdict is computed from the two documents: reproduced = the host value reached the guest through
  // RDPMC without an exit under v4; closed = under fix the RDPMC exited (reason 15), #GP, nothing leaked.
  const reproduced = leaks[0] !== undefined && leaks[0].value === s.hostValue && !fates[0]!.exited;
  const closedRdpmc = fix.exits.find((e) => e.name === "RDPMC" && e.ecx === METRICS_ECX);
  const closed =
    closedRdpmc !== undefined && closedRdpmc.reason === 15 && closedRdpmc.outcome === "#GP" && fix.leaks.length === 0;
  if (reproduced && closed) {
    out.push(
      paint("Reproduced and closed:", "pass") + " under v4 the guest read the host's PERF_METRICS with no VM exit;",
    );
    out.push("under fix the same RDPMC exits (reason 15) and KVM injects #GP, and nothing leaks.");
  } else {
    const v4Says = reproduced
      ? "under v4 the host's PERF_METRICS reached the guest with no exit"
      : `under v4 no host value reached the guest through RDPMC(${METRICS_ECX})`;
    const fixSays = closed
      ? "under fix that RDPMC exits (reason 15) with #GP and nothing leaks"
      : fix.leaks.length > 0
        ? `under fix ${fix.leaks.length} host value(s) still reach the guest`
        : `under fix no RDPMC(${METRICS_ECX}) exit with #GP was recorded`;
    out.push(paint("Not as expected:", "fail") + ` ${v4Says};`);
    out.push(`${fixSays}.`);
  }
  return { text: out.join("\n") + "\n", ok: reproduced && closed };
}
