/**
 * What `vpmu run --exits` shows of a run: one line per VM exit in the spirit of the kvm_exit / kvm_msr
 * trace events (reason and name, RIP, instruction length, MSR/ECX/port and value, how KVM completed it),
 * the mediated load/put steps, the leak records and the isolation invariants. Console output exits
 * (port 0xE9, one per character) are folded into one line per run of consecutive characters.
 */
import type { ExitRecord, Vcpu } from "../kvm/vcpu.js";
import type { IsolationChecker } from "../check/checker.js";
import { formatLeak } from "./let-through.js";
import { formatViolation, summarizeViolations } from "../check/isolation.js";
import { msrName } from "../check/msr-name.js";
import type { SwitchRecord, VmxLayer } from "../vmx/vmx-layer.js";

const hex = (v: number | bigint): string => "0x" + v.toString(16);
const CONSOLE_PORT = 0xe9;

function isConsole(e: ExitRecord): boolean {
  return e.port === CONSOLE_PORT && e.in === false;
}

/** One exit as a line: `exit MSR_READ(31) rip=0x100123 len=2 msr=0x329 MSR_PERF_METRICS (0x329) -> #GP`. */
export function formatExit(e: ExitRecord): string {
  const head = `exit ${e.name}(${e.reason}) rip=${hex(e.rip)} len=${e.length}`;
  let detail = "";
  if (e.msr !== undefined)
    detail =
      ` msr=${msrName(e.msr)}` + (e.value !== undefined ? ` ${e.write ? "value" : "result"}=${hex(e.value)}` : "");
  else if (e.name === "RDPMC" && e.ecx !== undefined)
    detail = ` ecx=${hex(e.ecx)}` + (e.value !== undefined ? ` result=${hex(e.value)}` : "");
  else if (e.port !== undefined)
    detail =
      ` port=${hex(e.port)} ${e.in ? "in" : "out"} size=${e.size}` +
      (e.value !== undefined ? ` value=${hex(e.value)}` : "");
  else if (e.gpa !== undefined)
    detail = ` gpa=${hex(e.gpa)} ${e.write ? "write" : "read"} size=${e.size} value=${hex(e.value ?? 0n)}`;
  else if (e.fn !== undefined) detail = ` eax=${hex(e.fn)} ecx=${hex(e.ecx ?? 0)}`;
  const outcome =
    e.reason === 1
      ? "host handles it, guest resumes"
      : e.outcome === "#GP"
        ? "#GP injected, rip unchanged"
        : e.outcome === "ok"
          ? "skip (rip += len)"
          : e.outcome;
  return `${head}${detail} -> ${outcome}${e.why ? ` (${e.why})` : ""}`;
}

/** The exit log as lines, console characters folded: `exit IO_INSTRUCTION(30) port=0xe9 out ×12 (console)`. */
export function formatExitLog(exits: readonly ExitRecord[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < exits.length; i++) {
    const e = exits[i];
    if (!isConsole(e)) {
      out.push(formatExit(e));
      continue;
    }
    let j = i;
    while (j + 1 < exits.length && isConsole(exits[j + 1])) j++;
    out.push(`exit ${e.name}(${e.reason}) port=${hex(CONSOLE_PORT)} out ×${j - i + 1} (console)`);
    i = j;
  }
  return out;
}

/** Every exit, each followed by the load/put steps it caused (records placed by exit count), unfolded. */
export function formatExitsWithSwitches(exits: readonly ExitRecord[], switches: readonly SwitchRecord[]): string[] {
  const out: string[] = [];
  let k = 0;
  const flush = (upTo: number) => {
    for (; k < switches.length && switches[k].afterExit <= upTo; k++) {
      const r = switches[k];
      if (r.kind === "pmi") continue;
      for (const s of r.steps) out.push(`  ${s.phase} ${s.step}: ${s.text}`);
    }
  };
  for (let i = 0; i < exits.length; i++) {
    flush(i);
    out.push(formatExit(exits[i]));
  }
  flush(Infinity);
  return out;
}

