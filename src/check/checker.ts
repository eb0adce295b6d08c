/**
 * The isolation and leak checker as an observer of one vCPU's VMX layer (src/vmx/observer.ts): leaks in both
 * directions on every native access and after every put; with `invariants`, I-1..I-4 at every load, entry
 * and put (costs time per exit). The composition root attaches it. Facts: model.md §12.3, §14.
 */
import { MSR_CORE_PERF_GLOBAL_CTRL } from "../arch/msr-index.js";
import type { PhysicalPmu } from "../host/physical-pmu.js";
import type { VmxObserver } from "../vmx/observer.js";
import type { VmxLayer } from "../vmx/vmx-layer.js";
import {
  checkAfterLoad,
  checkAfterPut,
  checkGuestReachable,
  checkNotCounting,
  reachableRegisters,
  type Violation,
} from "./isolation.js";
import {
  checkLeftAfterPut,
  checkNativeGlobalCtrlWrite,
  checkNativeRead,
  writableRegisters,
  type LeakRecord,
} from "./leaks.js";

/** What `idPhys` holds before the first leak check (an object, so the comparison stays one of objects). */
const NO_PHYS: object = Object.freeze({});

/** Some slot of `mask` (bit s = slot s, not −1) holds a non-zero value of owner id `me`: what every record of
 *  checkLeftAfterPut needs (leftBehind's first test). */
function ownsNonZero(phys: PhysicalPmu, mask: number, me: number): boolean {
  const owners = phys.provs.owners;
  const prov = phys.prov;
  let m = mask;
  while (m !== 0) {
    const s = 31 - Math.clz32(m & -m);
    m &= m - 1;
    if (owners[prov[s]!] === me && !phys.isZeroAt(s)) return true;
  }
  return false;
}

export class IsolationChecker implements VmxObserver {
  readonly leaks: LeakRecord[] = [];
  readonly violations: Violation[] = [];
  /** Physical registers the guest can reach natively (RDMSR pass-through, or RDPMC without exiting). */
  private reachable: number[] = [];
  /** Registers the guest can write natively (checked for values left behind after every put). */
  private writable: number[] = [];
  /** Their register-file slots (PhysicalPmu.slotOf), computed with them. */
  private writableSlots = new Int32Array(0);
  /** Bits of `writableSlots` (PhysicalPmu.takeChanged's layout; −1 when a slot has no bit). */
  private writableMask = -1;
  /** Slot → index in `writable` (−1 for a slot the guest cannot write), for the changed-slot walk. */
  private writableIndex = new Int32Array(0);
  /** Bits of the writable registers' slots (those below 0 have none and give no record), or −1 when one is
   *  at 31 or above: the slots a look at every writable register can find a record in. */
  private writableBits = 0;
  /** The writable set changed: the next leak check after put looks at every writable register. */
  private rescan = true;
  /** Registers already recorded as left behind: one record per register, not one per exit or value. */
  private readonly leftSeen = new Set<number>();

  /** afterLoad, afterEntry and beforePut only check the invariants. */
  readonly switchHooks: boolean;

  /** `invariants`: assert I-1..I-4 at every load, entry and put (`vpmu run --check-isolation`, tests). */
  constructor(readonly invariants: boolean) {
    this.switchHooks = invariants;
  }

  interceptsChanged(vmx: VmxLayer): void {
    const bitmap = vmx.plan.bitmap;
    this.reachable = vmx.isMediated
      ? reachableRegisters(vmx.phys, (m) => !bitmap.exits(m, false), !vmx.vmcs.rdpmcExiting)
      : [];
    this.writable = vmx.isMediated ? writableRegisters(vmx.phys, (m) => !bitmap.exits(m, true)) : [];
    this.writableSlots = Int32Array.from(this.writable, (m) => vmx.phys.slotOf(m));
    let mask = 0;
    for (const s of this.writableSlots) mask = s >= 0 && s < 31 && mask !== -1 ? mask | (1 << s) : -1;
    this.writableMask = mask;
    let bits = 0;
    for (const s of this.writableSlots) if (s >= 0) bits = s < 31 && bits !== -1 ? bits | (1 << s) : -1;
    this.writableBits = bits;
    this.writableIndex = new Int32Array(32).fill(-1);
    this.writableSlots.forEach((s, i) => {
      if (s >= 0 && s < 32 && this.writableIndex[s] === -1) this.writableIndex[s] = i; // the first, as indexOf
    });
    this.rescan = true;
    // The vCPU's owner id, interned now: a new machine's first leak check then runs the code of every later one.
    this.idPhys = vmx.phys;
    this.idOwner = vmx.phys.provs.ownerId(vmx.owner);
  }

