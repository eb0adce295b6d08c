// `vpmu run --step STEP` (repeatable) → the library's HostStep list (src/machine/host-steps.ts), reading a
// filter file named by `set-filter:FILE.json` here (the CLI is the only layer that touches files).
import type { HostStep } from "../machine/index.js";
import { isFilterError, parsePmuFilterFile, preparePmuEventFilter } from "../pmu/filter.js";
import { usageError } from "./errors.js";
import { readText } from "./files.js";
import { countOption, parseMsrAssignment } from "./options.js";

export const STEP_FORMS = "run:N, set-msr:MSR=VALUE, set-filter:FILE.json or set-filter:none";

/** Commander parser: collect the raw texts (parsed in order once all options are known). */
export function collectStep(text: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), text];
}

/** One `--step` text as a HostStep; a usage error names the step. */
export function parseHostStep(text: string): HostStep {
  const colon = text.indexOf(":");
  const kind = colon < 0 ? text : text.slice(0, colon);
  const arg = colon < 0 ? "" : text.slice(colon + 1);
  switch (kind) {
    case "run":
      return { kind: "run", insns: countOption(`--step ${text}`, 1, Number.MAX_SAFE_INTEGER)(arg) };
    case "set-msr": {
      const a = parseMsrAssignment(arg);
      if (!a.ok) throw usageError(`--step ${text}: ${a.error}`);
      return { kind: "set-msr", index: a.value.index, value: a.value.value };
    }
    case "set-filter": {
      if (arg === "none") return { kind: "set-filter", filter: null, source: "none (filter removed)" };
      if (arg === "") throw usageError(`--step ${text}: name a filter file (set-filter:FILE.json) or none`);
      const f = parsePmuFilterFile(arg, readText(arg, "PMU event filter file"));
      if (!f.ok) throw usageError(f.error);
      const k = preparePmuEventFilter(f.filter);
      if (isFilterError(k)) throw usageError(`--step ${text}: KVM_SET_PMU_EVENT_FILTER would fail with ${k.errno}`);
      return { kind: "set-filter", filter: f.filter, source: arg };
    }
    default:
      throw usageError(`--step ${text}: expected ${STEP_FORMS}`);
  }
}
