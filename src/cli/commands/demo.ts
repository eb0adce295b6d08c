// `vpmu demo`: the flagship demo on built-in defaults — the PERF_METRICS leak of the V4 mediated-vPMU
// patch (model.md §14.4) reproduced under `--kvm v4` and closed under `--kvm fix` (model.md §14.5), side by
// side. Each side runs in process on the machine `vpmu run --json` would build for the same options, and
// the demo reads the run document that command prints (src/report/run-document.ts), so what it shows is
// exactly what `vpmu run` reports; src/report/demo.ts judges the two runs from their data, never assumes.
import { existsSync } from "node:fs";
import { basename, dirname } from "node:path";
import { Command } from "commander";
import { createMachine } from "../../machine/index.js";
import { demoReport, NativeRdpmcLog, runDocument, type DemoSide } from "../../report/index.js";
import { colourWanted, painter } from "../colour.js";
import { CliError, describeFailure, EXIT_FAILURE, EXIT_USAGE, usageError } from "../errors.js";
import { addExamples } from "../help.js";
import { addMachineOptions, machineOptions } from "../machine-options.js";
import { runFile, type RunConfig } from "./run.js";
import { DEFAULT_LOAD, DEFAULT_MAX_INSNS, DEFAULT_MEM } from "../../vmm/index.js";
import { PACKAGE_ROOT } from "../paths.js";

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

/**
 * One side, in process: the options `vpmu run --json SETUP --kvm <side> <program>` would parse (the same
 * commander options, so the demo runs exactly what that command line runs), the machine the composition
 * root builds for them, and the run document `--json` would print.
 */
async function runSide(program: string, side: Side): Promise<{ side: DemoSide | null; problem: string | null }> {
  try {
    const cmd = addMachineOptions(new Command("run").exitOverride().configureOutput({ outputError: () => {} }));
    cmd.parse([...SETUP, "--kvm", side], { from: "user" });
    const cfg: RunConfig = {
      file: basename(program),
      load: DEFAULT_LOAD,
      memSize: DEFAULT_MEM,
      maxInsns: DEFAULT_MAX_INSNS,
      trace: false,
      events: false,
      jit: true,
      exits: false,
      json: true,
      exitStatus: "raw",
      traceIo: false,
      machine: await machineOptions(cmd.opts()),
    };
    // The machine `vpmu run` would build, with one more observer: the RDPMCs that run without an exit,
    // which the run document (exits only) cannot show.
    const m = createMachine(cfg.machine!);
    if (!m.ok) throw usageError(m.error);
    const native = new NativeRdpmcLog();
    m.value.layer.attach(native);
    const result = await runFile(cfg, m.value, dirname(program));
    const { vcpu, layer, checker } = m.value;
    const doc = runDocument(result, vcpu, layer, checker);
    return { side: { doc, native: native.reads, nativeCount: native.count }, problem: null };
  } catch (e) {
    // A problem with the program itself (it does not assemble, it cannot be read) is an input error,
    // exit 2 as for `vpmu run`; only a run that produced no document is the demo's own failure.
    if (e instanceof CliError && e.status === EXIT_USAGE) throw e;
    // The sentence `vpmu run` would have ended with (the last line of a multi-line failure).
    const said = describeFailure(e).message?.replace(/\n+$/, "").split("\n").pop();
    return { side: null, problem: said ?? "it produced no run document" };
  }
}

async function demo(programArg: string | undefined): Promise<number> {
  const program = programArg ?? `${PACKAGE_ROOT}${PROGRAM}`;
  const shown = programArg ?? PROGRAM;
  if (!existsSync(program)) throw usageError(`no such guest program: ${shown}`);
  const paint = painter(colourWanted(process.stdout));
  const runs = [await runSide(program, "v4"), await runSide(program, "fix")];
  const problems = runs
    .map((r, i) => (r.problem !== null ? `under --kvm ${SIDES[i]}: ${r.problem}` : null))
    .filter((p) => p !== null);
  if (problems.length) {
    throw new CliError(
      `the demo cannot run because \`vpmu run --json\` did not produce its run document (${problems.join("; ")})`,
      EXIT_FAILURE,
    );
  }
  const [v4, fix] = runs.map((r) => r.side!) as [DemoSide, DemoSide];
  const r = demoReport({ hostValue: H, program: shown, setup: SETUP }, v4, fix, paint);
  process.stdout.write(r.text);
  return r.ok ? 0 : EXIT_FAILURE;
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
