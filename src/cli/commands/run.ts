// `vpmu run prog.s|prog.bin`: options → a run config → the library (assemble, Guest) → print.
// The guest console goes to stdout, how the run ended (when not a normal exit/halt) to stderr, and the
// exit status is the guest's (docs/guest-abi.md). Later options (--host, --pmu, --kvm, --exits, --json)
// extend RunConfig and guestConfig() below.
import type { Command } from "commander";
import type { HostStep, Machine, MachineOptions } from "../../machine/index.js";
import {
  Guest,
  Tracer,
  EXIT_LEAK,
  DEFAULT_LOAD,
  DEFAULT_MAX_INSNS,
  DEFAULT_MEM,
  type GuestConfig,
  type RunResult,
  EXIT_STATUS_MAPPINGS,
  type ExitStatusMapping,
} from "../../vmm/index.js";
import { EXIT_FAILURE, usageError } from "../errors.js";
import { parseHostStep } from "../host-steps.js";
import { loadImage } from "../guest-image.js";
import { addExamples } from "../help.js";
import { ProgressLine } from "../colour.js";
import { ProgressText, RunOutput, stdoutFlushed } from "../run-output.js";
import { stdioUnused } from "../stdio.js";

/** Wall-clock length of a run chunk, and how long a run goes before it shows a progress line. */
const CHUNK_MS = 50;
const PROGRESS_AFTER_MS = 2000;
import { choiceOption, countOption, parseAddress, parseSize } from "../options.js";
import { addMachineOptions, addRunCheckOptions, machineOptions, MACHINE_OPTION_KEYS } from "../machine-options.js";

// The machine and the presentation load only when a run uses them: a bare `vpmu run prog.s` starts
// with the assembler and the VMM alone.
const machineArea = () => import("../../machine/index.js");
const reportArea = () => import("../../report/index.js");

/** What `--exits` prints after the console on the bare platform, which has no KVM and so no VM exits. */
export const BARE_EXITS =
  "--- platform: bare (no KVM): no VM exits to show; a machine option (--host, --pmu, --kvm, ...) selects the KVM model ---\n";

/** Everything `vpmu run` needs, after option parsing. */
export interface RunConfig {
  file: string;
  load: number;
  /** --mem; null: the image's default (DEFAULT_MEM for a flat image, KERNEL_DEFAULT_MEM for a kernel). */
  memSize: number | null;
  /** --append: a booted kernel's command line after its name (docs/loading.md). */
  append?: string;
  /** --initrd (repeatable): Multiboot modules 0, 1, … */
  initrd?: string[];
  maxInsns: number;
  trace: boolean;
  /** --events: print the GuestEvents totals after the run. */
  events: boolean;
  /** --no-jit: interpret every instruction (GuestConfig.jit). */
  jit: boolean;
  /** KVM/vPMU/VMX machine (any of --host, --pmu, --kvm, the guest model, --host-msr, …; never the
   *  reporting options --exits/--json); null = the bare platform. */
  machine: MachineOptions | null;
  exits: boolean;
  json: boolean;
  /** --exit-status: how a debug-exit value becomes the exit status (docs/devices.md). */
  exitStatus: ExitStatusMapping;
  /** --trace-io: list every port and MMIO access after the console. */
  traceIo: boolean;
  /** --step: what the VMM does between KVM_RUNs (src/machine/host-steps.ts). */
  steps?: HostStep[];
  /** --expect-exit patterns (src/report/exit-expect.ts). */
  expectExits?: string[];
}

/** The library-side configuration of the guest (the bare platform until KVM options are given). */
export function guestConfig(c: RunConfig): GuestConfig {
  return { memSize: c.memSize ?? DEFAULT_MEM, maxInsns: c.maxInsns, jit: c.jit, devices: { exitStatus: c.exitStatus } };
}

