// `vpmu sweep [programs…]`: run the isolation checker over a matrix of configurations (or random probes
// with --fuzz) on worker threads, and print the findings grouped into the conditions that explain them.
// Library: sweep.* in src/sweep (matrix, probes, runs, grouping); this file does files, threads, output.
import { existsSync, readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { dirname, resolve } from "node:path";
import { Worker } from "node:worker_threads";
import type { Command } from "commander";
import { assemble, formatDiagnostic } from "../../asm/index.js";
import { parsePolicyFile, type InterceptPolicy } from "../../machine/index.js";
import * as sweep from "../../sweep/index.js";
import { ProgressLine } from "../colour.js";
import { CliError, EXIT_FAILURE, EXIT_INTERNAL, usageError } from "../errors.js";
import { readBytes, readText } from "../files.js";
import { addExamples } from "../help.js";
import { countOption } from "../options.js";
import { SWEEP_WORKER_URL } from "../paths.js";

interface SweepOptions {
  matrix?: string;
  hosts?: string[];
  pmu?: string[];
  kvm?: string[];
  versions?: string[];
  gp?: string[];
  gpWidth?: string[];
  fixed?: string[];
  fixedWidth?: string[];
  caps?: string[];
  activity?: string[];
  vmwareBackdoor?: string[];
  probes: boolean;
  fuzz?: boolean;
  seed: number;
  runs: number;
  fuzzPrograms: number;
  shard?: string;
  jobs?: number;
  json?: boolean;
  invariants?: boolean;
  merge?: boolean;
  maxInsns: number;
}

const list = (text: string): string[] =>
  text
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s.length > 0);

/** Policy files named on the kvm axis (entries ending in .json), read and parsed; the axis keeps names. */
function loadPolicies(
  entries: readonly string[],
  base: string,
): { names: string[]; files: { file: string; text: string; policy: InterceptPolicy }[] } {
  const names: string[] = [];
  const files: { file: string; text: string; policy: InterceptPolicy }[] = [];
  for (const e of entries) {
    if (!e.endsWith(".json")) {
      names.push(e);
      continue;
    }
    const path = resolve(base, e);
    const text = readText(path, "policy file");
    const p = parsePolicyFile(e, text);
    if (!p.ok) throw usageError(p.error);
    if (!files.some((f) => f.policy.id === p.policy.id)) files.push({ file: e, text, policy: p.policy });
    names.push(p.policy.id);
  }
  return { names, files };
}

/** The matrix from --matrix and the axis options (options win over the file). */
function buildMatrix(o: SweepOptions): {
  matrix: sweep.SweepMatrix;
  policies: { file: string; text: string; policy: InterceptPolicy }[];
} {
  let base = sweep.DEFAULT_MATRIX;
  const policies: { file: string; text: string; policy: InterceptPolicy }[] = [];
  const addPolicies = (ps: typeof policies) => {
    for (const p of ps) if (!policies.some((q) => q.policy.id === p.policy.id)) policies.push(p);
  };
  if (o.matrix !== undefined) {
    const text = readText(o.matrix, "matrix file");
    let doc: Record<string, unknown>;
    try {
      doc = JSON.parse(text) as Record<string, unknown>;
    } catch (e) {
      throw usageError(`${o.matrix}: not valid JSON (${(e as Error).message})`);
    }
    if (
      typeof doc === "object" &&
      doc !== null &&
      Array.isArray(doc.kvm) &&
      doc.kvm.every((k) => typeof k === "string")
    ) {
      const lp = loadPolicies(doc.kvm as string[], dirname(resolve(o.matrix)));
      addPolicies(lp.files);
      doc = { ...doc, kvm: lp.names };
    }
    const m = sweep.withAxes(
      base,
      doc,
      policies.map((p) => p.policy.id),
      `${o.matrix}: `,
    );
    if (!m.ok) throw usageError(m.error);
    base = m.matrix;
  }
  const axes: Record<string, unknown> = {};
  if (o.hosts) axes.hosts = o.hosts;
  if (o.pmu) axes.pmu = o.pmu;
  if (o.kvm) {
    const lp = loadPolicies(o.kvm, process.cwd());
    addPolicies(lp.files);
    axes.kvm = lp.names;
  }
  if (o.versions) axes.versions = o.versions.map((v) => (/^[0-9]+$/.test(v) ? Number(v) : v));
  if (o.gp) axes.gp = o.gp;
  if (o.gpWidth) axes.gpWidth = o.gpWidth;
  if (o.fixed) axes.fixed = o.fixed;
  if (o.fixedWidth) axes.fixedWidth = o.fixedWidth;
  if (o.caps) axes.caps = o.caps;
  if (o.activity) axes.activity = o.activity;
  if (o.vmwareBackdoor)
    axes.vmwareBackdoor = o.vmwareBackdoor.map((v) =>
      v === "on" || v === "true" ? true : v === "off" || v === "false" ? false : v,
    );
  const m = sweep.withAxes(
    base,
    axes,
    policies.map((p) => p.policy.id),
    "option --",
  );
  if (!m.ok)
    throw usageError(
      m.error.replace(
        /^option --(\w+)/,
        (_, k: string) => `option --${k.replace(/[A-Z]/g, (c) => "-" + c.toLowerCase())}`,
      ),
    );
  // Values that mean nothing on some host of the matrix (host-99, a 0-bit counter), or pmu and kvm axes
  // that pair into no kernel: refused, naming the option (or the matrix file the axis came from).
  const problem = sweep.matrixProblem(m.matrix);
  if (problem !== null) {
    const flag = `--${problem.axis.replace(/[A-Z]/g, (c) => "-" + c.toLowerCase())}`;
    const from = problem.axis in axes || o.matrix === undefined ? `option ${flag}` : `${o.matrix}: ${problem.axis}`;
    throw usageError(problem.axis === "kvm" ? problem.error : `${from}: ${problem.error}`);
  }
  return { matrix: m.matrix, policies };
}

