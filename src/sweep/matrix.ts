/**
 * The sweep matrix: host presets × `--pmu` modes × `--kvm` policies × guest vPMU models × host activity
 * × enable_vmware_backdoor, described by axes (a JSON object or options) and expanded in one fixed order.
 * Facts: the knobs are model.md §2 (module parameters, guest CPUID 0xA, PDCM, PERF_CAPABILITIES).
 */
import { PERF_CAP_FW_WRITES, PERF_CAP_PERF_METRICS } from "../arch/msr-index.js";
import { HOST_ACTIVITIES } from "../host/activity.js";
import { HOST_PRESETS, type HostPreset, type HostPresetId } from "../host/presets.js";
import { CODE_STATES, findCodeState } from "../pmu/code-states.js";

/** `--pmu`: enable_mediated_pmu off (the perf-backed LEGACY vPMU), on, or enable_pmu off. */
export type PmuMode = "legacy" | "mediated" | "off";
export const PMU_MODES: readonly PmuMode[] = ["legacy", "mediated", "off"];

/** A guest counter count or width: a number, or relative to the host ("host", "host-1"). */
export type RelativeSpec = number | "host" | `host-${number}`;

/** Guest PERF_CAPABILITIES: "nopdcm" (CPUID.1:ECX.PDCM clear, caps read 0), or bits with PDCM set:
 *  "fw" (bit 13), "metrics" (bit 15), "fw+metrics", "0" or a hex value ("0x2000"). */
export type CapsSpec = string;

export interface SweepMatrix {
  readonly hosts: readonly HostPresetId[];
  readonly pmu: readonly PmuMode[];
  /** Built-in code states (legacy, base, v4, fix) or the names of policy files given to the sweep. */
  readonly kvm: readonly string[];
  readonly versions: readonly number[];
  readonly gp: readonly RelativeSpec[];
  readonly gpWidth: readonly RelativeSpec[];
  readonly fixed: readonly RelativeSpec[];
  readonly fixedWidth: readonly RelativeSpec[];
  readonly caps: readonly CapsSpec[];
  /** Host perf activity presets (src/host/activity.ts). */
  readonly activity: readonly string[];
  readonly vmwareBackdoor: readonly boolean[];
}

/** The guest model as userspace asks for it (CPUID 0xA values, PDCM, PERF_CAPABILITIES), resolved
 *  against one host; KVM may clamp it at refresh (R-CPUID-2/4), which the run reports. */
export interface GuestRequest {
  readonly version: number;
  readonly nGP: number;
  readonly wGP: number;
  readonly nFX: number;
  readonly wFX: number;
  readonly pdcm: boolean;
  readonly perfCapabilities: bigint;
}

/** One point of the matrix. `index` is its position in the full expansion (stable across shards). */
export interface SweepConfig {
  readonly index: number;
  readonly host: HostPresetId;
  readonly pmu: PmuMode;
  readonly kvm: string;
  readonly activity: string;
  readonly vmwareBackdoor: boolean;
  readonly guest: GuestRequest;
}

/**
 * The default matrix: every host preset, LEGACY and mediated, every built-in code state, guest models
 * around the exact-match region of R-INT-3/R-INT-5 (version 1/2, counts and widths equal to the host or
 * one less / narrower, 3 or 4 fixed counters, no PDCM / FW_WRITES / FW_WRITES+PERF_METRICS), and two
 * host activities that leave host values in hardware: topdown (FC3 + PERF_METRICS, model.md §14.2 L-5) and
 * counting (every GP counter and FC0–FC2 counting). "idle" (power-on values only) is available by option.
 */
export const DEFAULT_MATRIX: SweepMatrix = {
  hosts: ["skx", "icx", "spr", "gnr"],
  pmu: ["legacy", "mediated"],
  kvm: CODE_STATES.map((c) => c.id),
  versions: [1, 2],
  gp: ["host", "host-1"],
  gpWidth: ["host", 40],
  fixed: [3, 4],
  fixedWidth: ["host", 40],
  caps: ["nopdcm", "fw", "fw+metrics"],
  activity: ["topdown", "counting", "idle"],
  vmwareBackdoor: [false],
};

/** The built-in `--kvm` names: one per code state (src/pmu/code-states.ts). */
export const BUILTIN_KVM: readonly string[] = CODE_STATES.map((c) => c.id);

export type MatrixResult =
  | { readonly ok: true; readonly matrix: SweepMatrix }
  | { readonly ok: false; readonly error: string };

