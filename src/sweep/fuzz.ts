/**
 * Random-probe mode: seeded guest programs that mix random RDPMC indices, PMU MSR reads and writes and
 * forced exits, and a seeded choice of configurations from the matrix — so leaks are found without
 * being told where to look. Same seed, same programs, same runs. RDPMC/MSR encodings: model.md §4, §9.1.
 */
import { PROBE_MEM, PROBE_ORIGIN, probeFrame } from "./probes.js";

/** mulberry32: a small, well-mixed 32-bit PRNG (public-domain construction). Deterministic per seed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

/** Uniform integer in [0, n). */
function below(r: () => number, n: number): number {
  return r() % n;
}

/** RDPMC types (ECX[31:16] << 16, model.md §9.1): GP, fixed, metrics, VMware pseudo-PMCs, undefined types. */
const RDPMC_TYPES = [0x0, 0x40000000, 0x20000000, 0x10000, 0x80000000, 0xc0000000, 0x60000000];
/** PMU MSR families and single MSRs (model.md §4): [base, how many indexes past the base to try]. */
const MSR_BASES: readonly (readonly [number, number])[] = [
  [0xc1, 10],
  [0x4c1, 10],
  [0x186, 10],
  [0x309, 6],
  [0x329, 1],
  [0x345, 1],
  [0x38d, 6],
  [0x3f1, 2],
  [0x600, 1],
  [0x1a0, 1],
  [0x1d9, 1],
];

function randomEcx(r: () => number): number {
  const type = RDPMC_TYPES[below(r, RDPMC_TYPES.length)];
  // Index: half the time 0, else small (in and just past every counter range), sometimes any 16 bits.
  const k = below(r, 8);
  const index = k < 4 ? 0 : k < 7 ? below(r, 10) : below(r, 0x10000);
  return (type | (type === 0x10000 ? below(r, 4) : index)) >>> 0;
}

function randomMsr(r: () => number): number {
  const [base, n] = MSR_BASES[below(r, MSR_BASES.length)];
  return base + below(r, n);
}

function randomValue(r: () => number): string {
  switch (below(r, 5)) {
    case 0:
      return `0x${(1n << BigInt(below(r, 64))).toString(16)}`; // one bit: every control bit, eventually
    case 1:
      return `0x${((BigInt(r()) << 32n) | BigInt(r())).toString(16)}`;
    case 2:
      return `0x${below(r, 0x10000).toString(16)}`;
    case 3:
      return "0xffffffffffffffff";
    default:
      return "0";
  }
}

/** Operations per random program. */
export const FUZZ_OPS = 48;

/**
 * Random program `index` of `seed`: FUZZ_OPS operations (RDPMC 35 %, RDMSR 30 %, WRMSR 25 %, CPUID
 * 10 %) inside the probe frame (#GP skips the 2-byte instruction; exit status 0).
 */
export function fuzzSource(seed: number, index: number): string {
  const r = prng((seed ^ Math.imul(index + 1, 0x9e3779b9)) >>> 0);
  const body: string[] = [];
  for (let i = 0; i < FUZZ_OPS; i++) {
    const k = below(r, 20);
    if (k < 7) body.push(`        mov ecx, 0x${randomEcx(r).toString(16)}`, "        rdpmc");
    else if (k < 13) body.push(`        mov ecx, 0x${randomMsr(r).toString(16)}`, "        rdmsr");
    else if (k < 18)
      body.push(
        `        mov ecx, 0x${randomMsr(r).toString(16)}`,
        `        mov rax, ${randomValue(r)}`,
        "        mov rdx, rax",
        "        shr rdx, 32",
        "        wrmsr",
      );
    else body.push("        xor eax, eax", "        xor ecx, ecx", "        cpuid");
  }
  return probeFrame([`; vpmu-lab random probe: seed ${seed}, program ${index}`], body);
}

/** Default random-probe budget: runs, and distinct random programs they cycle through. */
export const FUZZ_DEFAULT_RUNS = 10_000;
export const FUZZ_DEFAULT_PROGRAMS = 64;

/** The (configuration position, program) pairs of a random-probe sweep over `nConfigs` configurations:
 *  run j uses program j mod `programs` and a seeded uniform choice of configuration. */
export function fuzzPlan(
  seed: number,
  nConfigs: number,
  runs: number,
  programs: number,
): { config: number; program: number }[] {
  const r = prng((seed ^ 0x5eed5eed) >>> 0);
  const out: { config: number; program: number }[] = [];
  for (let j = 0; j < runs; j++) out.push({ config: below(r, nConfigs), program: j % programs });
  return out;
}

export { PROBE_MEM as FUZZ_MEM, PROBE_ORIGIN as FUZZ_ORIGIN };
