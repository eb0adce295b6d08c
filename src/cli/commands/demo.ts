// `vpmu demo`: the flagship demo on built-in defaults — the PERF_METRICS leak of the V4 mediated-vPMU
// patch (spec §14.4) reproduced under `--kvm v4` and closed under `--kvm fix` (spec §14.5), side by
// side. Built over `vpmu run --json` (the document src/report/report.ts runDocument defines), so what the
// demo shows is exactly what `vpmu run` reports; it judges the two runs from their data, never assumes.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { basename, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import type { Command } from "commander";
import { unifiedDiffLines } from "../demo-diff.js";
import { colourWanted, painter, type Painter } from "../colour.js";
import { CliError, EXIT_FAILURE, usageError } from "../errors.js";
import { addExamples } from "../help.js";

const MAIN_JS = fileURLToPath(new URL("../main.js", import.meta.url));
const PACKAGE_ROOT = fileURLToPath(new URL("../../../", import.meta.url));

/** The §14.4 set-up: an SPR host whose hardware PERF_METRICS holds a host value H, and a mediated guest
 *  whose counters match the host exactly (8×48 GP, 4×48 fixed) but whose PERF_CAPABILITIES lacks bit 15. */
const H = "0x8899aabb11223344";
const SETUP: readonly string[] = [
  "--host",
  "spr",
  "--pmu",
  "mediated",
  "--pmu-version",
  "2",
  "--gp",
  "8",
  "--gp-width",
  "48",
  "--fixed",
  "4",
  "--fixed-width",
  "48",
  "--perf-caps",
  "0x2000",
  "--host-msr",
  `0x329=${H}`,
];
const PROGRAM = "programs/leak/v4-rdpmc-leak.s";
const SIDES = ["v4", "fix"] as const;
type Side = (typeof SIDES)[number];

/** The fields of `vpmu run --json` the demo reads. */
interface RunDoc {
  console: string;
  status: number;
  exits: {
    reason: number;
    name: string;
    rip: string;
    length: number;
    msr?: string;
    ecx?: string;
    port?: string;
    in?: boolean;
    value?: string;
    outcome: string;
    why?: string;
  }[];
  leaks: { register: string; path: string; rip: string; value: string; owner: string; source: string; rule: string }[];
}

function runJson(program: string, side: Side): Promise<{ doc: RunDoc | null; problem: string | null }> {
  return new Promise((resolvePromise) => {
    const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: "1" };
    delete env.FORCE_COLOR;
    const child = spawn(process.execPath, [MAIN_JS, "run", "--json", ...SETUP, "--kvm", side, basename(program)], {
      cwd: dirname(program),
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (b: Buffer) => out.push(b));
    child.stderr.on("data", (b: Buffer) => err.push(b));
    child.on("error", (e) => resolvePromise({ doc: null, problem: e.message }));
    child.on("close", (code) => {
      const stdout = Buffer.concat(out).toString("utf8");
      const lines = Buffer.concat(err).toString("utf8").split("\n");
      // Its own sentence if it gave one, else the error line of a crash, else its exit status.
      const said =
        lines.find((l) => l.startsWith("vpmu: "))?.slice("vpmu: ".length) ?? lines.find((l) => /^\w*Error\b/.test(l));
      let doc: unknown;
      try {
        doc = JSON.parse(stdout);
      } catch {
        resolvePromise({ doc: null, problem: said ?? `it printed no JSON document (exit status ${code})` });
        return;
      }
      const d = doc as Partial<RunDoc>;
      const missing = (["console", "status", "exits", "leaks"] as const).filter((k) => d[k] === undefined);
      if (missing.length) resolvePromise({ doc: null, problem: `its JSON document has no ${missing.join(", ")}` });
      else resolvePromise({ doc: d as RunDoc, problem: null });
    });
  });
}

/** An exit as one line, console output folded away (it is the same on both sides). */
function exitLine(e: RunDoc["exits"][number]): string {
  let detail = "";
  if (e.msr !== undefined) detail = ` msr=${e.msr}`;
  else if (e.ecx !== undefined && e.name === "RDPMC") detail = ` ecx=${e.ecx}`;
  else if (e.port !== undefined) detail = ` port=${e.port}`;
  const outcome = e.outcome === "#GP" ? "#GP injected" : e.outcome === "ok" ? "emulated, rip += len" : e.outcome;
  return `${e.name}(${e.reason}) rip=${e.rip}${detail} -> ${outcome}`;
}

function pmuExits(doc: RunDoc): string[] {
  return doc.exits.filter((e) => !(e.port === "0xe9" && e.in === false)).map(exitLine);
}

