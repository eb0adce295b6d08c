/**
 * VMX basic exit reasons (VM_EXIT_REASON bits 15:0): numbers, the names KVM's `kvm_exit` trace event prints,
 * and the SDM's description. Facts: model.md §11.4; arch/x86/include/uapi/asm/vmx.h (EXIT_REASON_*,
 * VMX_EXIT_REASONS); SDM Vol. 3 Appendix C. KVM's handler per reason is src/vmx/exit-handlers.ts.
 */

export interface ExitReasonFact {
  /** Basic exit reason number (VM_EXIT_REASON bits 15:0). */
  readonly reason: number;
  /** Kernel constant suffix, as `kvm_exit` prints it (EXIT_REASON_<name>). */
  readonly name: string;
  /** What the SDM calls it, for humans. */
  readonly description: string;
}

export const EXIT_REASON_TABLE: readonly ExitReasonFact[] = [
  { reason: 0, name: "EXCEPTION_NMI", description: "exception or NMI" },
  { reason: 1, name: "EXTERNAL_INTERRUPT", description: "external interrupt" },
  { reason: 2, name: "TRIPLE_FAULT", description: "triple fault" },
  { reason: 3, name: "INIT_SIGNAL", description: "INIT signal" },
  { reason: 4, name: "SIPI_SIGNAL", description: "SIPI" },
  { reason: 7, name: "INTERRUPT_WINDOW", description: "interrupt window" },
  { reason: 8, name: "NMI_WINDOW", description: "NMI window" },
  { reason: 9, name: "TASK_SWITCH", description: "task switch" },
  { reason: 10, name: "CPUID", description: "CPUID" },
  { reason: 11, name: "GETSEC", description: "GETSEC" },
  { reason: 12, name: "HLT", description: "HLT" },
  { reason: 13, name: "INVD", description: "INVD" },
  { reason: 14, name: "INVLPG", description: "INVLPG" },
  { reason: 15, name: "RDPMC", description: "RDPMC" },
  { reason: 16, name: "RDTSC", description: "RDTSC" },
  { reason: 17, name: "RSM", description: "RSM" },
  { reason: 18, name: "VMCALL", description: "VMCALL" },
  { reason: 19, name: "VMCLEAR", description: "VMCLEAR" },
  { reason: 20, name: "VMLAUNCH", description: "VMLAUNCH" },
  { reason: 21, name: "VMPTRLD", description: "VMPTRLD" },
  { reason: 22, name: "VMPTRST", description: "VMPTRST" },
  { reason: 23, name: "VMREAD", description: "VMREAD" },
  { reason: 24, name: "VMRESUME", description: "VMRESUME" },
  { reason: 25, name: "VMWRITE", description: "VMWRITE" },
  { reason: 26, name: "VMOFF", description: "VMXOFF" },
  { reason: 27, name: "VMON", description: "VMXON" },
  { reason: 28, name: "CR_ACCESS", description: "control-register access" },
  { reason: 29, name: "DR_ACCESS", description: "MOV DR" },
  { reason: 30, name: "IO_INSTRUCTION", description: "I/O instruction" },
  { reason: 31, name: "MSR_READ", description: "RDMSR" },
  { reason: 32, name: "MSR_WRITE", description: "WRMSR" },
  { reason: 33, name: "INVALID_STATE", description: "VM-entry failure: invalid guest state" },
  { reason: 34, name: "MSR_LOAD_FAIL", description: "VM-entry failure: MSR loading" },
  { reason: 36, name: "MWAIT_INSTRUCTION", description: "MWAIT" },
  { reason: 37, name: "MONITOR_TRAP_FLAG", description: "monitor trap flag" },
  { reason: 39, name: "MONITOR_INSTRUCTION", description: "MONITOR" },
  { reason: 40, name: "PAUSE_INSTRUCTION", description: "PAUSE" },
  {
    reason: 41,
    name: "MCE_DURING_VMENTRY",
    description: "machine check during VM entry",
  },
  {
    reason: 43,
    name: "TPR_BELOW_THRESHOLD",
    description: "TPR below threshold",
  },
  { reason: 44, name: "APIC_ACCESS", description: "APIC access" },
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
  APIC_ACCESS: 44,
} as const;

const byReason: (ExitReasonFact | undefined)[] = [];
for (const row of EXIT_REASON_TABLE) byReason[row.reason] = row;

/** The table row for a basic exit reason, or undefined for a number the SDM does not assign here. */
export function exitReasonFact(reason: number): ExitReasonFact | undefined {
  return byReason[reason & 0xffff];
}

/** `kvm_exit`-style name of a basic exit reason ("MSR_READ"); unknown numbers print as "UNKNOWN_<n>". */
export function exitReasonName(reason: number): string {
  return byReason[reason & 0xffff]?.name ?? `UNKNOWN_${reason}`;
}
