/**
 * `vpmu run --json` written while the run goes, so neither the console nor the exits are kept: the pieces
 * below, written in order (head, console chunks, middle, exit elements, end), are byte for byte
 * `JSON.stringify(runDocument(…), null, 2)` (or bareRunDocument) with the console and exits of the run.
 */
import type { IsolationChecker } from "../check/checker.js";
import type { ExitRecord, Vcpu } from "../kvm/vcpu.js";
import type { VmxLayer } from "../vmx/vmx-layer.js";
import { bareRunDocument, exitDocument, runDocument } from "./run-document.js";

interface RunOutcome {
  readonly status: number;
  readonly stop: string;
  readonly report: string;
}

/** The members of an object as JSON.stringify(…, null, 2) writes them at depth 1 (no braces). */
const members = (o: object): string => JSON.stringify(o, null, 2).slice(2, -2);

/** Up to the opening quote of the console string. */
export function documentHead(platform: "bare" | "kvm"): string {
  return `{\n  "platform": ${JSON.stringify(platform)},\n  "console": "`;
}

/** Console text (one character per byte) inside the console string: escaping is per character, so any
 *  split of the console gives the same document. */
export function consoleJson(text: string): string {
  return JSON.stringify(text).slice(1, -1);
}

/** The bare document after the console, to its end. */
export function bareDocumentEnd(run: RunOutcome): string {
  const { platform: _p, console: _c, ...rest } = bareRunDocument({ ...run, console: "" });
  return `",\n${members(rest)}\n}\n`;
}

/** The KVM document after the console, up to the opening bracket of the exits array. */
export function documentMiddle(run: RunOutcome, vcpu: Vcpu, layer: VmxLayer, checker: IsolationChecker): string {
  const d = runDocument({ ...run, console: "" }, vcpu, layer, checker);
  const head = { status: d.status, stop: d.stop, report: d.report, policy: d.policy, codeState: d.codeState };
  return `",\n${members({ ...head, mediated: d.mediated, rdpmcExiting: d.rdpmcExiting })},\n  "exits": [`;
}

/** One element of the exits array (`first`: no comma before it). */
export function exitJson(e: ExitRecord, first: boolean): string {
  return (first ? "\n" : ",\n") + JSON.stringify(exitDocument(e), null, 2).replace(/^/gm, "    ");
}

/** After the last exit element (`anyExits`: the array was not empty), to the document's end. */
export function documentEnd(
  run: RunOutcome,
  vcpu: Vcpu,
  layer: VmxLayer,
  checker: IsolationChecker,
  anyExits: boolean,
): string {
  const d = runDocument({ ...run, console: "" }, vcpu, layer, checker);
  const {
    platform: _p,
    console: _c,
    status: _s,
    stop: _t,
    report: _r,
    policy: _o,
    codeState: _d,
    mediated: _m,
    rdpmcExiting: _x,
    exits: _e,
    ...rest
  } = d;
  return `${anyExits ? "\n  ]" : "]"},\n${members(rest)}\n}\n`;
}
