/**
 * What `vpmu demo` shows: two run documents of the same guest (model.md §14.4's set-up under `--kvm v4` and
 * `--kvm fix`) side by side — the RDPMC(0x2000_0000) fate, the value the guest read, the exits and console
 * lines that differ, the leak records — and the verdict, computed from the documents, never assumed.
 */
import { msrName } from "../check/msr-name.js";
import type { VmxObserver } from "../vmx/observer.js";
import { unifiedDiffLines } from "./diff.js";
import { rdpmcExitingInKernelTerms } from "./let-through.js";
import type { RunDocument, RunDocumentExit, RunDocumentLeak } from "./run-document.js";

/** A native (non-exiting) RDPMC the guest executed: the counter register hardware returned and its value. */
export interface NativeRdpmc {
  readonly ecx: string;
  readonly rip: string;
  readonly register: string;
  readonly value: string;
}

/** How many native RDPMCs one side keeps (a program in an RDPMC loop must not grow memory without end). */
const NATIVE_KEPT = 1000;

/**
 * Watches one vCPU's VMX layer for the RDPMCs that ran without an exit (the run document has only exits),
 * so the demo can say what the program actually did instead of what the default program does.
 */
export class NativeRdpmcLog implements VmxObserver {
  readonly reads: NativeRdpmc[] = [];
  /** Every native RDPMC, also past NATIVE_KEPT. */
  count = 0;
  nativeRead(_vmx: unknown, msr: number, value: bigint, access: string, rip: number): void {
    if (!access.startsWith("RDPMC ")) return;
    this.count++;
    if (this.reads.length < NATIVE_KEPT)
      this.reads.push({
        ecx: access.slice("RDPMC ecx=".length),
        rip: `0x${rip.toString(16)}`,
        register: msrName(msr),
        value: `0x${value.toString(16)}`,
      });
  }
  readonly switchHooks = false;
  interceptsChanged(): void {}
  afterLoad(): void {}
  afterEntry(): void {}
  beforePut(): void {}
  afterPut(): void {}
  nativeWrite(): void {}
}

/** One side of the demo: the run document and the RDPMCs that ran on the hardware. */
export interface DemoSide {
  readonly doc: RunDocument;
  /** The first native RDPMCs (NativeRdpmcLog keeps up to 1000) and how many there were in all. */
  readonly native: readonly NativeRdpmc[];
  readonly nativeCount: number;
}

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

/** How a run that did not exit ended, in words (src/vmm StopKind). */
const STOP_WORDS: Readonly<Record<string, string>> = {
  "triple-fault": "triple fault",
  ud: "#UD",
  "insn-limit": "instruction limit",
  interrupted: "interrupted",
};

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

/** What RDPMC with `ecx` did on one side, from the exit log and the native reads the layer saw. */
function rdpmcFate(side: DemoSide, ecx: string): { exited: boolean; native: boolean; text: string } {
  const exits = side.doc.exits.filter((e) => e.name === "RDPMC" && e.ecx === ecx);
  const native = side.native.filter((r) => r.ecx === ecx);
  const times = (n: number) => (n > 1 ? ` (×${n})` : "");
  if (exits.length > 0) {
    const e = exits[0]!;
    return {
      exited: true,
      native: native.length > 0,
      text: `exit ${e.reason} (RDPMC) -> ${e.outcome === "#GP" ? "#GP injected" : e.outcome === "ok" ? "emulated by KVM" : e.outcome}${times(exits.length)}`,
    };
  }
  if (native.length > 0)
    return {
      exited: false,
      native: true,
      text: `no exit: read ${native[0]!.register.replace(/ \(.*\)$/, "")} on the hardware${times(native.length)}`,
    };
  return { exited: false, native: false, text: "not executed (no exit, no counter read)" };
}

/** The RDPMC ecx values either side executed, in order of first use (exits and native reads). */
function rdpmcTypes(sides: readonly DemoSide[]): string[] {
  const seen: string[] = [];
  for (const s of sides) {
    for (const e of s.doc.exits)
      if (e.name === "RDPMC" && e.ecx !== undefined && !seen.includes(e.ecx)) seen.push(e.ecx);
    for (const r of s.native) if (!seen.includes(r.ecx)) seen.push(r.ecx);
  }
  return seen;
}