/** The axes, in the order matrix files and error sentences list them (each also a `vpmu sweep` option). */
export const MATRIX_AXES: readonly (keyof SweepMatrix)[] = [
  "hosts",
  "pmu",
  "kvm",
  "versions",
  "gp",
  "gpWidth",
  "fixed",
  "fixedWidth",
  "caps",
  "activity",
  "vmwareBackdoor",
];

function parseRelative(v: unknown): RelativeSpec | null {
  if (typeof v === "number" && Number.isInteger(v) && v >= 0 && v <= 255) return v;
  if (typeof v !== "string") return null;
  const t = v.trim();
  if (t === "host") return "host";
  const m = /^host-([0-9]{1,3})$/.exec(t);
  if (m) return `host-${Number(m[1])}`;
  if (/^[0-9]{1,3}$/.test(t) && Number(t) <= 255) return Number(t);
  return null;
}

/** Guest PERF_CAPABILITIES for a caps spec, or null if malformed. */
export function parseCaps(spec: string): { pdcm: boolean; caps: bigint } | null {
  const t = spec.trim().toLowerCase();
  if (t === "nopdcm") return { pdcm: false, caps: 0n };
  if (/^0x[0-9a-f]{1,16}$/.test(t) || /^[0-9]{1,20}$/.test(t)) {
    const v = BigInt(t);
    return v >> 64n === 0n ? { pdcm: true, caps: v } : null;
  }
  let caps = 0n;
  for (const part of t.split("+")) {
    if (part === "fw") caps |= PERF_CAP_FW_WRITES;
    else if (part === "metrics") caps |= PERF_CAP_PERF_METRICS;
    else return null;
  }
  return { pdcm: true, caps };
}

/**
 * Validate one axis (from a matrix file or an option). Every error is one sentence naming the field.
 * `policies` are the names of policy files available in addition to the built-in code states.
 */
function checkAxis(
  name: keyof SweepMatrix,
  v: unknown,
  policies: readonly string[],
): { value: readonly unknown[] } | { error: string } {
  if (!Array.isArray(v) || v.length === 0) return { error: `${name}: expected a non-empty array` };
  const out: unknown[] = [];
  for (let i = 0; i < v.length; i++) {
    const x = v[i];
    const at = `${name}[${i}]`;
    let ok: unknown = null;
    switch (name) {
      case "hosts":
        ok = typeof x === "string" && HOST_PRESETS.some((p) => p.id === x) ? x : null;
        if (ok === null)
          return {
            error: `${at}: unknown host preset ${JSON.stringify(x)} (expected one of: ${HOST_PRESETS.map((p) => p.id).join(", ")})`,
          };
        break;
      case "pmu":
        ok = typeof x === "string" && (PMU_MODES as readonly string[]).includes(x) ? x : null;
        if (ok === null) return { error: `${at}: expected one of ${PMU_MODES.join(", ")}` };
        break;
      case "kvm":
        ok = typeof x === "string" && (BUILTIN_KVM.includes(x) || policies.includes(x)) ? x : null;
        if (ok === null)
          return {
            error: `${at}: unknown policy ${JSON.stringify(x)} (expected ${[...BUILTIN_KVM, ...policies].join(", ")})`,
          };
        break;
      case "versions":
        ok = typeof x === "number" && Number.isInteger(x) && x >= 0 && x <= 255 ? x : null;
        if (ok === null) return { error: `${at}: expected a PMU version 0..255 (CPUID.0AH:EAX[7:0])` };
        break;
      case "gp":
      case "gpWidth":
      case "fixed":
      case "fixedWidth":
        ok = parseRelative(x);
        if (ok === null) return { error: `${at}: expected a number 0..255, "host" or "host-N"` };
        break;
      case "caps":
        ok = typeof x === "string" && parseCaps(x) !== null ? x : null;
        if (ok === null)
          return { error: `${at}: expected "nopdcm", "fw", "metrics", "fw+metrics" or a hex PERF_CAPABILITIES value` };
        break;
      case "activity":
        ok = typeof x === "string" && HOST_ACTIVITIES.some((a) => a.id === x) ? x : null;
        if (ok === null)
          return {
            error: `${at}: unknown host activity ${JSON.stringify(x)} (expected one of: ${HOST_ACTIVITIES.map((a) => a.id).join(", ")})`,
          };
        break;
      case "vmwareBackdoor":
        ok = typeof x === "boolean" ? x : null;
        if (ok === null) return { error: `${at}: expected true or false` };
        break;
    }
    if (!out.some((y) => y === ok)) out.push(ok);
  }
  return { value: out };
}

/**
 * A matrix from a JSON document: any subset of the axes; missing axes keep `base` (the default
 * matrix unless given). `file` names the source in error sentences.
 */
