/**
 * What a VMM does between two KVM_RUNs, as a list of steps (`vpmu run --step`, docs/vpmu.md "Host steps"):
 * run the guest for N more natively retired instructions (as a VMM whose KVM_RUN a signal interrupts, or
 * that set immediate_exit), write an MSR with KVM_SET_MSRS (host-initiated: kvm_set_msr_ignored_check with
 * host_initiated = true), or install / remove the VM's PMU event filter with KVM_SET_PMU_EVENT_FILTER.
 * After the last step the guest runs on to its end.
 */
import type { PmuEventFilterInput } from "../pmu/filter.js";
import type { Machine } from "./machine.js";

export type HostStep =
  | { readonly kind: "run"; readonly insns: number }
  | { readonly kind: "set-msr"; readonly index: number; readonly value: bigint }
  | { readonly kind: "set-filter"; readonly filter: PmuEventFilterInput | null; readonly source: string };

/** The step as the ioctl a KVM developer would write, for messages. */
export function describeHostStep(s: HostStep): string {
  switch (s.kind) {
    case "run":
      return `KVM_RUN for ${s.insns} instructions`;
    case "set-msr":
      return `KVM_SET_MSRS 0x${s.index.toString(16)} = 0x${s.value.toString(16)}`;
    case "set-filter":
      return `KVM_SET_PMU_EVENT_FILTER ${s.source}`;
  }
}

/** Apply a step that is not `run` to the machine between two KVM_RUNs; the ioctl's failure as a sentence. */
export function applyHostStep(machine: Pick<Machine, "vcpu">, s: Exclude<HostStep, { kind: "run" }>): string | null {
  if (s.kind === "set-msr") {
    // KVM_SET_MSRS returns how many entries it set: 0 here means the MSR refused the value (or does not exist).
    return machine.vcpu.setMsr(s.index, s.value) ? null : `${describeHostStep(s)} failed (KVM_SET_MSRS set 0 MSRs)`;
  }
  const e = machine.vcpu.vm.setPmuEventFilter(s.filter);
  return e === null ? null : `${describeHostStep(s)} failed with ${e.errno}: ${e.message}`;
}