/** What one run did, from its document: how it ended and its RDPMCs (with or without an exit). */
function whatRan(side: DemoSide): string {
  const ex = side.doc.exits.filter((e) => e.name === "RDPMC").length;
  const nat = side.nativeCount;
  const rdpmc =
    ex + nat === 0
      ? "no RDPMC"
      : [nat > 0 ? `${nat} RDPMC without exit` : "", ex > 0 ? `${ex} RDPMC with exit` : ""].filter((x) => x).join(", ");
  return `${side.doc.report}; ${rdpmc}`;
}

function hostLeak(doc: RunDocument): RunDocumentLeak | undefined {
  return doc.leaks.find((l) => l.owner === "host" && l.direction === "host→guest");
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
  v4Side: DemoSide,
  fixSide: DemoSide,
  paint: Paint,
): { readonly text: string; readonly ok: boolean } {
  const v4 = v4Side.doc;
  const fix = fixSide.doc;
  const out: string[] = [];
  out.push(paint("vpmu demo: the PERF_METRICS leak of the V4 mediated-vPMU patch (model.md §14.4, §14.5)", "bold"), "");
  out.push(`  host     spr, mediated vPMU; before the first entry hardware PERF_METRICS (0x329) holds`);
  out.push(`           a host-owned value ${s.hostValue}`);
  out.push(`  guest    PMU version 2, 8 GP x 48-bit, 4 fixed x 48-bit, PERF_CAPABILITIES 0x2000`);
  out.push(`           (full-width writes; bit 15 PERF_METRICS clear: the guest has no PERF_METRICS)`);
  // What the program did comes from the two runs, whatever program it is.
  out.push(`  program  ${s.program}`);
  out.push(`           under v4:  ${whatRan(v4Side)}`);
  out.push(`           under fix: ${whatRan(fixSide)}`);
  out.push(`  runs     vpmu run --json ${s.setup.join(" ")} --kvm v4|fix ${s.program}`, "");

  const types = rdpmcTypes([v4Side, fixSide]);
  const fates = [rdpmcFate(v4Side, METRICS_ECX), rdpmcFate(fixSide, METRICS_ECX)];
  const leaks = [hostLeak(v4), hostLeak(fix)];
  const ended = (d: RunDocument) =>
    d.stop === "exit"
      ? String(d.status)
      : d.stop === "halted"
        ? `${d.status} (halted)`
        : `${d.status} (${STOP_WORDS[d.stop] ?? d.stop}: the guest did not exit)`;
  out.push(
    table(
      [
        ["", "--kvm v4", "--kvm fix"],
        ...(types.length === 0
          ? [["RDPMC", "not executed", "not executed"] as const]
          : types.map(
              (ecx) => [`RDPMC ecx=${ecx}`, rdpmcFate(v4Side, ecx).text, rdpmcFate(fixSide, ecx).text] as const,
            )),
        [
          "host value the guest read",
          leaks[0] ? `${leaks[0].value} (${leaks[0].register.replace(/ \(.*\)$/, "")})` : "none",
          leaks[1] ? `${leaks[1].value} (${leaks[1].register.replace(/ \(.*\)$/, "")})` : "none",
        ],
        ["host->guest leaks", String(v4.leaks.length), String(fix.leaks.length)],
        ["guest SUMMARY", summaryOf(v4), summaryOf(fix)],
        ["exit status", ended(v4), ended(fix)],
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
      out.push(`    via ${l.path} at rip ${l.rip}`);
      out.push(`    let through: ${l.why}`);
    }
  }
  out.push("");

  // The verdict is computed from the two documents: reproduced = the host value reached the guest through
  // RDPMC without an exit under v4; closed = under fix the RDPMC exited (reason 15), #GP, nothing leaked.
  const reproduced =
    leaks[0] !== undefined &&
    leaks[0].value === s.hostValue &&
    leaks[0].path === `RDPMC ecx=${METRICS_ECX}` &&
    fates[0]!.native &&
    !fates[0]!.exited;
  const closedRdpmc = fix.exits.find((e) => e.name === "RDPMC" && e.ecx === METRICS_ECX);
  const closed =
    closedRdpmc !== undefined && closedRdpmc.reason === 15 && closedRdpmc.outcome === "#GP" && fix.leaks.length === 0;
  // The control that differs, and the kernel decision behind it on each side.
  out.push(paint("What differs in the VMCS:", "bold"));
  for (const [name, doc] of [
    ["v4 ", v4],
    ["fix", fix],
  ] as const)
    out.push(`  ${name}  ${rdpmcExitingInKernelTerms(doc.rdpmcExiting.set, doc.rdpmcExiting.rule)}`);
  out.push("");
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