export function parseMatrix(
  file: string,
  text: string,
  policies: readonly string[] = [],
  base: SweepMatrix = DEFAULT_MATRIX,
): MatrixResult {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    return { ok: false, error: `${file}: not valid JSON (${(e as Error).message})` };
  }
  if (typeof doc !== "object" || doc === null || Array.isArray(doc))
    return { ok: false, error: `${file}: expected a JSON object with matrix axes` };
  return withAxes(base, doc as Record<string, unknown>, policies, `${file}: `);
}

/** Replace axes of `base` with validated values (keys as in SweepMatrix); `where` prefixes errors. */
export function withAxes(
  base: SweepMatrix,
  axes: Readonly<Record<string, unknown>>,
  policies: readonly string[],
  where = "",
): MatrixResult {
  const m = { ...base };
  // The same object seen as axis name → values: each value set below is one checkAxis validated for its axis.
  const byName: Record<string, unknown> = m;
  for (const k of Object.keys(axes)) {
    if (k === "comment" || k === "description") continue;
    if (!(MATRIX_AXES as readonly string[]).includes(k))
      return { ok: false, error: `${where}${k}: unknown axis (expected one of: ${MATRIX_AXES.join(", ")})` };
    const r = checkAxis(k as keyof SweepMatrix, axes[k], policies);
    if ("error" in r) return { ok: false, error: `${where}${r.error}` };
    byName[k] = r.value;
  }
  return { ok: true, matrix: m };
}

/** A relative spec's value on a host, before any floor (matrixProblem refuses one below what a counter can
 *  have, so the floor in resolve below never changes a configuration the CLI runs). */
function unfloored(spec: RelativeSpec, host: number): number {
  if (typeof spec === "number") return spec;
  if (spec === "host") return host;
  return host - Number(spec.slice(5));
}

function resolve(spec: RelativeSpec, host: number): number {
  return Math.max(0, unfloored(spec, host));
}

/** Whether `--pmu pmu` and `--kvm kvm` describe one kernel, as `vpmu run` requires (src/machine
 *  createMachine): legacy and off run the perf-backed kernel (`legacy`); mediated runs a kernel with the
 *  mediated vPMU (base, v4, fix, or a policy file, which always extends one of them). */
export function pmuFitsKvm(pmu: PmuMode, kvm: string): boolean {
  const mediatedKernel = findCodeState(kvm)?.mediatedPmu ?? true;
  return (pmu === "mediated") === mediatedKernel;
}

/** The axes whose values cannot be read on some host of the matrix, as [axis, sentence]. */
const RELATIVE_AXES: readonly [keyof SweepMatrix, "nGP" | "wGP" | "nFX" | "wFX", string, number][] = [
  ["gp", "nGP", "GP counters", 0],
  ["gpWidth", "wGP", "bits per GP counter", 1],
  ["fixed", "nFX", "fixed counters", 0],
  ["fixedWidth", "wFX", "bits per fixed counter", 1],
];

/**
 * A value that means nothing for the matrix, as { axis, error } (the caller names the option or the
 * file): a relative count or width below what a counter can have on one of the hosts (`host-99` on an
 * 8-counter host; a 0-bit counter), or pmu and kvm axes with no pair that is one kernel (pmuFitsKvm).
 * Values above the host's stay: KVM clamps them at refresh (R-CPUID-2/4) and the sweep reports what it
 * realised.
 */
export function matrixProblem(m: SweepMatrix): { readonly axis: keyof SweepMatrix; readonly error: string } | null {
  for (const [axis, field, what, min] of RELATIVE_AXES)
    for (const spec of m[axis] as readonly RelativeSpec[])
      for (const hid of m.hosts) {
        const host = HOST_PRESETS.find((p) => p.id === hid)!;
        const v = unfloored(spec, host[field]);
        if (v < min)
          return {
            axis,
            error: `${spec} would give ${v} ${what} on host ${hid} (it has ${host[field]}${min > 0 ? "; a counter has at least 1 bit" : ""})`,
          };
      }
  if (!m.pmu.some((p) => m.kvm.some((k) => pmuFitsKvm(p, k)))) {
    const error = m.pmu.includes("mediated")
      ? `--pmu ${m.pmu.join(",")} with --kvm ${m.kvm.join(",")} is no configuration: mediated needs a kernel with the mediated vPMU (base, v4, fix or a policy file) and legacy/off the perf-backed kernel (legacy)`
      : `--pmu ${m.pmu.join(",")} runs the perf-backed kernel, and --kvm ${m.kvm.join(",")} names only kernels with the mediated vPMU: add legacy to --kvm or use --pmu mediated`;
    return { axis: "kvm", error };
  }
  return null;
}

