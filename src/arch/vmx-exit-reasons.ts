/**
 * VMX basic exit reasons (VM_EXIT_REASON bits 15:0) as a table, with the names KVM's `kvm_exit`
 * trace event prints. Facts: spec §11.4; arch/x86/include/uapi/asm/vmx.h (EXIT_REASON_*,
 * VMX_EXIT_REASONS); SDM Vol. 3 Appendix C.
 */

export interface ExitReasonRow {
  /** Basic exit reason number (VM_EXIT_REASON bits 15:0). */
  readonly reason: number;
  /** Kernel constant suffix, as `kvm_exit` prints it (EXIT_REASON_<name>). */
  readonly name: string;
  /** What the SDM calls it, for humans. */
  readonly description: string;
  /** KVM's handler in vmx.c kvm_vmx_exit_handlers (or how KVM completes it), "" if KVM has none. */
  readonly kvmHandler: string;
}

export const EXIT_REASON_TABLE: readonly ExitReasonRow[] = [
  { reason: 0, name: "EXCEPTION_NMI", description: "exception or NMI", kvmHandler: "handle_exception_nmi" },
  { reason: 1, name: "EXTERNAL_INTERRUPT", description: "external interrupt", kvmHandler: "handle_external_interrupt" },
  { reason: 2, name: "TRIPLE_FAULT", description: "triple fault", kvmHandler: "handle_triple_fault" },
  { reason: 3, name: "INIT_SIGNAL", description: "INIT signal", kvmHandler: "handle_nop" },
  { reason: 4, name: "SIPI_SIGNAL", description: "SIPI", kvmHandler: "" },
  { reason: 7, name: "INTERRUPT_WINDOW", description: "interrupt window", kvmHandler: "handle_interrupt_window" },
  { reason: 8, name: "NMI_WINDOW", description: "NMI window", kvmHandler: "handle_nmi_window" },
  { reason: 9, name: "TASK_SWITCH", description: "task switch", kvmHandler: "handle_task_switch" },
  { reason: 10, name: "CPUID", description: "CPUID", kvmHandler: "kvm_emulate_cpuid" },
  { reason: 11, name: "GETSEC", description: "GETSEC", kvmHandler: "" },
  { reason: 12, name: "HLT", description: "HLT", kvmHandler: "kvm_emulate_halt" },
  { reason: 13, name: "INVD", description: "INVD", kvmHandler: "kvm_emulate_invd" },
  { reason: 14, name: "INVLPG", description: "INVLPG", kvmHandler: "handle_invlpg" },
  { reason: 15, name: "RDPMC", description: "RDPMC", kvmHandler: "kvm_emulate_rdpmc" },
  { reason: 16, name: "RDTSC", description: "RDTSC", kvmHandler: "" },
  { reason: 17, name: "RSM", description: "RSM", kvmHandler: "" },
  { reason: 18, name: "VMCALL", description: "VMCALL", kvmHandler: "kvm_emulate_hypercall" },
  { reason: 19, name: "VMCLEAR", description: "VMCLEAR", kvmHandler: "handle_vmx_instruction" },
  { reason: 20, name: "VMLAUNCH", description: "VMLAUNCH", kvmHandler: "handle_vmx_instruction" },
  { reason: 21, name: "VMPTRLD", description: "VMPTRLD", kvmHandler: "handle_vmx_instruction" },
  { reason: 22, name: "VMPTRST", description: "VMPTRST", kvmHandler: "handle_vmx_instruction" },
  { reason: 23, name: "VMREAD", description: "VMREAD", kvmHandler: "handle_vmx_instruction" },
  { reason: 24, name: "VMRESUME", description: "VMRESUME", kvmHandler: "handle_vmx_instruction" },
  { reason: 25, name: "VMWRITE", description: "VMWRITE", kvmHandler: "handle_vmx_instruction" },
  { reason: 26, name: "VMOFF", description: "VMXOFF", kvmHandler: "handle_vmx_instruction" },
  { reason: 27, name: "VMON", description: "VMXON", kvmHandler: "handle_vmx_instruction" },
  { reason: 28, name: "CR_ACCESS", description: "control-register access", kvmHandler: "handle_cr" },
  { reason: 29, name: "DR_ACCESS", description: "MOV DR", kvmHandler: "handle_dr" },
  { reason: 30, name: "IO_INSTRUCTION", description: "I/O instruction", kvmHandler: "handle_io" },
  { reason: 31, name: "MSR_READ", description: "RDMSR", kvmHandler: "kvm_emulate_rdmsr" },
  { reason: 32, name: "MSR_WRITE", description: "WRMSR", kvmHandler: "kvm_emulate_wrmsr" },
  { reason: 33, name: "INVALID_STATE", description: "VM-entry failure: invalid guest state", kvmHandler: "" },
  { reason: 34, name: "MSR_LOAD_FAIL", description: "VM-entry failure: MSR loading", kvmHandler: "" },
  { reason: 36, name: "MWAIT_INSTRUCTION", description: "MWAIT", kvmHandler: "kvm_emulate_mwait" },
  { reason: 37, name: "MONITOR_TRAP_FLAG", description: "monitor trap flag", kvmHandler: "handle_monitor_trap" },
  { reason: 39, name: "MONITOR_INSTRUCTION", description: "MONITOR", kvmHandler: "kvm_emulate_monitor" },
  { reason: 40, name: "PAUSE_INSTRUCTION", description: "PAUSE", kvmHandler: "handle_pause" },
  {
    reason: 41,
    name: "MCE_DURING_VMENTRY",
    description: "machine check during VM entry",
    kvmHandler: "handle_machine_check",
  },
  {
    reason: 43,
    name: "TPR_BELOW_THRESHOLD",
    description: "TPR below threshold",
    kvmHandler: "handle_tpr_below_threshold",
  },
  { reason: 44, name: "APIC_ACCESS", description: "APIC access", kvmHandler: "handle_apic_access" },
];

/** Exit reason numbers under the kernel's names (EXIT_REASON_*), for code that raises exits. */
export const EXIT_REASON = {
  EXCEPTION_NMI: 0,
  EXTERNAL_INTERRUPT: 1,
  TRIPLE_FAULT: 2,
  INTERRUPT_WINDOW: 7,
  CPUID: 10,
  HLT: 12,
  RDPMC: 15,
  RDTSC: 16,
  VMCALL: 18,
  CR_ACCESS: 28,
  IO_INSTRUCTION: 30,
  MSR_READ: 31,
  MSR_WRITE: 32,
} as const;

const byReason: (ExitReasonRow | undefined)[] = [];
for (const row of EXIT_REASON_TABLE) byReason[row.reason] = row;

/** The table row for a basic exit reason, or undefined for a number the SDM does not assign here. */
export function exitReasonRow(reason: number): ExitReasonRow | undefined {
  return byReason[reason & 0xffff];
}

/** `kvm_exit`-style name of a basic exit reason ("MSR_READ"); unknown numbers print as "UNKNOWN_<n>". */
export function exitReasonName(reason: number): string {
  return byReason[reason & 0xffff]?.name ?? `UNKNOWN_${reason}`;
}
