/**
 * Glue between the userspace VMM (src/vmm: image, guest ABI, I/O) and a vCPU of the small KVM: the VMM's
 * I/O handler becomes the vCPU's userspace, and the vCPU's run loop drives the CPU (KVM_RUN).
 */
import type { Cpu, StopReason } from "../isa/cpu.js";
import type { Platform } from "../isa/platform.js";
import type { IoHandler } from "../vmm/io.js";
import type { Vcpu } from "./vcpu.js";

/** The `platform` and `run` fields of the VMM's GuestConfig for a guest that runs on `vcpu`. */
export function vcpuGuestConfig(vcpu: Vcpu): {
  platform: (io: IoHandler) => Platform;
  run: (cpu: Cpu, budget: number) => StopReason;
} {
  let io: IoHandler | null = null;
  return {
    platform: (handler) => {
      io = handler;
      return vcpu.platform;
    },
    run: (cpu, budget) => {
      if (vcpu.cpu !== cpu && io !== null) vcpu.attach(cpu, io);
      return vcpu.runBudget(budget);
    },
  };
}
