// `vpmu test [paths…]`: run golden programs in parallel (child processes of this CLI's `run`),
// compare each with its `.out`, print kvm-unit-tests-style result lines, diffs and a final count.
import { spawn } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { availableParallelism } from "node:os";
import { basename, dirname, join, relative, resolve } from "node:path";
import type { Command } from "commander";
import * as golden from "../../golden/index.js";
import { colourWanted, painter, ProgressLine } from "../colour.js";
import { EXIT_FAILURE, usageError } from "../errors.js";
import { readText, writeText } from "../files.js";
import { addExamples } from "../help.js";
import { choiceOption, countOption } from "../options.js";
import { EXIT_STATUS_MAPPINGS } from "../../vmm/devices/debug-exit.js";
import { MAIN_JS } from "../paths.js";

type RunOutcome = golden.RunOutcome;
type GoldenResult = golden.GoldenResult;

// Golden comparison is byte-exact: program output and golden files are handled as latin1 strings (one
// char per byte), and everything printed goes out through latin1 again, so the bytes a guest wrote
// reach the terminal unchanged. Text that starts as Unicode (paths) is moved into that byte domain.
const BYTES: BufferEncoding = "latin1";
const asBytes = (s: string): string => Buffer.from(s, "utf8").toString(BYTES);
const print = (s: string): void => {
  process.stdout.write(Buffer.from(s, BYTES));
};

interface TestOptions {
  update?: boolean;
  reporter: golden.ReporterName;
  jobs?: number;
  timeout: number;
  /** --no-jit: every run interprets (vpmu run --no-jit); the golden files must still match. */
  jit?: boolean;
  /** --exit-status: the debug-exit mapping for programs whose header does not name one. */
  exitStatus?: string;
}

