/**
 * VMX execution, entry and exit controls and the VMCS fields the PMU model touches, as tables.
 * Facts: model.md §11.2–§11.3; arch/x86/include/asm/vmx.h (CPU_BASED_*, VM_ENTRY_*, VM_EXIT_*,
 * enum vmcs_field), arch/x86/include/asm/vmxfeatures.h, vmx.h (KVM_REQUIRED_/OPTIONAL_*).
 */

export interface ControlBit {
  readonly bit: number;
  /** Kernel constant (CPU_BASED_*, VM_ENTRY_*, VM_EXIT_*). */
  readonly name: string;
  readonly description: string;
  /** How KVM treats it (model.md §11.2 "KVM" column). */
  readonly kvm: "required" | "optional";
}

/** Primary processor-based VM-execution controls (VMCS CPU_BASED_VM_EXEC_CONTROL, 0x4002). */
export const PRIMARY_CONTROLS: readonly ControlBit[] = [
  { bit: 2, name: "CPU_BASED_INTR_WINDOW_EXITING", description: "interrupt-window exiting", kvm: "required" },
  { bit: 3, name: "CPU_BASED_USE_TSC_OFFSETTING", description: "use TSC offsetting", kvm: "required" },
  { bit: 7, name: "CPU_BASED_HLT_EXITING", description: "HLT exiting", kvm: "required" },
  { bit: 9, name: "CPU_BASED_INVLPG_EXITING", description: "INVLPG exiting", kvm: "required" },
  { bit: 10, name: "CPU_BASED_MWAIT_EXITING", description: "MWAIT exiting", kvm: "required" },
  { bit: 11, name: "CPU_BASED_RDPMC_EXITING", description: "RDPMC exiting", kvm: "required" },
  { bit: 12, name: "CPU_BASED_RDTSC_EXITING", description: "RDTSC exiting", kvm: "optional" },
  { bit: 15, name: "CPU_BASED_CR3_LOAD_EXITING", description: "CR3-load exiting", kvm: "required" },
  { bit: 16, name: "CPU_BASED_CR3_STORE_EXITING", description: "CR3-store exiting", kvm: "required" },
  { bit: 17, name: "CPU_BASED_ACTIVATE_TERTIARY_CONTROLS", description: "activate tertiary controls", kvm: "optional" },
  { bit: 19, name: "CPU_BASED_CR8_LOAD_EXITING", description: "CR8-load exiting", kvm: "required" },
  { bit: 20, name: "CPU_BASED_CR8_STORE_EXITING", description: "CR8-store exiting", kvm: "required" },
  { bit: 21, name: "CPU_BASED_TPR_SHADOW", description: "use TPR shadow", kvm: "optional" },
  { bit: 22, name: "CPU_BASED_NMI_WINDOW_EXITING", description: "NMI-window exiting", kvm: "optional" },
  { bit: 23, name: "CPU_BASED_MOV_DR_EXITING", description: "MOV-DR exiting", kvm: "required" },
  { bit: 24, name: "CPU_BASED_UNCOND_IO_EXITING", description: "unconditional I/O exiting", kvm: "required" },
  { bit: 25, name: "CPU_BASED_USE_IO_BITMAPS", description: "use I/O bitmaps", kvm: "optional" },
  { bit: 27, name: "CPU_BASED_MONITOR_TRAP_FLAG", description: "monitor trap flag", kvm: "optional" },
  { bit: 28, name: "CPU_BASED_USE_MSR_BITMAPS", description: "use MSR bitmaps", kvm: "optional" },
  { bit: 29, name: "CPU_BASED_MONITOR_EXITING", description: "MONITOR exiting", kvm: "required" },
  { bit: 30, name: "CPU_BASED_PAUSE_EXITING", description: "PAUSE exiting", kvm: "optional" },
  {
    bit: 31,
    name: "CPU_BASED_ACTIVATE_SECONDARY_CONTROLS",
    description: "activate secondary controls",
    kvm: "optional",
  },
];

/** VM-entry controls the PMU model uses (model.md §11.3). */
export const ENTRY_CONTROLS: readonly ControlBit[] = [
  { bit: 13, name: "VM_ENTRY_LOAD_IA32_PERF_GLOBAL_CTRL", description: "load IA32_PERF_GLOBAL_CTRL", kvm: "optional" },
];

/** VM-exit controls the PMU model uses (model.md §11.3). */
export const EXIT_CONTROLS: readonly ControlBit[] = [
  { bit: 12, name: "VM_EXIT_LOAD_IA32_PERF_GLOBAL_CTRL", description: "load IA32_PERF_GLOBAL_CTRL", kvm: "optional" },
  { bit: 30, name: "VM_EXIT_SAVE_IA32_PERF_GLOBAL_CTRL", description: "save IA32_PERF_GLOBAL_CTRL", kvm: "optional" },
];

export const CPU_BASED_HLT_EXITING = 1 << 7;
export const CPU_BASED_RDPMC_EXITING = 1 << 11;
export const CPU_BASED_UNCOND_IO_EXITING = 1 << 24;
export const CPU_BASED_USE_MSR_BITMAPS = 1 << 28;
export const VM_ENTRY_LOAD_IA32_PERF_GLOBAL_CTRL = 1 << 13;
export const VM_EXIT_LOAD_IA32_PERF_GLOBAL_CTRL = 1 << 12;
export const VM_EXIT_SAVE_IA32_PERF_GLOBAL_CTRL = 1 << 30;

/** VMCS field encodings the model names in traces (model.md §11.3; asm/vmx.h enum vmcs_field). */
export const VMCS_FIELDS: readonly { readonly encoding: number; readonly name: string }[] = [
  { encoding: 0x2004, name: "MSR_BITMAP" },
  { encoding: 0x2808, name: "GUEST_IA32_PERF_GLOBAL_CTRL" },
  { encoding: 0x2c04, name: "HOST_IA32_PERF_GLOBAL_CTRL" },
  { encoding: 0x4002, name: "CPU_BASED_VM_EXEC_CONTROL" },
  { encoding: 0x4012, name: "VM_ENTRY_CONTROLS" },
  { encoding: 0x400c, name: "VM_EXIT_CONTROLS" },
  { encoding: 0x4402, name: "VM_EXIT_REASON" },
  { encoding: 0x440c, name: "VM_EXIT_INSTRUCTION_LEN" },
  { encoding: 0x6400, name: "EXIT_QUALIFICATION" },
];

/** Names of the set bits of a control word, in bit order (for `vpmu explain` and traces). */
export function controlNames(table: readonly ControlBit[], value: number): string[] {
  const out: string[] = [];
  for (const row of table) if ((value >>> row.bit) & 1) out.push(row.name);
  return out;
}
