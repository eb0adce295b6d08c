// `vpmu run`'s output as the run goes (issue 15 items 10 and 11), so memory stays flat whatever the guest
// does: the console is written to stdout as the guest writes it, and with --exits or --json each VM exit
// (and --trace-switch step) is formatted when it happens and appended to a spool file, which is copied to
// stdout after the console — the order the report has always had. Without --exits/--json only the exit
// counters and the last few exits (for the stop report) are kept.
import { closeSync, mkdtempSync, openSync, readSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Machine } from "../machine/index.js";
import { IoTrace, type RunResult } from "../vmm/index.js";
import { stdioUnused } from "./stdio.js";

type Report = typeof import("../report/index.js");

/** Until everything written to stdout so far has left the process: between run chunks, so a slow reader
 *  holds the guest back instead of output piling up in memory, and before stderr lines that must follow it. */
export function stdoutFlushed(): Promise<void> {
  // Never made (src/cli/stdio.ts): nothing was written, and making it only to wait would cost the start-up.
  if (stdioUnused("stdout")) return Promise.resolve();
  return new Promise((resolve) => process.stdout.write("", () => resolve()));
}

/** What the progress line says: totals, rates since the last line, the limit and how to raise it. */
export class ProgressText {
  private lastAt = 0;
  private lastInsns = 0;
  private lastExits = 0;
  constructor(
    private readonly file: string,
    private readonly maxInsns: number,
    startedAt: number,
  ) {
    this.lastAt = startedAt;
  }
  text(now: number, insns: number, exits: number | null): string {
    const s = Math.max(0.001, (now - this.lastAt) / 1000);
    const ips = (insns - this.lastInsns) / s;
    const eps = exits === null ? 0 : (exits - this.lastExits) / s;
    this.lastAt = now;
    this.lastInsns = insns;
    this.lastExits = exits ?? 0;
    const n = (v: number) => Math.round(v).toLocaleString("en-US");
    const exitPart = exits === null ? "" : `, ${n(exits)} VM exits (${n(eps)}/s)`;
    return `vpmu run ${this.file}: ${n(insns)} of ${n(this.maxInsns)} instructions (${n(ips)}/s)${exitPart}; --max-insns changes the limit, Ctrl-C stops`;
  }
}

/** Text formatted during the run, kept in a temporary file until the console is done, then copied to
 *  stdout: memory stays flat however much there is. */
class Spool {
  private readonly dir: string;
  private fd: number;
  private pending = "";
  constructor(name: string) {
    this.dir = mkdtempSync(join(tmpdir(), `vpmu-${name}-`));
    this.fd = openSync(join(this.dir, name), "w+");
  }
  write(text: string): void {
    this.pending += text;
    if (this.pending.length >= 1 << 16) this.flush();
  }
  async copyToStdout(): Promise<void> {
    if (this.fd < 0) return;
    this.flush();
    const buf = Buffer.alloc(1 << 20);
    for (let pos = 0; ; ) {
      const n = readSync(this.fd, buf, 0, buf.length, pos);
      if (n <= 0) break;
      process.stdout.write(Buffer.from(buf.subarray(0, n)));
      pos += n;
      await stdoutFlushed();
    }
  }
  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
    rmSync(this.dir, { recursive: true, force: true });
  }
  private flush(): void {
    if (this.pending !== "") writeSync(this.fd, this.pending);
    this.pending = "";
  }
}

/** Exits the stop report of an abnormal end shows (the vCPU keeps RECENT_EXITS). */
const STOP_REPORT_EXITS = 8;

export class RunOutput {
  private exitSpool: Spool | null = null;
  private ioSpool: Spool | null = null;
  private io: IoTrace | null = null;
  /** The console's last byte (-1: none yet), so that what follows it starts on a line of its own. */
  private lastConsoleByte = -1;
  private exitCount = 0;
  private stream: InstanceType<Report["ExitLogStream"]> | null = null;
  private consoleOpen = false;
  private platform: "bare" | "kvm" = "bare";

  constructor(
    private readonly report: Report | null,
    private readonly mode: {
      readonly exits: boolean;
      readonly json: boolean;
      readonly traceIo?: boolean;
      readonly expectExits?: readonly string[];
    },
  ) {}

  private expectations: InstanceType<Report["ExitExpectations"]> | null = null;

  /** --expect-exit: what did not match (empty without patterns or when all matched). */
  unmetExpectations(): string[] {
    return this.expectations?.unmet() ?? [];
  }

  /** --trace-io: the trace the devices write to (its lines are spooled until the console is done). */
  ioTrace(): IoTrace {
    if (this.io === null) {
      const spool = new Spool("io");
      this.ioSpool = spool;
      this.io = new IoTrace((t) => spool.write(t));
    }
    return this.io;
  }

