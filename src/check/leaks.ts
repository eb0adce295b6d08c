/**
 * Leak records. Host→guest: a guest obtained a value it does not own from hardware (pass-through RDMSR,
 * native RDPMC). Guest→host: a pass-through write put into hardware bits that the hardware accepts but
 * KVM's model of the guest reserves, so the guest controls host-visible state KVM believes it cannot.
 * Each names the register, the path (instruction and RIP), the value, its owner and where it came from,
 * and the policy rule that let the access through without an exit. Facts: model.md §5.3 (GLOBAL_CTRL
 * layout), §6.3 steps 4.8–4.9 (global_ctrl_rsvd), §12.3 I-4, §14 (the PERF_METRICS leak, the bit-48 path).
 */
import {
  MSR_CORE_PERF_GLOBAL_CTRL,
  MSR_CORE_PERF_GLOBAL_OVF_CTRL,
  MSR_CORE_PERF_GLOBAL_STATUS,
  MSR_CORE_PERF_GLOBAL_STATUS_SET,
  MSR_IA32_PERFCTR0,
  MSR_IA32_PMC0,
} from "../arch/msr-index.js";
import { hardwareGlobalCtrlBits, type PhysicalPmu } from "../host/physical-pmu.js";
import { guestWriteSource } from "../host/provenance.js";
import { msrName } from "./msr-name.js";

