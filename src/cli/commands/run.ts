// `vpmu run prog.s|prog.bin`: options → a run config → the library (assemble, Guest) → print.
// The guest console goes to stdout, how the run ended (when not a normal exit/halt) to stderr, and the
// exit status is the guest's (docs/guest-abi.md). Later options (--host, --pmu, --kvm, --exits, --json)
// extend RunConfig and guestConfig() below.
import { dirname, resolve } from "node:path";
import { existsSync, readFileSync } from "node:fs";
import type { Command } from "commander";
import {
  assemble,
  formatDiagnostic,
  Guest,
  Tracer,
  EXIT_LEAK,
  DEFAULT_LOAD,
  DEFAULT_MAX_INSNS,
  DEFAULT_MEM,
  type GuestConfig,
  type RunResult,
  type TraceSymbol,
} from "../../index.js";
import { CliError, EXIT_USAGE, usageError } from "../errors.js";
import { readBytes, readText } from "../files.js";
import { addExamples } from "../help.js";
import { ProgressLine } from "../colour.js";
import { addMachineOptions, machineOptions, MACHINE_OPTION_KEYS } from "../machine-options.js";
import {
  createMachine,
  formatLeak,
  formatRunTrace,
  runDocument,
  vcpuGuestConfig,
  type Machine,
  type MachineOptions,
} from "../../index.js";

/** Everything `vpmu run` needs, after option parsing. */
export interface RunConfig {
  file: string;
  load: number;
  memSize: number;
  maxInsns: number;
  trace: boolean;
  /** --events: print the GuestEvents totals after the run. */
  events: boolean;
  /** --no-jit: interpret every instruction (GuestConfig.jit). */
  jit: boolean;
  /** KVM/vPMU/VMX machine (any of --host, --pmu, --kvm, the guest model, --host-msr, --exits, --json);
   *  null = the bare platform. */
  machine: MachineOptions | null;
  exits: boolean;
  json: boolean;
}

/** The GuestEvents totals as `vpmu run --events` prints them (stderr, after the run). */
export function formatEvents(e: RunResult["events"]): string {
  const rows: [string, number][] = [
    ["instructions", e.instructions],
    ["branches", e.branches],
    ["branch-mispredicts", e.branchMispredicts],
    ["cycles", e.cycles],
    ["mem-stall-cycles", e.memStallCycles],
    ["mispredict-cycles", e.mispredictCycles],
    ["llc-references", e.llcReferences],
    ["llc-misses", e.llcMisses],
    ["halted-cycles", e.haltedCycles],
  ];
  return rows.map(([k, v]) => `${k.padEnd(19)} ${v}`).join("\n") + "\n";
}

/** A size: decimal or 0x-hex bytes, or with a K/M/G suffix (binary units). */
export function parseSize(option: string, text: string): number {
  const m = /^(0x[0-9a-f]+|\d+)([kmg]?)(i?b)?$/i.exec(text.trim());
  if (!m) throw usageError(`${option} ${text}: expected a size such as 16M, 65536 or 0x1000000`);
  const n = Number(m[1]) * (m[2] ? 1024 ** ("kmg".indexOf(m[2].toLowerCase()) + 1) : 1);
  if (!Number.isSafeInteger(n)) throw usageError(`${option} ${text}: too large`);
  return n;
}

function parseAddress(option: string, text: string): number {
  const t = text.trim().replace(/_/g, "");
  const n = /^0x[0-9a-f]+$/i.test(t) ? parseInt(t.slice(2), 16) : /^\d+$/.test(t) ? Number(t) : NaN;
  if (!Number.isSafeInteger(n)) throw usageError(`${option} ${text}: expected an address such as 0x100000`);
  return n;
}

/** The library-side configuration of the guest (the bare platform until KVM options are given). */
export function guestConfig(c: RunConfig): GuestConfig {
  return { memSize: c.memSize, maxInsns: c.maxInsns, jit: c.jit };
}

/** Assemble a source file (includes resolved relative to the including file) or read a flat binary. */
export function loadImage(file: string, load: number): { bytes: Uint8Array; origin: number; symbols: TraceSymbol[] } {
  if (/\.(bin|img)$/i.test(file)) return { bytes: readBytes(file, "guest image"), origin: load, symbols: [] };
  const text = readText(file, "guest source");
  const res = assemble(text, {
    file,
    include: (name, from) => {
      const p = resolve(dirname(from), name);
      return existsSync(p) ? { file: p, text: readFileSync(p, "utf8") } : null;
    },
  });
  if (!res.ok) {
    const lines = new Map<string, string[]>();
    const msgs = res.error.map((d) => {
      if (!lines.has(d.file)) {
        try {
          lines.set(d.file, readFileSync(d.file, "utf8").split("\n"));
        } catch {
          lines.set(d.file, []);
        }
      }
      return formatDiagnostic(d, lines.get(d.file)!);
    });
    throw new CliError(`${msgs.join("\n")}\n${file}: assembly failed`, EXIT_USAGE);
  }
  const r = res.value;
  const symbols = r.symbols.filter((s) => s.kind === "label").map((s) => ({ name: s.name, value: Number(s.value) }));
  return { bytes: r.bytes, origin: r.origin, symbols };
}

