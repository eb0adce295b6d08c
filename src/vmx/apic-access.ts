/**
 * The xAPIC page as VMX without APICv reaches it: "virtualize APIC accesses" maps KVM's APIC-access page at
 * the default APIC base (kvm_alloc_apic_access_page, APIC_DEFAULT_PHYS_BASE), so every guest load or store
 * there is an APIC_ACCESS exit (basic reason 44); handle_apic_access has KVM's emulator complete the
 * instruction, whose MMIO access reaches apic_mmio_read / apic_mmio_write. Facts: vmx.c (handle_apic_access),
 * lapic.c; SDM Vol. 3 "APIC-Access VM Exits". The model's CPU completes the instruction itself, counted as
 * natively retired: the same +1 for instruction counters that KVM's emulator adds through
 * kvm_pmu_instruction_retired (docs/apic.md says what differs). A relocated APIC base is not modelled: only
 * the default page is a device.
 */
import { APIC_DEFAULT_BASE, LAPIC_MMIO_LENGTH } from "../arch/apicdef.js";
import { EXIT_REASON, exitReasonName } from "../arch/vmx-exit-reasons.js";
import type { MmioBus } from "../isa/platform.js";
import type { VmxLayer } from "./vmx-layer.js";

const BASE = Number(APIC_DEFAULT_BASE);
const NAME = exitReasonName(EXIT_REASON.APIC_ACCESS);

export class ApicAccessPage implements MmioBus {
  constructor(private readonly vmx: VmxLayer) {}

  claims(pa: number): boolean {
    return pa >= BASE && pa < BASE + LAPIC_MMIO_LENGTH && this.vmx.vcpu.lapic.baseAddress === BASE;
  }

  read(pa: number, size: number, forWrite: boolean): number {
    const lapic = this.vmx.vcpu.lapic;
    if (forWrite) return lapic.mmioRead(pa - BASE, size);
    this.exit();
    const v = lapic.mmioRead(pa - BASE, size);
    this.log(pa, size, false, v);
    this.vmx.enterGuest();
    return v;
  }

  write(pa: number, size: number, lo: number, _hi: number): void {
    this.exit();
    this.vmx.vcpu.lapic.mmioWrite(pa - BASE, size, lo);
    this.log(pa, size, true, lo);
    this.vmx.enterGuest();
  }

  /** The VM exit (mediated put and all, as for any exit): counts are folded up to the access first. */
  private exit(): void {
    this.vmx.vcpu.syncPmu();
    this.vmx.vmExit(EXIT_REASON.APIC_ACCESS, 0);
  }

  private log(pa: number, size: number, write: boolean, value: number): void {
    const vcpu = this.vmx.vcpu;
    vcpu.logExit({
      reason: EXIT_REASON.APIC_ACCESS,
      name: NAME,
      rip: vcpu.cpu?.rip ?? 0,
      length: 0, // VM_EXIT_INSTRUCTION_LEN is undefined for APIC-access exits
      gpa: pa,
      size,
      write,
      value: BigInt(value >>> 0),
      outcome: "emulated",
    });
  }
}