/** A user's program: assembled here (includes relative to the including file) or read as a flat binary. */
function loadProgram(file: string, maxInsns: number): sweep.ProgramSpec {
  if (/\.(bin|img)$/i.test(file))
    return {
      kind: "user",
      name: file,
      bytes: readBytes(file, "guest image"),
      origin: 0x100000,
      memSize: 16 << 20,
      maxInsns,
    };
  const text = readText(file, "guest source");
  const r = assemble(text, {
    file,
    include: (name, from) => {
      const p = resolve(dirname(from), name);
      return existsSync(p) ? { file: p, text: readFileSync(p, "utf8") } : null;
    },
  });
  if (!r.ok) throw new CliError(`${r.error.map((d) => formatDiagnostic(d)).join("\n")}\n${file}: assembly failed`);
  return { kind: "user", name: file, bytes: r.value.bytes, origin: r.value.origin, memSize: 16 << 20, maxInsns };
}

/** Jobs per message to a worker thread: small enough to balance the threads at the end, large enough
 *  that messages cost little. */
const CHUNK = 48;

/** Run jobs on `threads` worker threads (in-process when 1); records come back in job order. */
async function runParallel(
  jobs: sweep.Job[],
  specs: sweep.ProgramSpec[],
  policies: { file: string; text: string; policy: InterceptPolicy }[],
  threads: number,
  progress: ProgressLine,
  opts: sweep.RunOptions,
): Promise<sweep.RunRecord[]> {
  const total = jobs.length;
  const show = (done: number) => progress.update(`vpmu sweep: ${done}/${total} runs`);
  if (threads <= 1 || total < 64) {
    const table = new Map(policies.map((p) => [p.policy.id, p.policy] as const));
    return sweep.runJobs(
      jobs,
      new sweep.ProgramLoader(specs),
      table,
      (d) => {
        if (d % 50 === 0) show(d);
      },
      opts,
    );
  }
  const workers = Array.from(
    { length: Math.min(threads, Math.ceil(total / CHUNK)) },
    () => new Worker(SWEEP_WORKER_URL),
  );
  // sweep.ChunkPlan deals the chunks: each thread starts on chunks of the programs it assembles, and the
  // images it reports with each chunk go on to the others, so nothing waits and nothing is assembled twice.
  const plan = new sweep.ChunkPlan(jobs, new sweep.ProgramLoader(specs), workers.length, CHUNK);
  const results: sweep.RunRecord[][] = new Array(plan.chunks.length);
  let done = 0;
  try {
    await Promise.all(
      workers.map(
        (w, wi) =>
          new Promise<void>((resolveAll, rejectAll) => {
            w.postMessage({
              type: "init",
              specs,
              policies: policies.map((p) => ({ file: p.file, text: p.text })),
              opts,
            });
            const send = () => {
              const id = plan.next(wi);
              if (id < 0) return resolveAll();
              w.postMessage({ type: "jobs", id, jobs: plan.chunks[id] });
            };
            w.on(
              "message",
              (m: {
                id: number;
                records?: sweep.RunRecord[];
                error?: string;
                programs?: [string, sweep.LoadResult][];
              }) => {
                if (m.error !== undefined)
                  return rejectAll(
                    new CliError(`internal error in a sweep worker: ${m.error.split("\n")[0]}`, EXIT_INTERNAL),
                  );
                const made = m.programs!;
                if (made.length > 0) {
                  const keys = made.map(([k]) => k);
                  plan.hold(wi, keys);
                  workers.forEach((other, oi) => {
                    if (oi === wi) return;
                    other.postMessage({ type: "programs", entries: made });
                    plan.hold(oi, keys);
                  });
                }
                results[m.id] = m.records!;
                done += m.records!.length;
                show(done);
                send();
              },
            );
            w.on("error", (e) => rejectAll(e));
            send();
          }),
      ),
    );
  } finally {
    // The report does not wait for the threads to wind down (the process exits once they have).
    for (const w of workers) void w.terminate();
  }
  return results.flat();
}