export function register(program: Command): void {
  const cmd = program
    .command("run")
    .description("assemble (.s) or load (.bin) a guest image and run it; the guest console is stdout")
    .argument("<file>", "guest program: NASM-syntax source, or a flat binary (.bin)")
    .option("--load <addr>", "load address of a .bin image (sources load at their org)", "0x100000")
    .option("--mem <size>", "guest RAM size (e.g. 16M)", "16M")
    .option("--max-insns <n>", "stop after this many retired instructions", String(DEFAULT_MAX_INSNS))
    .option(
      "--trace",
      "print one line per instruction on stderr (address, symbol, bytes, disassembly, registers changed)",
    )
    .option("--events", "print the micro-architectural event totals on stderr after the run (docs/cpu.md)")
    .option(
      "--no-jit",
      "interpret every instruction instead of compiling hot blocks: slower, same results (for checking the block compiler)",
    );
  addMachineOptions(cmd)
    .option(
      "--exits",
      "after the console, one line per VM exit (kvm_exit style), the context switches and any leaks (host->guest, guest->host)",
    )
    .option("--json", "print one JSON document: console, exit status, exits, final counters, leaks")
    .action(async (file: string, o: Record<string, string | boolean | undefined>) => {
      const max = Number(String(o.maxInsns).replace(/_/g, ""));
      if (!Number.isSafeInteger(max) || max < 1)
        throw usageError(`--max-insns ${o.maxInsns}: expected a positive integer`);
      const cfg: RunConfig = {
        file,
        load: parseAddress("--load", String(o.load ?? DEFAULT_LOAD)),
        memSize: parseSize("--mem", String(o.mem ?? DEFAULT_MEM)),
        maxInsns: max,
        trace: o.trace === true,
        events: o.events === true,
        jit: o.jit !== false,
        exits: o.exits === true,
        json: o.json === true,
        machine:
          o.exits === true || o.json === true || o.pdcm === false || MACHINE_OPTION_KEYS.some((k) => o[k] !== undefined)
            ? machineOptions(o)
            : null,
      };
      const { result, machine } = await runMachine(cfg);
      if (cfg.json && machine) {
        process.stdout.write(
          JSON.stringify(runDocument(result, machine.vcpu, machine.layer, machine.checker), null, 2) + "\n",
        );
      } else {
        process.stdout.write(Buffer.from(result.console, "latin1"));
        if (cfg.exits && machine) process.stdout.write(formatRunTrace(machine.vcpu, machine.layer, machine.checker));
        else if (machine) for (const l of machine.checker.leaks) process.stderr.write(`vpmu: ${formatLeak(l)}\n`);
      }
      if (result.stop !== "exit" && result.stop !== "halted") process.stderr.write(`vpmu: ${result.report}\n`);
      if (cfg.events) process.stderr.write(formatEvents(result.events));
      // A leak is what the tool exists to find: it decides the exit status whatever the guest said.
      const leaks = machine?.checker.leaks.length ?? 0;
      if (leaks > 0)
        process.stderr.write(
          `vpmu: ${leaks} ${leaks === 1 ? "leak" : "leaks"} between host and guest: exit status ${EXIT_LEAK} (the guest's own status was ${result.status})\n`,
        );
      process.exitCode = leaks > 0 ? EXIT_LEAK : result.status;
    });
  addExamples(cmd, [
    ["vpmu run programs/cpu/hello.s", "assemble and run; exit status = the guest's port 0xF4 value"],
    ["vpmu run --trace prog.s", "one line per instruction on stderr"],
    ["vpmu run --load 0x200000 --mem 64M prog.bin", "a flat binary at another address, more RAM"],
  ]);
}

/** runFile on the KVM machine the options describe (or the bare platform), returning the machine too. */
export async function runMachine(cfg: RunConfig): Promise<{ result: RunResult; machine: Machine | null }> {
  if (cfg.machine === null) return { result: await runFile(cfg), machine: null };
  const m = createMachine(cfg.machine);
  if (!m.ok) throw usageError(m.error);
  const result = await runFile(cfg, { ...guestConfig(cfg), ...vcpuGuestConfig(m.machine.vcpu) });
  return { result, machine: m.machine };
}

/** Load, run in chunks (so Ctrl-C is noticed between them), and return the result. */
export async function runFile(cfg: RunConfig, config: GuestConfig = guestConfig(cfg)): Promise<RunResult> {
  const img = loadImage(cfg.file, cfg.load);
  const g = Guest.create(img.bytes, img.origin, config);
  if ("error" in g) throw usageError(`${cfg.file}: ${g.error}`);
  let interrupted = false;
  const onInt = () => {
    interrupted = true;
  };
  process.on("SIGINT", onInt);
  const progress = new ProgressLine(process.stderr);
  try {
    if (cfg.trace) {
      const t = new Tracer(g, img.symbols);
      let out = "";
      for (let i = 0; ; i++) {
        const s = t.step();
        out += s.line + "\n";
        if (out.length > 1 << 16) {
          process.stderr.write(out);
          out = "";
        }
        if (s.result) {
          process.stderr.write(out);
          return s.result;
        }
        if ((i & 0xffff) === 0xffff) {
          process.stderr.write(out);
          out = "";
          await new Promise((r) => setImmediate(r));
          if (interrupted) return g.interrupt();
        }
      }
    }
    // A progress line for long runs, on a terminal only (src/cli/colour.ts ProgressLine), erased at the end.
    const started = Date.now();
    for (;;) {
      const r = g.runChunk(20_000_000);
      if (r) return r;
      if (Date.now() - started > 1000)
        progress.update(
          `vpmu run ${cfg.file}: ${g.cpu.events.instructions.toLocaleString("en-US")} instructions retired (Ctrl-C stops)`,
        );
      await new Promise((res) => setImmediate(res));
      if (interrupted) return g.interrupt();
    }
  } finally {
    progress.done();
    process.off("SIGINT", onInt);
  }
}
