/**
 * The isolation invariants of the mediated context switch as checks over the physical PMU (model.md §12.3):
 * I-1 after put, I-2 while the switch runs, I-3 after load, I-4 while the guest runs. Each returns the
 * violations (empty = holds), naming register, value, expectation and the value's owner.
 */
import {
  MSR_CORE_PERF_FIXED_CTR0,
  MSR_CORE_PERF_FIXED_CTR_CTRL,
  MSR_CORE_PERF_GLOBAL_CTRL,
  MSR_CORE_PERF_GLOBAL_STATUS,
  MSR_IA32_EVNTSEL0,
  MSR_IA32_PERFCTR0,
  MSR_PERF_METRICS,
} from "../arch/msr-index.js";
import type { PhysicalPmu } from "../host/physical-pmu.js";
import type { KvmPmu } from "../pmu/pmu.js";
import { msrName } from "./msr-name.js";

export type Invariant = "I-1" | "I-2" | "I-3" | "I-4";

export interface Violation {
  readonly invariant: Invariant;
  readonly register: string;
  readonly msr: number;
  readonly value: bigint;
  readonly expected: string;
  readonly owner: string;
  readonly source: string;
}

function expectValue(out: Violation[], inv: Invariant, phys: PhysicalPmu, msr: number, want: bigint): void {
  const v = phys.rdmsr(msr);
  if (v === null || v === want) return;
  const o = phys.owner(msr);
  out.push({
    invariant: inv,
    register: msrName(msr),
    msr,
    value: v,
    expected: `0x${want.toString(16)}`,
    owner: o.owner,
    source: o.source,
  });
}

/** I-1 (after KVM's put, before perf restores host events): GLOBAL_CTRL, GLOBAL_STATUS, FIXED_CTR_CTRL,
 *  every guest-exposed counter and selector are 0; PERF_METRICS too, only for a guest that has it. */
export function checkAfterPut(phys: PhysicalPmu, pmu: KvmPmu, perfMetrics: boolean): Violation[] {
  const out: Violation[] = [];
  expectValue(out, "I-1", phys, MSR_CORE_PERF_GLOBAL_CTRL, 0n);
  expectValue(out, "I-1", phys, MSR_CORE_PERF_GLOBAL_STATUS, 0n);
  expectValue(out, "I-1", phys, MSR_CORE_PERF_FIXED_CTR_CTRL, 0n);
  for (let n = 0; n < pmu.nGP; n++) {
    expectValue(out, "I-1", phys, MSR_IA32_PERFCTR0 + n, 0n);
    expectValue(out, "I-1", phys, MSR_IA32_EVNTSEL0 + n, 0n);
  }
  for (let i = 0; i < pmu.nFX; i++) expectValue(out, "I-1", phys, MSR_CORE_PERF_FIXED_CTR0 + i, 0n);
  if (perfMetrics) expectValue(out, "I-1", phys, MSR_PERF_METRICS, 0n);
  return out;
}

/** I-2: no counter counts while the switch runs (hardware GLOBAL_CTRL = 0). */
export function checkNotCounting(phys: PhysicalPmu): Violation[] {
  const out: Violation[] = [];
  expectValue(out, "I-2", phys, MSR_CORE_PERF_GLOBAL_CTRL, 0n);
  return out;
}

/** I-3 (after load, before VM entry): guest counters, hardware selector copies, FIXED_CTR_CTRL (hardware
 *  copy) and GLOBAL_STATUS hold the guest's saved values; PERF_METRICS only for a guest that has it. */
export function checkAfterLoad(phys: PhysicalPmu, pmu: KvmPmu, perfMetrics: boolean): Violation[] {
  const out: Violation[] = [];
  for (let n = 0; n < pmu.nGP; n++) {
    expectValue(out, "I-3", phys, MSR_IA32_PERFCTR0 + n, BigInt(pmu.gp[n].counter));
    expectValue(out, "I-3", phys, MSR_IA32_EVNTSEL0 + n, pmu.gp[n].eventselHw);
  }
  for (let i = 0; i < pmu.nFX; i++)
    expectValue(out, "I-3", phys, MSR_CORE_PERF_FIXED_CTR0 + i, BigInt(pmu.fixed[i].counter));
  expectValue(out, "I-3", phys, MSR_CORE_PERF_FIXED_CTR_CTRL, pmu.fixedCtrCtrlHw);
  expectValue(out, "I-3", phys, MSR_CORE_PERF_GLOBAL_STATUS, pmu.globalStatus);
  if (perfMetrics) expectValue(out, "I-3", phys, MSR_PERF_METRICS, pmu.perfMetrics);
  return out;
}

/** Violations grouped by invariant and register (a run repeats the same one at every entry), in first-seen
 *  order, with how many times each was seen. */
export function summarizeViolations(vs: readonly Violation[]): (Violation & { readonly count: number })[] {
  const m = new Map<string, Violation & { count: number }>();
  for (const v of vs) {
    const k = `${v.invariant} ${v.msr}`;
    const e = m.get(k);
    if (e) e.count++;
    else m.set(k, { ...v, count: 1 });
  }
  return [...m.values()];
}

/** "I-4 MSR_PERF_METRICS (0x329) = 0x… owned by host (--host-msr), expected a value owned by vcpu:0 (×3)". */
export function formatViolation(v: Violation & { readonly count: number }): string {
  return `${v.invariant} ${v.register} = 0x${v.value.toString(16)} owned by ${v.owner} (${v.source}), expected ${v.expected} (×${v.count})`;
}

/** Hardware registers the guest reaches without an exit: pass-through RDMSR targets, and every register a
 *  native RDPMC can name (R-HW-2: all physical counters and PERF_METRICS). Canonical MSR indexes, sorted. */
export function reachableRegisters(
  phys: PhysicalPmu,
  readPassThrough: (msr: number) => boolean,
  rdpmcNative: boolean,
): number[] {
  const set = new Set<number>();
  for (const msr of phys.msrIndexes()) if (readPassThrough(msr)) set.add(msr);
  for (let n = 0; n < phys.nGP; n++) if (readPassThrough(0x4c1 + n)) set.add(MSR_IA32_PERFCTR0 + n);
  if (readPassThrough(0x390)) set.add(0x390);
  if (rdpmcNative) {
    for (let n = 0; n < phys.nGP; n++) set.add(phys.rdpmcRegister(n));
    for (let i = 0; i < phys.nFX; i++) set.add(phys.rdpmcRegister(0x40000000 | i));
    const m = phys.rdpmcRegister(0x20000000);
    if (m >= 0) set.add(m);
  }
  return [...set].sort((a, b) => a - b);
}

/** I-4 (while the guest runs): every reachable register holds a value owned by this vCPU. Power-on reset
 *  values belong to no one and carry no host data, so they pass. */
export function checkGuestReachable(phys: PhysicalPmu, owner: string, reachable: readonly number[]): Violation[] {
  const out: Violation[] = [];
  for (const msr of reachable) {
    const o = phys.owner(msr);
    if (o.owner === owner || o.source === "power-on reset") continue;
    const v = phys.rdmsr(msr);
    if (v === null) continue;
    out.push({
      invariant: "I-4",
      register: msrName(msr),
      msr,
      value: v,
      expected: `a value owned by ${owner}`,
      owner: o.owner,
      source: o.source,
    });
  }
  return out;
}