  /** After the console: the I/O trace, under a line that counts it. */
  async finishIoTrace(): Promise<void> {
    if (this.io === null || this.ioSpool === null) return;
    this.io.flush();
    await stdoutFlushed();
    if (this.lastConsoleByte !== -1 && this.lastConsoleByte !== 10) process.stdout.write("\n");
    process.stdout.write(`--- I/O trace: ${this.io.count} port and MMIO accesses ---\n`);
    await this.ioSpool.copyToStdout();
  }

  /** GuestConfig.console: each chunk straight to stdout (inside the JSON string with --json). */
  readonly console = (bytes: Uint8Array): void => {
    if (bytes.length > 0) this.lastConsoleByte = bytes[bytes.length - 1];
    if (this.mode.json && this.report) {
      this.openConsole();
      process.stdout.write(this.report.consoleJson(Buffer.from(bytes).toString("latin1")));
    } else process.stdout.write(Buffer.from(bytes));
  };

  /** Before the run: the machine's exits and steps come here instead of into its logs; with --expect-exit each
   *  exit is also formatted as the exit log prints it and matched. */
  attach(machine: Machine): void {
    this.attachSinks(machine);
    const report = this.report;
    const patterns = this.mode.expectExits ?? [];
    if (report === null || patterns.length === 0) return;
    const x = new report.ExitExpectations(patterns);
    this.expectations = x;
    const vcpu = machine.vcpu;
    const prev = vcpu.exitSink;
    vcpu.exitSink = (e) => {
      prev?.(e);
      if (x.pending) x.feed(report.formatExitLog([e])[0] ?? "");
      else x.feed("");
    };
  }

  private attachSinks(machine: Machine): void {
    const vcpu = machine.vcpu;
    vcpu.logExits = false;
    this.platform = "kvm";
    const report = this.report;
    if (report === null || (!this.mode.exits && !this.mode.json)) return;
    this.exitSpool = new Spool("exits");
    if (this.mode.json) {
      vcpu.exitSink = (e) => this.spool(report.exitJson(e, this.exitCount++ === 0));
      return;
    }
    const stream = new report.ExitLogStream(machine.layer.recordSteps, (line) => this.spool(line + "\n"));
    this.stream = stream;
    vcpu.exitSink = (e) => stream.exit(e);
    machine.layer.switchSink = (r) => stream.step(r);
  }

  /** After the run: the rest of the output, in the order `vpmu run` has always printed it. */
  async finish(result: RunResult, machine: Machine | null): Promise<void> {
    const report = this.report;
    try {
      if (this.mode.json && report) {
        this.openConsole();
        if (machine === null) process.stdout.write(report.bareDocumentEnd(result));
        else {
          const { vcpu, layer, checker } = machine;
          process.stdout.write(report.documentMiddle(result, vcpu, layer, checker));
          await this.exitSpool?.copyToStdout();
          process.stdout.write(report.documentEnd(result, vcpu, layer, checker, this.exitCount > 0));
        }
      } else if (this.mode.exits && machine && report && this.stream) {
        this.stream.end();
        process.stdout.write(report.runTraceHeader(this.stream.count, machine.layer) + "\n");
        await this.exitSpool?.copyToStdout();
        process.stdout.write(report.runTraceFooter(machine.layer, machine.checker).join("\n") + "\n");
      } else if (machine && report) {
        await stdoutFlushed();
        for (const l of machine.checker.leaks) process.stderr.write(`vpmu: ${report.formatLeak(l)}\n`);
      }
    } finally {
      this.close();
    }
  }

  /** For a run that did not end by itself: the last exits before the stop (unless --exits showed them all). */
  recentExits(result: RunResult, machine: Machine | null): string {
    if (machine === null || this.report === null || this.mode.exits || this.mode.json) return "";
    if (result.stop === "exit" || result.stop === "halted") return "";
    const total = machine.vcpu.exitTotal;
    const last = machine.vcpu.recentExits().slice(-STOP_REPORT_EXITS);
    if (last.length === 0) return "";
    const report = this.report;
    const head = `vpmu: the last ${last.length} of ${total} VM exits:\n`;
    return (
      head +
      report
        .formatExitLog(last)
        .map((l) => `vpmu:   ${l}\n`)
        .join("")
    );
  }

  close(): void {
    this.exitSpool?.close();
    this.exitSpool = null;
    this.ioSpool?.close();
    this.ioSpool = null;
  }

  private spool(text: string): void {
    this.exitSpool?.write(text);
  }

  private openConsole(): void {
    if (this.consoleOpen || !this.report) return;
    this.consoleOpen = true;
    process.stdout.write(this.report.documentHead(this.platform));
  }
}