export function register(program: Command): void {
  const cmd = program
    .command("sweep")
    .description(
      "run probe programs over a matrix of configurations and report every host↔guest leak, grouped into the conditions that explain it",
    )
    .argument("[programs...]", "guest programs (.s or .bin) to run beside the built-in probes")
    .option(
      "--matrix <file>",
      "JSON matrix: any of hosts, pmu, kvm, versions, gp, gpWidth, fixed, fixedWidth, caps, activity, vmwareBackdoor",
    )
    .option("--hosts <list>", "host presets, comma-separated (default skx,icx,spr,gnr)", list)
    .option("--pmu <list>", "PMU modes: legacy, mediated, off (default legacy,mediated)", list)
    .option(
      "--kvm <list>",
      "code states (legacy, base, v4, fix) and/or policy files (.json) (default legacy,base,v4,fix)",
      list,
    )
    .option("--versions <list>", "guest PMU versions (default 1,2)", list)
    .option("--gp <list>", 'guest GP counter counts: numbers, "host", "host-N" (default host,host-1)', list)
    .option("--gp-width <list>", "guest GP widths (default host,40)", list)
    .option("--fixed <list>", "guest fixed counter counts (default 3,4)", list)
    .option("--fixed-width <list>", "guest fixed widths (default host,40)", list)
    .option(
      "--caps <list>",
      "guest PERF_CAPABILITIES: nopdcm, fw, metrics, fw+metrics or hex (default nopdcm,fw,fw+metrics)",
      list,
    )
    .option("--activity <list>", "host perf activities: idle, topdown, counting (default topdown,counting,idle)", list)
    .option("--vmware-backdoor <list>", "enable_vmware_backdoor: off, on (default off)", list)
    .option("--no-probes", "run only the programs given, not the built-in probes")
    .option("--fuzz", "random-probe mode: random programs on randomly chosen configurations of the matrix")
    .option("--seed <n>", "random-probe seed", countOption("--seed", 0, 0xffffffff), 1)
    .option("--runs <n>", "random-probe runs", countOption("--runs", 1, 10_000_000), sweep.FUZZ_DEFAULT_RUNS)
    .option(
      "--fuzz-programs <n>",
      "distinct random programs the runs cycle through",
      countOption("--fuzz-programs", 1, 100_000),
      sweep.FUZZ_DEFAULT_PROGRAMS,
    )
    .option("--shard <i/n>", "run only shard i of n (1-based) so several machines share the sweep")
    .option(
      "--max-insns <n>",
      "instruction limit of each run of your programs; one that reaches it did not complete (the built-in probes stop at 1,000,000)",
      countOption("--max-insns", 1, Number.MAX_SAFE_INTEGER),
      sweep.USER_MAX_INSNS,
    )
    .option("--jobs <n>", "worker threads (default: all cores)", countOption("--jobs", 1, 256))
    .option(
      "--invariants",
      "also check the isolation invariants I-1..I-4 (model.md §12.3) at every load, entry and put",
    )
    .option("--merge", "the arguments are --json reports of shards: print the report of their union")
    .option("--json", "print the report as JSON (with the run records, so shard reports can be merged)");
  addExamples(cmd, [
    ["vpmu sweep", "the default matrix with the built-in probes: finds the V4 PERF_METRICS leak region"],
    ["vpmu sweep --kvm v4,fix --hosts spr --pmu mediated", "a slice of the matrix"],
    ["vpmu sweep --kvm rdpmc-always.json --pmu mediated", "your own intercept policy"],
    ["vpmu sweep --fuzz --seed 7", "random probes, no hints"],
    ["vpmu sweep --shard 2/4 --json > part2.json", "one of four CI jobs"],
    ["vpmu sweep --merge part1.json part2.json part3.json part4.json", "the four jobs' reports as one"],
    [
      "vpmu sweep --no-probes prog.s --kvm v4",
      "your own guest program over the matrix (10,000,000 instructions a run)",
    ],
    ["vpmu sweep --no-probes --max-insns 100000000 prog.s", "more room for a long program"],
  ]);
  cmd.action(async (files: string[], o: SweepOptions) => {
    refuseMeaningless(cmd, files, o);
    if (o.merge) {
      if (files.length === 0) throw usageError("--merge needs the --json reports to merge");
      const docs = files.map((f) => {
        const text = readText(f, "sweep report");
        try {
          return JSON.parse(text) as unknown;
        } catch (e) {
          throw usageError(`${f}: not valid JSON (${(e as Error).message})`);
        }
      });
      const m = sweep.mergeSweepDocuments(files, docs);
      if (!m.ok) throw usageError(m.error);
      printReport(m.input, o.json === true, new Map());
      return;
    }
    const { matrix, policies } = buildMatrix(o);
    let shard: sweep.Shard = { index: 1, count: 1 };
    if (o.shard !== undefined) {
      const s = sweep.parseShard(o.shard);
      if (!s.ok) throw usageError(`option --shard ${s.error}`);
      shard = s.shard;
    }
    const configs = sweep.expandMatrix(matrix);
    let specs: sweep.ProgramSpec[];
    let jobs: sweep.Job[];
    if (o.fuzz) {
      if (files.length > 0) throw usageError("--fuzz generates its own programs: give no program files with it");
      specs = Array.from({ length: o.fuzzPrograms }, (_, index) => ({ kind: "fuzz" as const, seed: o.seed, index }));
      jobs = sweep.fuzzJobs(configs, o.seed, o.runs, specs.length);
    } else {
      specs = [
        ...(o.probes ? sweep.PROBE_KINDS.map((probe) => ({ kind: "probe" as const, probe })) : []),
        ...files.map((f) => loadProgram(f, o.maxInsns)),
      ];
      if (specs.length === 0) throw usageError("--no-probes needs at least one program file");
      jobs = sweep.matrixJobs(configs, specs.length);
    }
    jobs = sweep.shardJobs(jobs, shard);
    const progress = new ProgressLine();
    const threads = o.jobs ?? availableParallelism();
    const records = await runParallel(jobs, specs, policies, threads, progress, { invariants: o.invariants === true });
    progress.done();
    const input: sweep.SummariseInput = {
      mode: o.fuzz ? "fuzz" : "matrix",
      seed: o.fuzz ? o.seed : undefined,
      shard: `${shard.index}/${shard.count}`,
      configs: new Map(jobs.map((j) => [j.config.index, j.config] as const)),
      programs: specs.map(sweep.programName),
      records,
      ...(specs.some((p) => p.kind === "user") ? { maxInsns: o.maxInsns } : {}),
    };
    printReport(input, o.json === true, new Map(policies.map((p) => [p.policy.id, p.file] as const)));
  });
}