function summaryOf(doc: RunDoc): string {
  const line = doc.console
    .split("\n")
    .reverse()
    .find((l) => l.startsWith("SUMMARY: "));
  return line ? line.slice("SUMMARY: ".length) : "(no SUMMARY line)";
}

const METRICS_ECX = "0x20000000";

/** What happened to RDPMC(0x2000_0000) on one side, from the exit log and the leak records. */
function rdpmcFate(doc: RunDoc): { exited: boolean; text: string } {
  const ex = doc.exits.find((e) => e.name === "RDPMC" && e.ecx === METRICS_ECX);
  if (ex)
    return { exited: true, text: `exit ${ex.reason} (RDPMC) -> ${ex.outcome === "#GP" ? "#GP injected" : ex.outcome}` };
  return { exited: false, text: "no exit: ran on the hardware" };
}

function hostLeak(doc: RunDoc): RunDoc["leaks"][number] | undefined {
  return doc.leaks.find((l) => l.owner === "host" && l.path === `RDPMC ecx=${METRICS_ECX}`);
}

function table(rows: readonly (readonly [string, string, string])[], paint: Painter): string {
  const w0 = Math.max(...rows.map((r) => r[0].length));
  const w1 = Math.max(...rows.map((r) => r[1].length));
  return rows
    .map(([a, b, c], i) => {
      const line = `  ${a.padEnd(w0)}   ${b.padEnd(w1)}   ${c}`.trimEnd();
      return i === 0 ? paint(line, "bold") : line;
    })
    .join("\n");
}

async function demo(programArg: string | undefined): Promise<number> {
  const program = programArg ?? `${PACKAGE_ROOT}${PROGRAM}`;
  const shown = programArg ?? PROGRAM;
  if (!existsSync(program)) throw usageError(`no such guest program: ${shown}`);
  const paint = painter(colourWanted(process.stdout));
  const runs = await Promise.all(SIDES.map((s) => runJson(program, s)));
  const problems = runs
    .map((r, i) => (r.problem !== null ? `under --kvm ${SIDES[i]}: ${r.problem}` : null))
    .filter((p) => p !== null);
  if (problems.length) {
    throw new CliError(
      `the demo cannot run because \`vpmu run --json\` did not produce its run document (${problems.join("; ")})`,
      EXIT_FAILURE,
    );
  }
  const [v4, fix] = runs.map((r) => r.doc!) as [RunDoc, RunDoc];
  const out: string[] = [];
  out.push(paint("vpmu demo: the PERF_METRICS leak of the V4 mediated-vPMU patch (spec §14.4, §14.5)", "bold"), "");
  out.push(`  host     spr, mediated vPMU; before the first entry hardware PERF_METRICS (0x329) holds`);
  out.push(`           a host-owned value ${H}`);
  out.push(`  guest    PMU version 2, 8 GP x 48-bit, 4 fixed x 48-bit, PERF_CAPABILITIES 0x2000`);
  out.push(`           (full-width writes; bit 15 PERF_METRICS clear: the guest has no PERF_METRICS)`);
  out.push(`  program  ${shown}: rdpmc with ecx = ${METRICS_ECX} (the metrics type), then rdmsr 0x329`);
  out.push(`  runs     vpmu run --json ${SETUP.join(" ")} --kvm v4|fix ${shown}`, "");

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
  const reproduced = leaks[0] !== undefined && leaks[0].value === H && !fates[0]!.exited;
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
  process.stdout.write(out.join("\n") + "\n");
  return reproduced && closed ? 0 : EXIT_FAILURE;
}

function colourLine(l: string, paint: Painter): string {
  if (l.startsWith("@@")) return paint(l, "hunk");
  if (l.startsWith("-")) return paint(l, "removed");
  if (l.startsWith("+")) return paint(l, "added");
  return l;
}

export function register(program: Command): void {
  const cmd = program
    .command("demo")
    .description(
      "the flagship demo: the PERF_METRICS leak reproduced under --kvm v4 and closed under --kvm fix, side by side",
    )
    .option("--program <file>", `run another guest program with the same set-up (default: ${PROGRAM})`)
    .action(async (o: { program?: string }) => {
      const status = await demo(o.program);
      if (status !== 0) process.exitCode = status;
    });
  addExamples(cmd, [
    ["vpmu demo", "both runs, the exits that differ, the leak records, a verdict"],
    [`vpmu run --exits ${SETUP.join(" ")} --kvm v4 ${PROGRAM}`, "one side by hand"],
  ]);
}
