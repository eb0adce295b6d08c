/**
 * What an observer of one vCPU's VMX layer sees: intercepts recomputed, the mediated load and the VM entry,
 * the put after a slow-path exit, and the guest's native (non-exiting) MSR and RDPMC accesses. Defined here so
 * the VMX layer calls no checker by name; src/check implements it and the composition root attaches it.
 * Facts: model.md §12.1–§12.3 (where the invariants hold), §14 (what a leak is).
 */
import type { VmxLayer } from "./vmx-layer.js";

export interface VmxObserver {
  /** vmx_recalc_intercepts finished: the plan, the bitmap and the RDPMC control are current. */
  interceptsChanged(vmx: VmxLayer): void;
  /** Whether afterLoad, afterEntry and beforePut do anything: they run at every mediated switch, so an observer
   *  that says false (fixed for its lifetime) is not called there at all. */
  readonly switchHooks: boolean;
  /** The mediated load wrote the guest context into hardware (§12.1), before the entry's GLOBAL_CTRL load. */
  afterLoad(vmx: VmxLayer): void;
  /** The VM entry is done: the guest runs next on this hardware. */
  afterEntry(vmx: VmxLayer): void;
  /** A slow-path exit is about to put the guest context (§12.2); the exit's GLOBAL_CTRL load has happened. */
  beforePut(vmx: VmxLayer): void;
  /** The put has run; the host's perf events are not back yet. */
  afterPut(vmx: VmxLayer): void;
  /** The guest read `msr` (canonical physical register) natively and got `value`; `rule` let it through. */
  nativeRead(vmx: VmxLayer, msr: number, value: bigint, access: string, rip: number, rule: string): void;
  /** The guest wrote `value` to `msr` natively and the hardware accepted it. */
  nativeWrite(vmx: VmxLayer, msr: number, value: bigint, rip: number): void;
}
