/**
 * The isolation checker's sweeps (issue 7): the configuration matrix, built-in and random probe programs,
 * running them on the small KVM with the VMX layer, grouping findings into the smallest conditions that
 * explain them, and sharding. Pure library: the CLI (src/cli/commands/sweep.ts) does files, threads, output.
 */
export {
  DEFAULT_MATRIX,
  PMU_MODES,
  BUILTIN_KVM,
  expandMatrix,
  parseMatrix,
  withAxes,
  parseCaps,
  resolveGuest,
  guestLabel,
  configLabel,
  configJson,
  configFromJson,
  matrixProblem,
  MATRIX_AXES,
  pmuFitsKvm,
} from "./matrix.js";
export type {
  SweepMatrix,
  SweepConfig,
  GuestRequest,
  PmuMode,
  RelativeSpec,
  CapsSpec,
  MatrixResult,
} from "./matrix.js";
export {
  PROBE_KINDS,
  PROBE_ORIGIN,
  PROBE_MEM,
  readProbe,
  writeProbe,
  probeSource,
  probeShape,
  readMsrList,
  rdpmcList,
  controlMsrList,
} from "./probes.js";
export type { ProbeKind, ProbeShape } from "./probes.js";
export { fuzzSource, fuzzPlan, prng, FUZZ_OPS, FUZZ_DEFAULT_RUNS, FUZZ_DEFAULT_PROGRAMS } from "./fuzz.js";
export { explain, sentence } from "./group.js";
export type { Attribute, AttrVector, Literal, Condition, Explanation } from "./group.js";
export { parseShard, inShard, selectShard } from "./shard.js";
export type { Shard, ShardParse } from "./shard.js";
export { runOne, lookupPolicy, sweepMachineSpec } from "./run.js";
export type { LoadedProgram, Finding, RealisedGuest, RunRecord, PolicyTable, RunOptions } from "./run.js";
export {
  matrixJobs,
  fuzzJobs,
  shardJobs,
  runJobs,
  ProgramLoader,
  programName,
  PROBE_MAX_INSNS,
  USER_MAX_INSNS,
} from "./sweep.js";
export type { ProgramSpec, Job, LoadResult } from "./sweep.js";
export { ChunkPlan } from "./schedule.js";
export {
  summarise,
  formatReport,
  reportJson,
  configAttributes,
  configOptions,
  findingSignature,
  SWEEP_ATTRIBUTES,
} from "./report.js";
export type { SweepReport, FindingGroup, FindingExample, SummariseInput } from "./report.js";
export { mergeSweepDocuments, mergeableJson, recordsJson } from "./merge.js";
export type { MergeResult } from "./merge.js";