export function register(program: Command): void {
  const cmd = program
    .command("run")
    .description(
      "assemble (.s), build (.c) or load (.bin) a guest image, or boot a kernel (ELF or Multiboot), and run it; the guest console is stdout",
    )
    .argument(
      "<file>",
      "guest program: NASM-syntax source, C (.c: built with gcc, docs/c-guests.md), a flat binary (.bin), or a kernel: any ELF file or image with a Multiboot header (docs/loading.md)",
    )
    .option("--load <addr>", "load address of a .bin image (sources load at their org)", "0x100000")
    .option("--mem <size>", "guest RAM size (e.g. 16M; default 16M, or 128M for a booted kernel as in QEMU)")
    .option(
      "--append <args>",
      "a booted kernel's command line (Multiboot cmdline, after the file name as QEMU passes it)",
    )
    .option(
      "--initrd <file>",
      "a Multiboot module for a booted kernel (module 0: kvm-unit-tests reads its environment there); repeat for more",
      (v: string, prev: string[] | undefined) => [...(prev ?? []), v],
    )
    .option("--max-insns <n>", "stop after this many retired instructions", String(DEFAULT_MAX_INSNS))
    .option(
      "--trace",
      "print one line per instruction on stderr (address, symbol, bytes, disassembly, registers changed)",
    )
    .option("--events", "print the micro-architectural event totals on stderr after the run (docs/cpu.md)")
    .option(
      "--exit-status <mapping>",
      "how a value v written to isa-debug-exit (port 0xF4) becomes the exit status: raw (v) or qemu ((v << 1) | 1, as QEMU exits)",
      choiceOption("--exit-status", EXIT_STATUS_MAPPINGS),
      "raw",
    )
    .option(
      "--trace-io",
      "after the console, one line per port and MMIO access: direction, port/address, size, value, the register it reached",
    )
    .option(
      "--no-jit",
      "interpret every instruction instead of compiling hot blocks: slower, same results (for checking the block compiler)",
    );
  addRunCheckOptions(addMachineOptions(cmd))
    .option(
      "--exits",
      "after the console, one line per VM exit (kvm_exit style), the context switches and any leaks (host->guest, guest->host); reporting only: the machine options choose the platform",
    )
    .option(
      "--json",
      'print one JSON document: "platform" (bare or kvm), console, exit status; on KVM exits, final counters, leaks',
    )
    .action(async (file: string, o: Record<string, string | boolean | undefined>) => {
      const max = countOption("--max-insns", 1, Number.MAX_SAFE_INTEGER)(String(o.maxInsns));
      // --initrd collects its values into an array (the option's parser above).
      const initrd: unknown = (o as Record<string, unknown>).initrd;
      const memSize = o.mem === undefined ? null : parseSize("--mem", String(o.mem));
      // Checked here so the sentence names the option (the library's check names the guest image).
      if (memSize !== null && (memSize < 4096 || memSize > 2 ** 32 || memSize % 4096 !== 0))
        throw usageError(
          `option --mem: guest memory must be a multiple of 4096 bytes between 4 KiB and 4 GiB (got ${o.mem})`,
        );
      if (o.traceIo === true && o.json === true)
        throw usageError("--trace-io lists accesses as text after the console: it does not go with --json");
      const onKvm = o.pdcm === false || MACHINE_OPTION_KEYS.some((k) => o[k] !== undefined);
      // The bare platform has no VMX layer: nothing to check or trace there, so say so instead of doing nothing.
      for (const [key, flag] of [
        ["checkIsolation", "--check-isolation"],
        ["traceSwitch", "--trace-switch"],
        ["step", "--step"],
        ["expectExit", "--expect-exit"],
      ] as const)
        if (o[key] !== undefined && !onKvm)
          throw usageError(
            `${flag} watches the KVM model's entries and exits, and the bare platform has none: add a machine option (--host, --pmu, --kvm, ...)`,
          );
      const cfg: RunConfig = {
        file,
        load: parseAddress("--load", String(o.load ?? DEFAULT_LOAD)),
        memSize,
        ...(o.append === undefined ? {} : { append: String(o.append) }),
        ...(Array.isArray(initrd) ? { initrd: initrd.map(String) } : {}),
        maxInsns: max,
        trace: o.trace === true,
        events: o.events === true,
        jit: o.jit !== false,
        exits: o.exits === true,
        json: o.json === true,
        exitStatus: (o.exitStatus ?? "raw") as ExitStatusMapping,
        traceIo: o.traceIo === true,
        // The machine options alone choose the platform: --exits and --json only report on it.
        machine: onKvm ? await machineOptions(o) : null,
        steps: ((o as Record<string, unknown>).step as string[] | undefined)?.map(parseHostStep) ?? [],
        expectExits: ((o as Record<string, unknown>).expectExit as string[] | undefined) ?? [],
      };
      const report = onKvm || cfg.events || cfg.json ? await reportArea() : null;
      const out = new RunOutput(report, {
        exits: cfg.exits,
        json: cfg.json,
        traceIo: cfg.traceIo,
        expectExits: cfg.expectExits ?? [],
      });
      let ran: { result: RunResult; machine: Machine | null; stepErrors?: string[] };
      try {
        ran = await runMachine(cfg, ".", out);
      } catch (e) {
        out.close();
        throw e;
      }
      const { result, machine } = ran;
      await out.finishIoTrace();
      if (cfg.exits && machine === null && !cfg.json) process.stdout.write(BARE_EXITS);
      await out.finish(result, machine);
      await stdoutFlushed();
      if (result.stop !== "exit" && result.stop !== "halted")
        process.stderr.write(
          `vpmu: ${result.report}${result.stop === "insn-limit" ? " (--max-insns N raises the limit)" : ""}\n`,
        );
      const recent = out.recentExits(result, machine);
      if (recent !== "") process.stderr.write(recent);
      if (cfg.events && report) process.stderr.write(report.formatEvents(result.events));
      // A leak is what the tool exists to find: it decides the exit status whatever the guest said.
      const leaks = machine?.checker.leaks.length ?? 0;
      if (leaks > 0)
        process.stderr.write(
          `vpmu: ${leaks} ${leaks === 1 ? "leak" : "leaks"} between host and guest: exit status ${EXIT_LEAK} (the guest's own status was ${result.status})\n`,
        );
      // --expect-exit and --step failures: the run did not do what its author asserted.
      const unmet = [...out.unmetExpectations(), ...(ran.stepErrors ?? [])];
      for (const u of unmet) process.stderr.write(`vpmu: ${u}\n`);
      process.exitCode = leaks > 0 ? EXIT_LEAK : unmet.length > 0 ? EXIT_FAILURE : result.status;
    });
  addExamples(cmd, [
    ["vpmu run programs/cpu/hello.s", "the bare platform; exit status = the guest's port 0xF4 value"],
    ["vpmu run --trace programs/cpu/hello.s", "one line per instruction on stderr"],
    ["vpmu run --load 0x200000 --mem 64M prog.bin", "a flat binary at another address, more RAM"],
    ["vpmu run --exits programs/cpu/hello.s", "reporting only: still the bare platform, which has no VM exits"],
    [
      "vpmu run --kvm v4 --perf-caps 0x2000 --host-msr 0x329=0x8899aabb11223344 programs/leak/v4-rdpmc-leak.s",
      "the PERF_METRICS leak: --kvm v4 implies --pmu mediated; the leak makes the exit status 104",
    ],
  ]);
}

