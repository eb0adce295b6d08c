/**
 * The sweep driver: the jobs of a matrix or random-probe sweep (configuration × program, each with a
 * stable position for sharding and ordering), program loading (each distinct probe assembled once and
 * its bytes reused), and running a list of jobs. Pure: no I/O, no clock; callers split jobs across
 * worker threads and merge the records, which are ordered by position, not by completion.
 */
import { assemble } from "../asm/assemble.js";
import { SharedDecodes } from "../isa/shared-decodes.js";
import type { SweepConfig } from "./matrix.js";
import { FUZZ_MEM, FUZZ_ORIGIN, fuzzPlan, fuzzSource } from "./fuzz.js";
import { PROBE_MEM, PROBE_ORIGIN, probeKey, probeShape, probeSource, type ProbeKind } from "./probes.js";
import { runOne, type LoadedProgram, type PolicyTable, type RunOptions, type RunRecord } from "./run.js";
import { inShard, type Shard } from "./shard.js";

/** A program of the sweep: a built-in probe (generated per guest model), a random probe, or a user's
 *  program (already assembled by the caller). */
export type ProgramSpec =
  | { readonly kind: "probe"; readonly probe: ProbeKind }
  | { readonly kind: "fuzz"; readonly seed: number; readonly index: number }
  | {
      readonly kind: "user";
      readonly name: string;
      readonly bytes: Uint8Array;
      readonly origin: number;
      readonly memSize: number;
      /** Its instruction limit (`vpmu sweep --max-insns`, default USER_MAX_INSNS): a run that reaches it
       *  did not complete. */
      readonly maxInsns: number;
    };

export function programName(p: ProgramSpec): string {
  return p.kind === "probe" ? `probe:${p.probe}` : p.kind === "fuzz" ? `fuzz:${p.seed}:${p.index}` : p.name;
}

/** Instruction limit per run: probes run a few thousand instructions; a user program gets more room
 *  by default (`vpmu sweep --max-insns` changes it, and the report says which limit applied). */
export const PROBE_MAX_INSNS = 1_000_000;
export const USER_MAX_INSNS = 10_000_000;

export interface Job {
  /** Position in the full (unsharded) job list: shards and report order use it. */
  readonly position: number;
  readonly config: SweepConfig;
  readonly program: number;
}

/** Every configuration × every program, configuration-major. */
export function matrixJobs(configs: readonly SweepConfig[], programs: number): Job[] {
  const out: Job[] = [];
  for (const c of configs) for (let p = 0; p < programs; p++) out.push({ position: out.length, config: c, program: p });
  return out;
}

/** The random-probe jobs (fuzz.ts fuzzPlan) over `configs`. */
export function fuzzJobs(configs: readonly SweepConfig[], seed: number, runs: number, programs: number): Job[] {
  return fuzzPlan(seed, configs.length, runs, programs).map((x, position) => ({
    position,
    config: configs[x.config],
    program: x.program,
  }));
}

export function shardJobs(jobs: readonly Job[], shard: Shard): Job[] {
  return jobs.filter((j) => inShard(j.position, shard));
}

/** A loaded program, or why it could not be assembled. */
export type LoadResult = LoadedProgram | { readonly error: string };

/** Assembles each distinct program once (probes per guest shape, random probes per index). Worker threads
 *  share the work (schedule.ts): each assembles the programs it owns (`key` names them), hands them on
 *  (`fresh`) and adopts the others', so no program is assembled twice. */
export class ProgramLoader {
  private readonly cache = new Map<string, LoadResult>();
  /** Keys this loader assembled itself, in order, and how many of them `fresh` has handed out. */
  private readonly made: string[] = [];
  private reported = 0;
  /** Per program key: the instructions its runs in this thread decoded (src/isa/shared-decodes.ts). */
  private readonly decodes = new Map<string, SharedDecodes>();
  constructor(readonly specs: readonly ProgramSpec[]) {}

  /** Whether program `program` is assembled here (a user's program comes assembled). */
  assembles(program: number): boolean {
    return this.specs[program].kind !== "user";
  }

  /** The programs this loader assembled since the last call (for the other worker threads). */
  fresh(): [string, LoadResult][] {
    const out = this.made.slice(this.reported).map((k): [string, LoadResult] => [k, this.cache.get(k)!]);
    this.reported = this.made.length;
    return out;
  }

  /** The name of the image program `program` runs as on `config` (jobs with one key run one image). */
  key(program: number, config: SweepConfig): string {
    const spec = this.specs[program];
    if (spec.kind === "user") return `user/${program}`;
    return spec.kind === "probe" ? probeKey(spec.probe, probeShape(config.guest)) : `fuzz/${spec.seed}/${spec.index}`;
  }

  /** Every program loaded so far, by key. */
  entries(): [string, LoadResult][] {
    return [...this.cache];
  }

  /** Take programs another loader of the same specs assembled. */
  adopt(entries: readonly (readonly [string, LoadResult])[]): void {
    for (const [k, p] of entries) if (!this.cache.has(k)) this.cache.set(k, p);
  }

  /** The decoded instructions shared by this thread's runs of the image `program` runs as on `config`
   *  (a run decodes exactly what it would without them). */
  sharedDecodes(program: number, config: SweepConfig): SharedDecodes {
    const key = this.key(program, config);
    let d = this.decodes.get(key);
    if (d === undefined) this.decodes.set(key, (d = new SharedDecodes()));
    return d;
  }

  load(program: number, config: SweepConfig): LoadResult {
    const key = this.key(program, config);
    let p = this.cache.get(key);
    if (p) return p;
    const spec = this.specs[program];
    if (spec.kind === "user") {
      p = { bytes: spec.bytes, origin: spec.origin, memSize: spec.memSize, maxInsns: spec.maxInsns, probe: false };
      this.cache.set(key, p);
      return p;
    }
    const source =
      spec.kind === "probe" ? probeSource(spec.probe, probeShape(config.guest)) : fuzzSource(spec.seed, spec.index);
    const a = assemble(source, { file: `${programName(spec)}.s` });
    if (!a.ok) {
      const d = a.error[0];
      p = { error: `${programName(spec)} did not assemble: ${d ? `${d.line}:${d.col}: ${d.message}` : "no output"}` };
    } else {
      const origin = spec.kind === "probe" ? PROBE_ORIGIN : FUZZ_ORIGIN;
      p = {
        bytes: a.value.bytes,
        origin,
        memSize: spec.kind === "probe" ? PROBE_MEM : FUZZ_MEM,
        maxInsns: PROBE_MAX_INSNS,
        probe: true,
      };
    }
    this.cache.set(key, p);
    this.made.push(key);
    return p;
  }
}

/** Run jobs in order; `onDone` (optional) is told after each one (progress). */
export function runJobs(
  jobs: readonly Job[],
  loader: ProgramLoader,
  policies: PolicyTable,
  onDone?: (done: number) => void,
  opts: RunOptions = {},
): RunRecord[] {
  const out: RunRecord[] = [];
  for (const j of jobs) {
    const prog = loader.load(j.program, j.config);
    if ("error" in prog)
      out.push({
        config: j.config.index,
        program: j.program,
        outcome: "failed",
        detail: prog.error,
        realised: null,
        exits: 0,
        findings: [],
      });
    else out.push(runOne(j.config, j.program, prog, policies, opts, loader.sharedDecodes(j.program, j.config)));
    onDone?.(out.length);
  }
  return out;
}