export interface LeakRecord {
  /** host→guest: the guest read a value it does not own; guest→host: the guest wrote hardware state
   *  KVM reserves. */
  readonly direction: "host→guest" | "guest→host";
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
export function checkNativeRead(
  phys: PhysicalPmu,
  reader: string,
  msr: number,
  value: bigint,
  path: string,
  rip: number,
  rule: string,
): LeakRecord | null {
  const o = phys.owner(msr);
  if (o.owner === reader || o.source === "power-on reset") return null;
  return {
    direction: "host→guest",
    register: msrName(msr),
    msr,
    path,
    rip,
    value,
    owner: o.owner,
    source: o.source,
    rule,
  };
}

/**
 * A pass-through GLOBAL_CTRL write by `writer` that set bits the hardware defines but KVM's
 * `global_ctrl_rsvd` reserves for this guest (V4: bit 48 for a guest without PERF_METRICS, model.md §14.2).
 * Bits the hardware itself reserves are not reported (real silicon would #GP them). Else null.
 */
export function checkNativeGlobalCtrlWrite(
  phys: Pick<PhysicalPmu, "nGP" | "nFX" | "hasPerfMetrics">,
  globalCtrlRsvd: bigint,
  msr: number,
  value: bigint,
  rip: number,
  writer: string,
  rule: string,
): LeakRecord | null {
  if (msr !== MSR_CORE_PERF_GLOBAL_CTRL) return null;
  const forbidden = value & globalCtrlRsvd & hardwareGlobalCtrlBits(phys);
  if (forbidden === 0n) return null;
  return {
    direction: "guest→host",
    register: msrName(msr),
    msr,
    path: `WRMSR 0x${msr.toString(16)} (bits 0x${forbidden.toString(16)} reserved by KVM's global_ctrl_rsvd)`,
    rip,
    value,
    owner: writer,
    source: guestWriteSource(rip),
    rule,
  };
}

/** One line for a report: "leak: MSR_PERF_METRICS (0x329) = 0x8899aabb11223344 owned by host (--host-msr) via RDPMC ecx=0x20000000 at rip 0x100005 [R-INT-5: …]";
 *  a guest→host one says "set in hardware by vcpu:0 via WRMSR 0x38f (bits … reserved …)". */
export function formatLeak(l: LeakRecord): string {
  if (l.direction === "guest→host" && l.path.startsWith("left in hardware"))
    return `leak: ${l.register} = 0x${l.value.toString(16)} owned by ${l.owner} (${l.source}) ${l.path} at rip 0x${l.rip.toString(16)} [${l.rule}]`;
  if (l.direction === "guest→host")
    return `leak: ${l.register} = 0x${l.value.toString(16)} set in hardware by ${l.owner} via ${l.path} at rip 0x${l.rip.toString(16)} [${l.rule}]`;
  return `leak: ${l.register} = 0x${l.value.toString(16)} owned by ${l.owner} (${l.source}) via ${l.path} at rip 0x${l.rip.toString(16)} [${l.rule}]`;
}

/** Registers a guest can write without an exit, as canonical indexes: every PMU MSR whose write
 *  passes through, a GP counter through either alias, and GLOBAL_STATUS through OVF_CTRL / STATUS_SET. */
export function writableRegisters(phys: PhysicalPmu, writePassThrough: (msr: number) => boolean): number[] {
  const set = new Set<number>();
  for (const msr of phys.msrIndexes()) if (writePassThrough(msr)) set.add(msr);
  for (let n = 0; n < phys.nGP; n++) if (writePassThrough(MSR_IA32_PMC0 + n)) set.add(MSR_IA32_PERFCTR0 + n);
  if (writePassThrough(MSR_CORE_PERF_GLOBAL_OVF_CTRL) || writePassThrough(MSR_CORE_PERF_GLOBAL_STATUS_SET))
    set.add(MSR_CORE_PERF_GLOBAL_STATUS);
  return [...set].sort((a, b) => a - b);
}

/**
 * Guest→host after KVM's put, while the host runs (before perf restores its events): a register the
 * guest can write natively still holds a non-zero value the guest owns — KVM's put did not scrub it
 * (model.md §12.2; the generalisation of I-1 to whatever a policy lets the guest write). `rule(msr)` names
 * the decision that let the guest write it; `rip` is where the guest left the CPU. `slots[i]` is
 * `phys.slotOf(writable[i])`, computed when the intercepts change. `changed` (PhysicalPmu.takeChanged) limits
 * the check to slots with their bit set (−1: every slot); `slotIndex[s]` (if given) is slot s's index in `slots`
 * or −1.
 */
export function checkLeftAfterPut(
  phys: PhysicalPmu,
  owner: string,
  writable: readonly number[],
  slots: Int32Array,
  rip: number,
  rule: (msr: number) => string,
  changed = -1,
  slotIndex: Int32Array | null = null,
): readonly LeakRecord[] {
  // Runs at every put: integers only (owner ids, register-file slots); nothing is allocated unless
  // something is found. With a changed mask, only the writable slots with their bit set are visited.
  let out: LeakRecord[] | null = null;
  const me = phys.provs.ownerId(owner);
  if (changed !== -1) {
    let m = changed;
    while (m !== 0) {
      const s = 31 - Math.clz32(m & -m);
      m &= m - 1;
      // A slot another owner holds gives no record (leftBehind's first test, here without the call: after
      // every exit the GLOBAL_CTRL the exit loaded for the host is such a slot).
      if (phys.provs.owners[phys.prov[s]!] !== me) continue;
      const i = slotIndex !== null ? (slotIndex[s] ?? -1) : slots.indexOf(s);
      if (i < 0) continue;
      const l = leftBehind(phys, me, owner, writable[i]!, s, rip, rule);
      if (l !== null) (out ??= []).push(l);
    }
    return out ?? NONE;
  }
  for (let i = 0; i < slots.length; i++) {
    const l = leftBehind(phys, me, owner, writable[i]!, slots[i]!, rip, rule);
    if (l !== null) (out ??= []).push(l);
  }
  return out ?? NONE;
}
const NONE: readonly LeakRecord[] = [];

/** Slot `s` (MSR `msr`) holds a non-zero value owner `me` put there, or null. */
function leftBehind(
  phys: PhysicalPmu,
  me: number,
  owner: string,
  msr: number,
  s: number,
  rip: number,
  rule: (msr: number) => string,
): LeakRecord | null {
  if (s < 0 || phys.provs.owners[phys.prov[s]!] !== me || (s < phys.sFcc ? phys.regs[s] === 0 : phys.isZeroAt(s)))
    return null;
  const v = phys.rdmsr(msr);
  if (v === null || v === 0n) return null;
  return {
    direction: "guest→host",
    register: msrName(msr),
    msr,
    path: "left in hardware after put (KVM did not scrub it; model.md §12.3 I-1)",
    rip,
    value: v,
    owner,
    source: phys.owner(msr).source,
    rule: rule(msr),
  };
}
