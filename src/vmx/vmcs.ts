/**
 * The per-vCPU VMCS (struct vmcs as KVM programs it): control words and the PERF_GLOBAL_CTRL guest/host
 * fields, with the entry/exit "load/save IA32_PERF_GLOBAL_CTRL" behaviour (SDM Vol. 3 §28.3, §29.3; model.md §12).
 */
import {
  CPU_BASED_HLT_EXITING,
  CPU_BASED_RDPMC_EXITING,
  CPU_BASED_UNCOND_IO_EXITING,
  CPU_BASED_USE_MSR_BITMAPS,
  VM_ENTRY_LOAD_IA32_PERF_GLOBAL_CTRL,
  VM_EXIT_LOAD_IA32_PERF_GLOBAL_CTRL,
  VM_EXIT_SAVE_IA32_PERF_GLOBAL_CTRL,
} from "../arch/vmx-controls.js";
import type { PhysicalPmu, Provenance } from "../host/physical-pmu.js";

const EXIT_LOAD_PROVENANCE: Provenance = { owner: "host", source: "VM exit (load IA32_PERF_GLOBAL_CTRL)" };

/**
 * The per-vCPU VMCS state the model keeps: the three control words and the PMU fields.
 * GLOBAL_CTRL fields are held as two 32-bit halves so entry/exit do not need BigInt.
 */
export class Vmcs {
  /** Primary processor-based controls. KVM's required set for a PMU guest: HLT exiting,
   *  unconditional I/O exiting (no I/O bitmaps in this model), RDPMC exiting (recomputed), use MSR
   *  bitmaps — vmx.h KVM_REQUIRED_VMX_CPU_BASED_VM_EXEC_CONTROL, vmx.c vmx_exec_control. */
  cpuBasedVmExecControl =
    CPU_BASED_HLT_EXITING | CPU_BASED_UNCOND_IO_EXITING | CPU_BASED_RDPMC_EXITING | CPU_BASED_USE_MSR_BITMAPS;
  vmEntryControls = 0;
  vmExitControls = 0;
  /** GUEST_IA32_PERF_GLOBAL_CTRL (0x2808). A 64-bit VMCS field, handled at entry/exit only (not the hot loop). */
  guestPerfGlobalCtrl = 0n;
  /** HOST_IA32_PERF_GLOBAL_CTRL (0x2C04): KVM writes 0 when the mediated PMU is on
   *  (vmx.c vmx_set_constant_host_state). */
  hostPerfGlobalCtrl = 0n;

  get rdpmcExiting(): boolean {
    return (this.cpuBasedVmExecControl & CPU_BASED_RDPMC_EXITING) !== 0;
  }
  get useMsrBitmaps(): boolean {
    return (this.cpuBasedVmExecControl & CPU_BASED_USE_MSR_BITMAPS) !== 0;
  }
  get hltExiting(): boolean {
    return (this.cpuBasedVmExecControl & CPU_BASED_HLT_EXITING) !== 0;
  }
  /** VM entry (model.md §12.1 step 9): with "load IA32_PERF_GLOBAL_CTRL", hardware := the guest field. */
  vmEntry(phys: PhysicalPmu, owner: string): void {
    if (this.vmEntryControls & VM_ENTRY_LOAD_IA32_PERF_GLOBAL_CTRL)
      phys.loadGlobalCtrl(this.guestPerfGlobalCtrl, this.entryProvenance(owner));
  }

  /** VM exit (model.md §12.2 step 0): "save" stores hardware GLOBAL_CTRL into the guest field, "load" puts the
   *  host field (0 with the mediated PMU) into hardware, so counting stops atomically. */
  vmExit(phys: PhysicalPmu): void {
    if (this.vmExitControls & VM_EXIT_SAVE_IA32_PERF_GLOBAL_CTRL) this.guestPerfGlobalCtrl = phys.globalCtrl;
    if (this.vmExitControls & VM_EXIT_LOAD_IA32_PERF_GLOBAL_CTRL)
      phys.loadGlobalCtrl(this.hostPerfGlobalCtrl, EXIT_LOAD_PROVENANCE);
  }

  private entryTag: Provenance | null = null;
  private entryProvenance(owner: string): Provenance {
    if (this.entryTag === null || this.entryTag.owner !== owner)
      this.entryTag = { owner, source: "VM entry (load IA32_PERF_GLOBAL_CTRL)" };
    return this.entryTag;
  }

  setPrimary(bit: number, on: boolean): void {
    this.cpuBasedVmExecControl = on
      ? (this.cpuBasedVmExecControl | bit) >>> 0
      : (this.cpuBasedVmExecControl & ~bit) >>> 0;
  }
}