/** The guest request for one host: relative specs resolved, caps parsed. */
export function resolveGuest(
  host: HostPreset,
  version: number,
  gp: RelativeSpec,
  gpWidth: RelativeSpec,
  fixed: RelativeSpec,
  fixedWidth: RelativeSpec,
  caps: CapsSpec,
): GuestRequest {
  const c = parseCaps(caps) ?? { pdcm: false, caps: 0n };
  return {
    version,
    nGP: resolve(gp, host.nGP),
    wGP: resolve(gpWidth, host.wGP),
    nFX: resolve(fixed, host.nFX),
    wFX: resolve(fixedWidth, host.wFX),
    pdcm: c.pdcm,
    perfCapabilities: c.caps,
  };
}

function guestKey(g: GuestRequest): string {
  return `${g.version}/${g.nGP}/${g.wGP}/${g.nFX}/${g.wFX}/${g.pdcm ? 1 : 0}/${g.perfCapabilities.toString(16)}`;
}

/**
 * Every configuration, in the fixed order host → pmu → kvm → guest model → activity → backdoor, with
 * guest models that resolve to the same values on a host kept once (first spelling wins), and only the
 * pmu × kvm pairs that are one kernel (pmuFitsKvm: a V4 kernel "with --pmu legacy" is a configuration
 * `vpmu run` refuses, so the sweep neither runs nor reports it under that name). The order
 * (and so every `index`) depends only on the matrix.
 */
export function expandMatrix(m: SweepMatrix): SweepConfig[] {
  const out: SweepConfig[] = [];
  for (const hid of m.hosts) {
    const host = HOST_PRESETS.find((p) => p.id === hid)!;
    const guests: GuestRequest[] = [];
    const seen = new Set<string>();
    for (const v of m.versions)
      for (const gp of m.gp)
        for (const gw of m.gpWidth)
          for (const fx of m.fixed)
            for (const fw of m.fixedWidth)
              for (const caps of m.caps) {
                const g = resolveGuest(host, v, gp, gw, fx, fw, caps);
                const k = guestKey(g);
                if (seen.has(k)) continue;
                seen.add(k);
                guests.push(g);
              }
    for (const pmu of m.pmu)
      for (const kvm of m.kvm)
        if (pmuFitsKvm(pmu, kvm))
          for (const guest of guests)
            for (const activity of m.activity)
              for (const vmwareBackdoor of m.vmwareBackdoor)
                out.push({ index: out.length, host: hid, pmu, kvm, activity, vmwareBackdoor, guest });
  }
  return out;
}

/** "v2 gp 8×48 fx 4×48 caps 0x2000" — the guest model in one short phrase. */
export function guestLabel(g: GuestRequest): string {
  const caps = g.pdcm ? `caps 0x${g.perfCapabilities.toString(16)}` : "no PDCM";
  return `v${g.version} gp ${g.nGP}×${g.wGP} fx ${g.nFX}×${g.wFX} ${caps}`;
}

/** "spr mediated v4 | v2 gp 8×48 fx 4×48 caps 0x2000 | topdown" — one configuration in one line. */
export function configLabel(c: SweepConfig): string {
  return `${c.host} ${c.pmu} ${c.kvm} | ${guestLabel(c.guest)} | ${c.activity}${c.vmwareBackdoor ? " | vmware-backdoor" : ""}`;
}

/** A configuration as plain JSON (bigint caps as hex). */
export function configJson(c: SweepConfig): Record<string, unknown> {
  const g = c.guest;
  return {
    index: c.index,
    host: c.host,
    pmu: c.pmu,
    kvm: c.kvm,
    activity: c.activity,
    vmwareBackdoor: c.vmwareBackdoor,
    guest: {
      version: g.version,
      gp: g.nGP,
      gpWidth: g.wGP,
      fixed: g.nFX,
      fixedWidth: g.wFX,
      pdcm: g.pdcm,
      perfCapabilities: `0x${g.perfCapabilities.toString(16)}`,
    },
  };
}

/** Inverse of configJson (used by the worker protocol). */
export function configFromJson(o: Record<string, unknown>): SweepConfig {
  const g = o.guest as Record<string, unknown>;
  return {
    index: o.index as number,
    host: o.host as HostPresetId,
    pmu: o.pmu as PmuMode,
    kvm: o.kvm as string,
    activity: o.activity as string,
    vmwareBackdoor: o.vmwareBackdoor as boolean,
    guest: {
      version: g.version as number,
      nGP: g.gp as number,
      wGP: g.gpWidth as number,
      nFX: g.fixed as number,
      wFX: g.fixedWidth as number,
      pdcm: g.pdcm as boolean,
      perfCapabilities: BigInt(g.perfCapabilities as string),
    },
  };
}