  afterLoad(vmx: VmxLayer): void {
    if (!this.invariants) return;
    this.violated(checkAfterLoad(vmx.phys, vmx.vcpu.pmu, vmx.sw.config.perfMetrics));
    this.violated(checkNotCounting(vmx.phys));
  }

  afterEntry(vmx: VmxLayer): void {
    if (this.invariants) this.violated(checkGuestReachable(vmx.phys, vmx.owner, this.reachable));
  }

  beforePut(vmx: VmxLayer): void {
    if (this.invariants) this.violated(checkNotCounting(vmx.phys));
  }

  /** I-3 after put, then guest values KVM did not scrub before the host's events come back (checkLeftAfterPut). */
  afterPut(vmx: VmxLayer): void {
    if (this.invariants) this.checkAfterPut(vmx);
    // Only registers whose value or owner changed since the last check can give a new record: an unchanged
    // one gives the record it gave then (already in leftSeen) or none (checkLeftAfterPut reads nothing else).
    let changed = vmx.phys.takeChanged(this);
    if (this.rescan) changed = -1;
    this.rescan = false;
    if (this.writable.length === 0 || (changed & this.writableMask) === 0) return;
    // A slot another owner holds, or holding 0, gives no record (checkLeftAfterPut's first test): when every
    // slot that can give one is such a slot, nothing is called (after every exit: the GLOBAL_CTRL the exit
    // loaded for the host; after a machine's first put, which looks at every writable register, the zero
    // counters the first load gave the vCPU). Those slots are the changed writable ones, or every writable one
    // (`writableBits`) when `changed` is −1 (a rescan, the first check) — selected, not branched on, so the
    // first check runs the code of every later one (issue 16, W4).
    const all = this.writableBits;
    const look = changed === -1 ? all : changed & this.writableMask;
    if (look !== -1 && !ownsNonZero(vmx.phys, look, this.ownerIdOf(vmx))) return;
    this.leftAfterPut(vmx, changed);
  }

  /** I-3 after put (with `invariants`). */
  private checkAfterPut(vmx: VmxLayer): void {
    this.violated(checkAfterPut(vmx.phys, vmx.vcpu.pmu, vmx.sw.config.perfMetrics));
  }

  /** The leak check after put over the changed writable slots (`changed`, −1: all). */
  private leftAfterPut(vmx: VmxLayer, changed: number): void {
    const found = checkLeftAfterPut(
      vmx.phys,
      vmx.owner,
      this.writable,
      this.writableSlots,
      vmx.vcpu.cpu?.rip ?? 0,
      vmx.writeRule,
      changed & this.writableMask,
      this.writableIndex,
    );
    for (const l of found) {
      if (this.leftSeen.has(l.msr)) continue;
      this.leftSeen.add(l.msr);
      this.leaks.push(l);
    }
  }

  /** The owner id (ProvenanceTable.ownerId) of the vCPU's values, interned once per physical PMU. */
  private ownerIdOf(vmx: VmxLayer): number {
    if (vmx.phys !== this.idPhys) {
      this.idPhys = vmx.phys;
      this.idOwner = vmx.phys.provs.ownerId(vmx.owner);
    }
    return this.idOwner;
  }
  private idPhys: object = NO_PHYS;
  private idOwner = -1;

  nativeRead(vmx: VmxLayer, msr: number, value: bigint, access: string, rip: number, rule: string): void {
    const leak = checkNativeRead(vmx.phys, vmx.owner, msr, value, access, rip, rule);
    if (leak) this.leaks.push(leak);
  }

  /** Guest→host: hardware accepted GLOBAL_CTRL bits KVM's model of this guest reserves (model.md §14.2, bit 48). */
  nativeWrite(vmx: VmxLayer, msr: number, value: bigint, rip: number): void {
    if (msr !== MSR_CORE_PERF_GLOBAL_CTRL) return;
    const leak = checkNativeGlobalCtrlWrite(
      vmx.phys,
      vmx.vcpu.pmu.globalCtrlRsvd,
      msr,
      value,
      rip,
      vmx.owner,
      vmx.writeRule(msr),
    );
    if (leak) this.leaks.push(leak);
  }

  private violated(v: Violation[]): void {
    for (const x of v) this.violations.push(x);
  }
}