/** Options that `cmd` was given (on the command line or in a config file), not left at their default. */
function given(cmd: Command, ...attrs: string[]): string[] {
  return attrs.filter((a) => {
    const src = cmd.getOptionValueSource(a);
    return src !== undefined && src !== "default";
  });
}

const flagOf = (attr: string) => `--${attr.replace(/[A-Z]/g, (c) => "-" + c.toLowerCase())}`;

/** Combinations whose options would be ignored are refused in one sentence, before anything runs. */
function refuseMeaningless(cmd: Command, files: readonly string[], o: SweepOptions): void {
  if (o.merge) {
    const ignored = given(cmd, ...RUN_ATTRS, "fuzz", "seed", "runs", "fuzzPrograms", "probes", "maxInsns");
    if (ignored.length > 0)
      throw usageError(
        `--merge re-reads finished reports and runs nothing, so ${ignored.map((a) => (a === "probes" ? "--no-probes" : flagOf(a))).join(", ")} would be ignored: give them to the sweeps that made the reports`,
      );
    return;
  }
  if (!o.fuzz) {
    const fuzzOnly = given(cmd, "seed", "runs", "fuzzPrograms");
    if (fuzzOnly.length > 0)
      throw usageError(
        `${fuzzOnly.map(flagOf).join(", ")} ${fuzzOnly.length === 1 ? "applies" : "apply"} only with --fuzz`,
      );
  } else if (given(cmd, "probes").length > 0)
    throw usageError("--fuzz runs random probes instead of the built-in ones, so --no-probes has nothing to turn off");
  if (given(cmd, "maxInsns").length > 0 && files.length === 0)
    throw usageError(
      "--max-insns limits your program files, and none were given (the built-in probes stop at 1,000,000 instructions)",
    );
}

/** The options that shape a sweep's runs (meaningless with --merge). */
const RUN_ATTRS: readonly string[] = ["matrix", ...sweep.MATRIX_AXES, "shard", "jobs", "invariants"];

/** Summarise, print (text or JSON with the mergeable records); exit 1 if anything was found or a run did
 *  not complete (what it did not run was not checked). */
function printReport(input: sweep.SummariseInput, json: boolean, paths: ReadonlyMap<string, string>): void {
  const report = sweep.summarise(input);
  process.stdout.write(
    json
      ? JSON.stringify({ ...sweep.reportJson(report, paths), ...sweep.mergeableJson(input) }) + "\n"
      : sweep.formatReport(report, paths),
  );
  if (report.groups.length > 0 || report.failed > 0) process.exitCode = EXIT_FAILURE;
}