/** runFile on the KVM machine the options describe (or the bare platform), returning the machine too. */
export async function runMachine(
  cfg: RunConfig,
  dir = ".",
  out: RunOutput | null = null,
): Promise<{ result: RunResult; machine: Machine | null; stepErrors: string[] }> {
  const stepErrors: string[] = [];
  if (cfg.machine === null) return { result: await runFile(cfg, null, dir, out), machine: null, stepErrors };
  const m = (await machineArea()).createMachine(cfg.machine);
  if (!m.ok) throw usageError(m.error);
  out?.attach(m.value);
  return { result: await runFile(cfg, m.value, dir, out, stepErrors), machine: m.value, stepErrors };
}

/** Load (on the machine's vCPU, or the bare platform), run in chunks (so Ctrl-C is noticed between them),
 *  and return the result. */
export async function runFile(
  cfg: RunConfig,
  machine: Machine | null,
  dir = ".",
  out: RunOutput | null = null,
  stepErrors: string[] = [],
): Promise<RunResult> {
  const img = await loadImage(cfg.file, cfg.load, dir, cfg);
  const gc: GuestConfig = {
    ...guestConfig(cfg),
    memSize: img.memSize,
    entryBits: img.entryBits,
    ...(out === null ? {} : { console: out.console }),
  };
  if (cfg.traceIo && out !== null) gc.devices = { ...gc.devices, trace: out.ioTrace() };
  const g =
    machine === null
      ? Guest.create(img.image, img.origin, gc)
      : (await machineArea()).loadGuest(machine, img.image, img.origin, gc);
  if ("error" in g) throw usageError(`${cfg.file}: ${g.error}`);
  let interrupted = false;
  const onInt = () => {
    interrupted = true;
  };
  process.on("SIGINT", onInt);
  // On a terminal only (VPMU_PROGRESS=1 forces it, for tests), erased at the end; made when first shown
  // (process.stderr is made when first read: src/cli/stdio.ts).
  let progress: ProgressLine | null = null;
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
    // Chunks of about CHUNK_MS whatever the guest does (a compiled loop retires ~10^9 instructions a second,
    // a mediated VM-exit loop ~3 × 10^5): Ctrl-C and the progress line are noticed between them. Where a
    // chunk ends changes nothing the guest can see (a budget stop only folds counts and re-enters).
    const started = Date.now();
    const text = new ProgressText(cfg.file, cfg.maxInsns, started);
    let chunk = 1 << 20;
    let shownAt = 0;
    // --step: the VMM's ioctls between KVM_RUNs; `stepEnd` is where the current `run:N` step stops.
    const steps = machine === null ? [] : (cfg.steps ?? []);
    let stepAt = 0;
    let stepEnd = Infinity;
    const area = steps.length > 0 ? await machineArea() : null;
    for (;;) {
      while (machine !== null && area !== null && stepEnd === Infinity && stepAt < steps.length) {
        const s = steps[stepAt++]!;
        if (s.kind === "run") stepEnd = g.cpu.events.instructions + s.insns;
        else {
          const e = area.applyHostStep(machine, s);
          if (e !== null) stepErrors.push(`--step ${stepAt}: ${e}`);
        }
      }
      const t0 = Date.now();
      const r = g.runChunk(Math.min(chunk, stepEnd - g.cpu.events.instructions));
      if (r) {
        const left = steps.length - stepAt + (stepEnd === Infinity ? 0 : 1);
        if (left > 0) stepErrors.push(`the guest stopped with ${left} --step steps not done (${r.stop})`);
        return r;
      }
      if (g.cpu.events.instructions >= stepEnd) stepEnd = Infinity;
      const now = Date.now();
      if (now - t0 < CHUNK_MS / 2 && chunk < 1 << 27) chunk *= 2;
      else if (now - t0 > CHUNK_MS * 2 && chunk > 1024) chunk = Math.floor(chunk / 2);
      if (now - started >= PROGRESS_AFTER_MS && now - shownAt >= 500) {
        progress ??= new ProgressLine(process.stderr, process.env.VPMU_PROGRESS === "1");
        progress.update(text.text(now, g.cpu.events.instructions, machine === null ? null : machine.vcpu.exitTotal));
        shownAt = now;
      }
      // A macrotask turn, so the SIGINT handler runs; then wait for a slow stdout reader, if any.
      await new Promise((res) => setImmediate(res));
      if (!stdioUnused("stdout") && process.stdout.writableLength > 0) await stdoutFlushed();
      if (interrupted) return g.interrupt();
    }
  } finally {
    progress?.done();
    process.off("SIGINT", onInt);
  }
}
