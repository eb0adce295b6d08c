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
import { big } from "../host/halves.js";
import { HOST_OWNER, type PhysicalPmu } from "../host/physical-pmu.js";
import { hi32, lo32 } from "../pmu/pmc.js";

const EXIT_LOAD_SOURCE = "VM exit (load IA32_PERF_GLOBAL_CTRL)";
const ENTRY_LOAD_SOURCE = "VM entry (load IA32_PERF_GLOBAL_CTRL)";

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
  /** GUEST_IA32_PERF_GLOBAL_CTRL (0x2808) as two 32-bit halves: entry and exit move them without BigInt. */
  guestPerfGlobalCtrlLo = 0;
  guestPerfGlobalCtrlHi = 0;
  /** HOST_IA32_PERF_GLOBAL_CTRL (0x2C04): KVM writes 0 when the mediated PMU is on
   *  (vmx.c vmx_set_constant_host_state). */
  hostPerfGlobalCtrlLo = 0;
  hostPerfGlobalCtrlHi = 0;

  /** GUEST_IA32_PERF_GLOBAL_CTRL as a 64-bit value (the MSR edge, tests). */
  get guestPerfGlobalCtrl(): bigint {
    return big(this.guestPerfGlobalCtrlLo, this.guestPerfGlobalCtrlHi);
  }
  set guestPerfGlobalCtrl(v: bigint) {
    this.guestPerfGlobalCtrlLo = lo32(v);
    this.guestPerfGlobalCtrlHi = hi32(v);
  }
  get hostPerfGlobalCtrl(): bigint {
    return big(this.hostPerfGlobalCtrlLo, this.hostPerfGlobalCtrlHi);
  }
  set hostPerfGlobalCtrl(v: bigint) {
    this.hostPerfGlobalCtrlLo = lo32(v);
    this.hostPerfGlobalCtrlHi = hi32(v);
  }

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
    if (phys !== this.entryPhys || owner !== this.entryOwner) this.bind(phys, owner);
    this.vmEntryAs(phys, this.entryTag);
  }

  /** vmEntry with the value's provenance id already interned (`bind`'s answer for the same PMU and owner): the
   *  VMX layer's entry, with no string comparison per entry. */
  vmEntryAs(phys: PhysicalPmu, entryTag: number): void {
    if ((this.vmEntryControls & VM_ENTRY_LOAD_IA32_PERF_GLOBAL_CTRL) === 0) return;
    phys.writeGlobalCtrl(this.guestPerfGlobalCtrlLo, this.guestPerfGlobalCtrlHi, entryTag);
  }

  /** Intern the provenance of the entry's GLOBAL_CTRL load on `phys` for `owner` and return its id (the VMX
   *  layer does it once, when it is created, with bindExit: no entry or exit interns anything). */
  bind(phys: PhysicalPmu, owner: string): number {
    this.entryPhys = phys;
    this.entryOwner = owner;
    this.entryTag = phys.provs.id(owner, ENTRY_LOAD_SOURCE);
    return this.entryTag;
  }

  /** VM exit (model.md §12.2 step 0): "save" stores hardware GLOBAL_CTRL into the guest field, "load" puts the
   *  host field (0 with the mediated PMU) into hardware, so counting stops atomically. */
  vmExit(phys: PhysicalPmu): void {
    if (this.vmExitControls & VM_EXIT_SAVE_IA32_PERF_GLOBAL_CTRL) {
      this.guestPerfGlobalCtrlLo = phys.ctrlLo;
      this.guestPerfGlobalCtrlHi = phys.ctrlHi;
    }
    if ((this.vmExitControls & VM_EXIT_LOAD_IA32_PERF_GLOBAL_CTRL) === 0) return;
    if (phys !== this.exitPhys) this.bindExit(phys);
    phys.writeGlobalCtrl(this.hostPerfGlobalCtrlLo, this.hostPerfGlobalCtrlHi, this.exitTag);
  }

  /** Intern the provenance of the exit's GLOBAL_CTRL load on `phys`. */
  bindExit(phys: PhysicalPmu): void {
    this.exitPhys = phys;
    this.exitTag = phys.provs.id(HOST_OWNER, EXIT_LOAD_SOURCE);
  }

  // The provenance ids (ProvenanceTable) of the entry's and the exit's GLOBAL_CTRL loads, interned by `bind` (or
  // when first needed) and kept for the physical PMU (and owner) they belong to, not looked up per exit.
  private entryPhys: PhysicalPmu | null = null;
  private entryOwner = "";
  private entryTag = -1;
  private exitPhys: PhysicalPmu | null = null;
  private exitTag = -1;

  setPrimary(bit: number, on: boolean): void {
    this.cpuBasedVmExecControl = on
      ? (this.cpuBasedVmExecControl | bit) >>> 0
      : (this.cpuBasedVmExecControl & ~bit) >>> 0;
  }
}
