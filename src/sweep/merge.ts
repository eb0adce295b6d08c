/**
 * Shard reports → one report: `vpmu sweep --shard i/n --json` documents carry their run records and
 * configurations; merging them re-groups the union, so n CI jobs end in the same summary one machine
 * would have printed. Inputs are validated (same mode, seed and programs; no run twice): errors are values.
 */
import { configFromJson, configJson, type SweepConfig } from "./matrix.js";
import type { SummariseInput } from "./report.js";
import type { Finding, RealisedGuest, RunRecord } from "./run.js";

const hex = (v: bigint | number) => `0x${v.toString(16)}`;

/** Run records as JSON (bigints as hex strings). */
export function recordsJson(records: readonly RunRecord[]): Record<string, unknown>[] {
  return records.map((r) => ({
    config: r.config,
    program: r.program,
    outcome: r.outcome,
    detail: r.detail,
    exits: r.exits,
    realised: r.realised && { ...r.realised, perfCapabilities: hex(r.realised.perfCapabilities) },
    findings: r.findings.map((f) => ({ ...f, msr: f.msr, rip: f.rip, value: hex(f.value) })),
  }));
}

/** The machine-readable part of a sweep document that merging needs. */
export function mergeableJson(inp: SummariseInput): Record<string, unknown> {
  return {
    configsRun: [...inp.configs.values()].sort((a, b) => a.index - b.index).map(configJson),
    records: recordsJson(inp.records),
  };
}

function recordFromJson(o: Record<string, unknown>): RunRecord {
  const r = o.realised as Record<string, unknown> | null;
  const realised: RealisedGuest | null = r && {
    version: r.version as number,
    nGP: r.nGP as number,
    wGP: r.wGP as number,
    nFX: r.nFX as number,
    wFX: r.wFX as number,
    perfCapabilities: BigInt(r.perfCapabilities as string),
  };
  // The fields recordsJson wrote, in their order (merged JSON prints as one machine's would).
  const findings = (o.findings as Record<string, unknown>[]).map(
    (f) => ({ ...f, value: BigInt(f.value as string) }) as Finding,
  );
  return {
    config: o.config as number,
    program: o.program as number,
    outcome: o.outcome as RunRecord["outcome"],
    detail: o.detail as string,
    exits: o.exits as number,
    realised,
    findings,
  };
}

export type MergeResult =
  | { readonly ok: true; readonly input: SummariseInput }
  | { readonly ok: false; readonly error: string };

/** Merge parsed `--json` documents (`names` label them in errors). */
export function mergeSweepDocuments(names: readonly string[], docs: readonly unknown[]): MergeResult {
  if (docs.length === 0) return { ok: false, error: "nothing to merge" };
  const configs = new Map<number, SweepConfig>();
  const records: RunRecord[] = [];
  const seen = new Set<string>();
  let first: { mode: string; seed: unknown; programs: string; maxInsns: unknown } | null = null;
  let programs: string[] = [];
  let maxInsns: number | undefined;
  const shards: string[] = [];
  for (let i = 0; i < docs.length; i++) {
    const d = docs[i] as Record<string, unknown> | null;
    const name = names[i] ?? `document ${i + 1}`;
    if (
      typeof d !== "object" ||
      d === null ||
      !Array.isArray(d.records) ||
      !Array.isArray(d.configsRun) ||
      !Array.isArray(d.programs)
    ) {
      return { ok: false, error: `${name}: not a vpmu sweep --json report` };
    }
    const key = { mode: String(d.mode), seed: d.seed, programs: JSON.stringify(d.programs), maxInsns: d.maxInsns };
    if (first === null) {
      first = key;
      programs = d.programs as string[];
      if (typeof d.maxInsns === "number") maxInsns = d.maxInsns;
    } else if (
      key.mode !== first.mode ||
      key.seed !== first.seed ||
      key.programs !== first.programs ||
      key.maxInsns !== first.maxInsns
    ) {
      return {
        ok: false,
        error: `${name}: a different sweep (mode, seed, programs or --max-insns differ from ${names[0]})`,
      };
    }
    shards.push(String(d.shard));
    try {
      for (const c of d.configsRun as Record<string, unknown>[]) {
        const cfg = configFromJson(c);
        configs.set(cfg.index, cfg);
      }
      for (const r of d.records as Record<string, unknown>[]) {
        const rec = recordFromJson(r);
        if (first.mode !== "fuzz" && seen.has(`${rec.config}/${rec.program}`))
          return {
            ok: false,
            error: `${name}: configuration ${rec.config} × program ${rec.program} is already in an earlier report (overlapping shards?)`,
          };
        seen.add(`${rec.config}/${rec.program}`);
        records.push(rec);
      }
    } catch {
      return { ok: false, error: `${name}: malformed records or configurations` };
    }
  }
  return {
    ok: true,
    input: {
      mode: first!.mode === "fuzz" ? "fuzz" : "matrix",
      seed: typeof first!.seed === "number" ? first!.seed : undefined,
      shard: `merged ${shards.join(" + ")}`,
      configs,
      programs,
      records,
      ...(maxInsns !== undefined ? { maxInsns } : {}),
    },
  };
}