/** Every program file under the given paths, sorted, as paths relative to the cwd when possible. */
function discover(paths: string[]): string[] {
  const found = new Set<string>();
  const walk = (dir: string) => {
    const entries = readdirSync(dir, { withFileTypes: true }).sort((a, b) =>
      a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
    );
    for (const e of entries) {
      if (e.name.startsWith(".")) continue;
      const p = join(dir, e.name);
      if (e.isDirectory()) {
        if (e.name !== "lib" && e.name !== "src" && e.name !== "node_modules") walk(p);
      } else if (golden.isProgramFile(e.name)) {
        found.add(p);
      }
    }
  };
  for (const p of paths) {
    if (!existsSync(p)) throw usageError(`no such file or directory: ${p}`);
    const st = statSync(p);
    if (st.isDirectory()) walk(p);
    else if (golden.isProgramFile(p)) found.add(p);
    else throw usageError(`${p} is not a guest program (expected a ${golden.PROGRAM_EXTENSIONS.join(", ")} file)`);
  }
  const list = [...found].map((p) => {
    const rel = relative(process.cwd(), resolve(p));
    return rel.startsWith("..") ? resolve(p) : rel;
  });
  return list.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** The most stdout (and stderr) of one program `vpmu test` keeps: a golden output is compared whole. */
const MAX_OUTPUT = 16 << 20;

/** Run `vpmu run <args> <file>` in the program's directory, so output never depends on the caller's cwd. */
function runProgram(file: string, args: string[], timeoutSeconds: number): Promise<RunOutcome> {
  return new Promise((resolvePromise) => {
    const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: "1" };
    delete env.FORCE_COLOR;
    // As dist/cli/main.js's shell line does for `vpmu` itself (scripts/post-build.mjs): Node 20 reads this
    // certificate file at every start, and no vpmu run opens a TLS connection.
    delete env.NODE_EXTRA_CA_CERTS;
    const child = spawn(process.execPath, [MAIN_JS, "run", ...args, basename(file)], {
      cwd: dirname(resolve(file)),
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, timeoutSeconds * 1000);
    // A golden output is compared whole, so it is collected; past MAX_OUTPUT the run is stopped and fails.
    let outBytes = 0;
    let errBytes = 0;
    let tooLarge = false;
    child.stdout.on("data", (b: Buffer) => {
      outBytes += b.length;
      if (outBytes <= MAX_OUTPUT) out.push(b);
      else if (!tooLarge) {
        tooLarge = true;
        child.kill("SIGKILL");
      }
    });
    child.stderr.on("data", (b: Buffer) => {
      errBytes += b.length;
      if (errBytes <= MAX_OUTPUT) err.push(b);
    });
    child.on("error", (e) => {
      clearTimeout(timer);
      resolvePromise({ kind: "error", message: `could not start vpmu run: ${e.message}` });
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      const stdout = Buffer.concat(out).toString(BYTES);
      const stderr = Buffer.concat(err).toString(BYTES);
      if (tooLarge)
        resolvePromise({
          kind: "error",
          message: `vpmu run wrote more than ${MAX_OUTPUT / (1 << 20)} MiB to stdout, the most a golden output may hold: stopped`,
        });
      else if (timedOut) resolvePromise({ kind: "timeout", seconds: timeoutSeconds, stdout, stderr });
      else if (code === null) resolvePromise({ kind: "signal", signal: signal ?? "unknown signal", stdout, stderr });
      else resolvePromise({ kind: "ran", stdout, stderr, status: code });
    });
  });
}

async function testOne(file: string, timeout: number, extra: string[]): Promise<GoldenResult> {
  const goldenFile = golden.goldenPathFor(file);
  const shown = { name: asBytes(golden.programName(file)), program: asBytes(file), golden: asBytes(goldenFile) };
  const source = readText(file, "program");
  const header = golden.parseHeader(source, file);
  const expected = existsSync(goldenFile) ? readText(goldenFile, "golden file", BYTES) : null;
  if (!header.ok) {
    return golden.judge({ ...shown, args: [], expected, outcome: { kind: "error", message: asBytes(header.error) } });
  }
  // A header's own --exit-status wins: the program's golden status was recorded under it.
  const own = header.value.args.some((a) => a === "--exit-status" || a.startsWith("--exit-status="));
  const pass = own ? extra.filter((a, i) => a !== "--exit-status" && extra[i - 1] !== "--exit-status") : extra;
  const outcome = await runProgram(file, [...header.value.args, ...pass], timeout);
  return golden.judge({ ...shown, args: header.value.args.map(asBytes), expected, outcome });
}

async function runAll(paths: string[], opts: TestOptions): Promise<number> {
  if (paths.length === 0 && !existsSync("programs")) {
    throw usageError(
      "no programs/ directory here: run vpmu test from the repository root, or name the programs or directories to test",
    );
  }
  const files = discover(paths.length ? paths : ["programs"]);
  if (files.length === 0)
    throw usageError(
      `no guest programs (${golden.PROGRAM_EXTENSIONS.join(", ")}) under ${paths.join(", ") || "programs"}`,
    );
  const jobs = Math.max(1, Math.min(opts.jobs ?? availableParallelism(), files.length));
  const paint = painter(opts.reporter === "line" && colourWanted(process.stdout));
  const progress = new ProgressLine(process.stderr);
  const results: (GoldenResult | undefined)[] = new Array(files.length);
  const updated = new Set<string>();
  let next = 0;
  let printed = 0;
  let finished = 0;
  const running = new Set<string>();

  const flush = () => {
    // Results print in program order as soon as every earlier one is in: deterministic output.
    while (printed < files.length && results[printed] !== undefined) {
      const r = results[printed]!;
      if (opts.update && r.needsUpdate && r.actual !== null) {
        writeText(golden.goldenPathFor(files[printed]!), r.actual, "golden file", BYTES);
        updated.add(r.program);
      }
      if (opts.reporter === "line") {
        progress.done();
        const wasUpdated = updated.has(r.program);
        print(golden.resultLine(r, paint, wasUpdated) + "\n");
        // An update shows the run's stderr, so a crash is never accepted as a golden file unseen.
        if (wasUpdated) print(golden.stderrBlock(r));
        else if (r.verdict === "FAIL") print(golden.failureDetails(r, paint));
      }
      printed++;
    }
  };

  const worker = async () => {
    while (next < files.length) {
      const i = next++;
      const file = files[i]!;
      running.add(file);
      progress.update(`[${finished}/${files.length}] ${[...running].map(golden.programName).join(", ")}`);
      const extra = [
        ...(opts.jit === false ? ["--no-jit"] : []),
        ...(opts.exitStatus ? ["--exit-status", opts.exitStatus] : []),
      ];
      results[i] = await testOne(file, opts.timeout, extra);
      running.delete(file);
      finished++;
      flush();
      if (running.size)
        progress.update(`[${finished}/${files.length}] ${[...running].map(golden.programName).join(", ")}`);
    }
  };
  await Promise.all(Array.from({ length: jobs }, worker));
  progress.done();

  const all = results as GoldenResult[];
  const t = golden.totals(all, updated);
  if (opts.reporter === "line") print(golden.totalsLine(t) + "\n");
  else if (opts.reporter === "tap") print(golden.tapReport(all, updated));
  else print(golden.jsonReport(all, updated));
  return t.failed > 0 ? EXIT_FAILURE : 0;
}

export function register(program: Command): void {
  const cmd = program
    .command("test")
    .description("run golden guest programs and compare each with the .out file beside it")
    .argument("[paths...]", "program files or directories to search (default: programs)")
    .option("--update", "rewrite the golden .out files whose output differs (and say which)")
    .option(
      "--reporter <name>",
      `output format: ${golden.REPORTERS.join(", ")}`,
      choiceOption("--reporter", golden.REPORTERS),
      "line",
    )
    .option("--json", "same as --reporter json (as with vpmu run --json and vpmu explain --json)")
    .option(
      "-j, --jobs <n>",
      "programs run at once (default: the machine's available parallelism)",
      countOption("--jobs", 1, 1024),
    )
    .option("--timeout <seconds>", "fail a program that runs longer than this", countOption("--timeout", 1, 86400), 120)
    .option(
      "--no-jit",
      "run every program with vpmu run --no-jit (the interpreter alone): the same golden files must match",
    )
    .option(
      "--exit-status <mapping>",
      "isa-debug-exit status mapping for programs whose '; vpmu:' header names none: raw (v) or qemu ((v << 1) | 1)",
      choiceOption("--exit-status", EXIT_STATUS_MAPPINGS),
    )
    .action(async (paths: string[], opts: TestOptions & { json?: boolean }) => {
      if (opts.json) opts.reporter = "json";
      const status = await runAll(paths, opts);
      if (status !== 0) process.exitCode = status;
    });
  addExamples(cmd, [
    ["vpmu test", "run every program under programs/"],
    ["vpmu test programs/pmu programs/cpu/hello.s", "run some of them"],
    ["vpmu test --update programs/cpu/hello.s", "accept the current output as the new golden file"],
    ["vpmu test --reporter tap", "TAP 13 for CI"],
    ["vpmu test --no-jit", "the same programs through the interpreter alone: checks the block compiler"],
  ]);
}