/**
 * The exit log as the run goes: exits and load/put step records in, the lines formatExitLog (or, with
 * `unfolded`, formatExitsWithSwitches) would give out, so `vpmu run --exits` never keeps the log. Step
 * records arrive in the order the VMX layer makes them; each waits until the exit it precedes.
 */
export class ExitLogStream {
  /** Exits seen. */
  count = 0;
  private folded = 0;
  private foldedFirst: ExitRecord | null = null;
  private readonly waiting: SwitchRecord[] = [];

  constructor(
    private readonly unfolded: boolean,
    private readonly out: (line: string) => void,
  ) {}

  exit(e: ExitRecord): void {
    const i = this.count++;
    if (this.unfolded) {
      this.flushSteps(i);
      this.out(formatExit(e));
      return;
    }
    if (isConsole(e)) {
      if (this.folded++ === 0) this.foldedFirst = e;
      return;
    }
    this.flushConsole();
    this.out(formatExit(e));
  }

  step(r: SwitchRecord): void {
    this.waiting.push(r);
  }

  /** The run is over: the lines still held back. */
  end(): void {
    this.flushConsole();
    this.flushSteps(Infinity);
  }

  private flushConsole(): void {
    const e = this.foldedFirst;
    if (e !== null) this.out(`exit ${e.name}(${e.reason}) port=${hex(CONSOLE_PORT)} out ×${this.folded} (console)`);
    this.folded = 0;
    this.foldedFirst = null;
  }

  private flushSteps(upTo: number): void {
    let k = 0;
    for (; k < this.waiting.length && this.waiting[k].afterExit <= upTo; k++) {
      const r = this.waiting[k];
      if (r.kind === "pmi") continue;
      for (const s of r.steps) this.out(`  ${s.phase} ${s.step}: ${s.text}`);
    }
    this.waiting.splice(0, k);
  }
}

/** The first line of the `--exits` block. */
export function runTraceHeader(exits: number, layer: VmxLayer): string {
  return `--- platform: kvm, vm exits: ${exits} (policy ${layer.plan.policy}, ${layer.isMediated ? "mediated" : "not mediated"}) ---`;
}

/** The `--exits` block's lines after the exits: context-switch totals, leaks, invariants. */
export function runTraceFooter(layer: VmxLayer, checker: IsolationChecker): string[] {
  const lines: string[] = [];
  if (layer.isMediated)
    lines.push(
      `--- mediated context switch: ${layer.sw.loads} loads, ${layer.sw.puts} puts, ${layer.fastpathExits} fastpath exits ---`,
    );
  for (const [direction, title] of [
    ["host→guest", "host->guest"],
    ["guest→host", "guest->host"],
  ] as const) {
    const ls = checker.leaks.filter((l) => l.direction === direction);
    lines.push(`--- ${title} leaks: ${ls.length} ---`);
    for (const l of ls) lines.push(formatLeak(l));
  }
  if (checker.invariants) {
    const vs = summarizeViolations(checker.violations);
    lines.push(
      `--- isolation invariants (model.md §12.3) checked at every load, entry and put: ${vs.length === 0 ? "all hold" : `${vs.length} violated`} ---`,
    );
    for (const v of vs) lines.push(formatViolation(v));
  }
  return lines;
}

/** The text block `--exits` appends after the guest console, from a kept exit log. */
export function formatRunTrace(vcpu: Vcpu, layer: VmxLayer, checker: IsolationChecker): string {
  const lines = [runTraceHeader(vcpu.exits.length, layer)];
  if (layer.recordSteps) lines.push(...formatExitsWithSwitches(vcpu.exits, layer.switchLog));
  else lines.push(...formatExitLog(vcpu.exits));
  lines.push(...runTraceFooter(layer, checker));
  return lines.join("\n") + "\n";
}
