/**
 * VMX's exit-reason → handler table (vmx.c kvm_vmx_exit_handlers[]): one row per basic exit reason with the
 * kernel's handler name, and for the exits the model raises the function that handles it — most call KVM's
 * common emulation (src/kvm/x86.ts), as the kernel's rows do. Facts: model.md §11.4; vmx.c (kvm_vmx_exit_handlers,
 * __vmx_handle_exit, handle_io, handle_external_interrupt); the numbers are src/arch/vmx-exit-reasons.ts.
 */
import { EXIT_REASON, EXIT_REASON_TABLE, type ExitReasonFact } from "../arch/vmx-exit-reasons.js";
import { PlatformAction, type PlatformCpu } from "../isa/platform.js";
import {
  kvmEmulateCpuid,
  kvmEmulateHalt,
  kvmEmulateHypercall,
  kvmEmulateRdmsr,
  kvmEmulateRdpmc,
  kvmEmulateWrmsr,
  kvmFastPioIn,
  kvmFastPioOut,
} from "../kvm/x86.js";
import type { VmxLayer } from "./vmx-layer.js";

/** A handler gets the exiting instruction's CPU and length; qualification fields are in `vmx.exit`. */
export type ExitHandler = (vmx: VmxLayer, cpu: PlatformCpu, length: number) => PlatformAction;

/** handle_io: the exit qualification says direction, port and size; fast PIO completes it inline. */
function handleIo(vmx: VmxLayer, cpu: PlatformCpu, length: number): PlatformAction {
  const e = vmx.exit;
  return e.ioIn
    ? kvmFastPioIn(vmx.vcpu, cpu, e.ioPort, e.ioSize, length)
    : kvmFastPioOut(vmx.vcpu, cpu, e.ioPort, e.ioSize, e.ioValue, length);
}

/** handle_external_interrupt for the mediated PMI (R-PMI-4): KVM has requested the guest PMI
 *  (kvm_handle_guest_mediated_pmi); the exit is logged and the run loop re-enters and delivers it. */
function handleExternalInterrupt(vmx: VmxLayer, cpu: PlatformCpu): PlatformAction {
  vmx.vcpu.logExit({
    reason: EXIT_REASON.EXTERNAL_INTERRUPT,
    name: "EXTERNAL_INTERRUPT",
    rip: cpu.rip,
    length: 0,
    outcome: "ok",
    why: "mediated PMI (R-PMI-4)",
  });
  return PlatformAction.Exit;
}

/** The kernel's handler per basic exit reason ("" where KVM has none), and the model's where it has one. */
const ROWS: readonly { readonly reason: number; readonly kvmHandler: string; readonly handle?: ExitHandler }[] = [
  { reason: 0, kvmHandler: "handle_exception_nmi" },
  { reason: EXIT_REASON.EXTERNAL_INTERRUPT, kvmHandler: "handle_external_interrupt", handle: handleExternalInterrupt },
  { reason: 2, kvmHandler: "handle_triple_fault" },
  { reason: 3, kvmHandler: "handle_nop" },
  { reason: 4, kvmHandler: "" },
  { reason: 7, kvmHandler: "handle_interrupt_window" },
  { reason: 8, kvmHandler: "handle_nmi_window" },
  { reason: 9, kvmHandler: "handle_task_switch" },
  {
    reason: EXIT_REASON.CPUID,
    kvmHandler: "kvm_emulate_cpuid",
    handle: (v, cpu, len) => kvmEmulateCpuid(v.vcpu, cpu, len),
  },
  { reason: 11, kvmHandler: "" },
  {
    reason: EXIT_REASON.HLT,
    kvmHandler: "kvm_emulate_halt",
    handle: (v, cpu, len) => kvmEmulateHalt(v.vcpu, cpu, len),
  },
  { reason: 13, kvmHandler: "kvm_emulate_invd" },
  { reason: 14, kvmHandler: "handle_invlpg" },
  {
    reason: EXIT_REASON.RDPMC,
    kvmHandler: "kvm_emulate_rdpmc",
    handle: (v, cpu, len) => kvmEmulateRdpmc(v.vcpu, cpu, len),
  },
  { reason: 16, kvmHandler: "" },
  { reason: 17, kvmHandler: "" },
  {
    reason: EXIT_REASON.VMCALL,
    kvmHandler: "kvm_emulate_hypercall",
    handle: (v, cpu, len) => kvmEmulateHypercall(v.vcpu, cpu, len),
  },
  ...[19, 20, 21, 22, 23, 24, 25, 26, 27].map((reason) => ({ reason, kvmHandler: "handle_vmx_instruction" })),
  { reason: 28, kvmHandler: "handle_cr" },
  { reason: 29, kvmHandler: "handle_dr" },
  { reason: EXIT_REASON.IO_INSTRUCTION, kvmHandler: "handle_io", handle: handleIo },
  {
    reason: EXIT_REASON.MSR_READ,
    kvmHandler: "kvm_emulate_rdmsr",
    handle: (v, cpu, len) => kvmEmulateRdmsr(v.vcpu, cpu, len),
  },
  {
    reason: EXIT_REASON.MSR_WRITE,
    kvmHandler: "kvm_emulate_wrmsr",
    handle: (v, cpu, len) => kvmEmulateWrmsr(v.vcpu, cpu, len),
  },
  { reason: 33, kvmHandler: "" },
  { reason: 34, kvmHandler: "" },
  { reason: 36, kvmHandler: "kvm_emulate_mwait" },
  { reason: 37, kvmHandler: "handle_monitor_trap" },
  { reason: 39, kvmHandler: "kvm_emulate_monitor" },
  { reason: 40, kvmHandler: "handle_pause" },
  { reason: 41, kvmHandler: "handle_machine_check" },
  { reason: 43, kvmHandler: "handle_tpr_below_threshold" },
  { reason: 44, kvmHandler: "handle_apic_access" },
];

/** kvm_vmx_exit_handlers: indexed by basic exit reason. */
export const kvmVmxExitHandlers: readonly (ExitHandler | undefined)[] = (() => {
  const t: (ExitHandler | undefined)[] = [];
  for (const r of ROWS) t[r.reason] = r.handle;
  return t;
})();

/** An exit-reason row joined with KVM's handler for it (for `vpmu explain`, docs and tests). */
export interface ExitReasonRow extends ExitReasonFact {
  /** KVM's handler in vmx.c kvm_vmx_exit_handlers (or how KVM completes it), "" if KVM has none. */
  readonly kvmHandler: string;
}

const handlerName: string[] = [];
for (const r of ROWS) handlerName[r.reason] = r.kvmHandler;

/** Every architectural exit reason with KVM's handler name. */
export const EXIT_REASON_ROWS: readonly ExitReasonRow[] = EXIT_REASON_TABLE.map((f) => ({
  ...f,
  kvmHandler: handlerName[f.reason] ?? "",
}));

const byReason: (ExitReasonRow | undefined)[] = [];
for (const row of EXIT_REASON_ROWS) byReason[row.reason] = row;

/** The row for a basic exit reason, or undefined for a number the SDM does not assign here. */
export function exitReasonRow(reason: number): ExitReasonRow | undefined {
  return byReason[reason & 0xffff];
}
