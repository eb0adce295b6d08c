/**
 * Host→guest leak records: a guest obtained a value it does not own from hardware (pass-through RDMSR,
 * native RDPMC) — with the register, the path (instruction and RIP), the value, its owner and where it
 * came from, and the policy rule that let the access through without an exit. Facts: spec §12.3 I-4, §14.
 */
import type { PhysicalPmu } from "../host/physical-pmu.js";
import { msrName } from "./msr-name.js";

export interface LeakRecord {
  readonly register: string;
  readonly msr: number;
  /** "RDPMC ecx=0x20000000" or "RDMSR 0x38e". */
  readonly path: string;
  readonly rip: number;
  readonly value: bigint;
  readonly owner: string;
  readonly source: string;
  /** The decision that let the access run natively ("R-INT-5: … match the host exactly"). */
  readonly rule: string;
}

/**
 * A guest read `msr` from hardware natively. Returns a leak record if the value is not the reader's own
 * (power-on reset values carry no host data and are not leaks), else null.
 */
export function checkNativeRead(phys: PhysicalPmu, reader: string, msr: number, value: bigint, path: string, rip: number, rule: string): LeakRecord | null {
  const o = phys.owner(msr);
  if (o.owner === reader || o.source === "power-on reset") return null;
  return { register: msrName(msr), msr, path, rip, value, owner: o.owner, source: o.source, rule };
}

/** One line for a report: "leak: MSR_PERF_METRICS (0x329) = 0x8899aabb11223344 owned by host (--host-msr) via RDPMC ecx=0x20000000 at rip 0x100005 [R-INT-5: …]". */
export function formatLeak(l: LeakRecord): string {
  return `leak: ${l.register} = 0x${l.value.toString(16)} owned by ${l.owner} (${l.source}) via ${l.path} at rip 0x${l.rip.toString(16)} [${l.rule}]`;
}
