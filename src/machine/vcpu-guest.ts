/**
 * A guest on a machine: glue between the userspace VMM (src/vmm: image, guest ABI, I/O) and a vCPU of the
 * small KVM. The VMM's I/O handler becomes the vCPU's userspace, and the vCPU's run loop drives the CPU
 * (KVM_RUN).
 */
import type { Cpu, StopReason } from "../isa/cpu.js";
import type { Platform } from "../isa/platform.js";
import { Guest, type GuestConfig, type LoadError, type RunResult } from "../vmm/guest.js";
import type { IoHandler } from "../vmm/io.js";
import type { BootImage } from "../vmm/kernel.js";
import type { Vcpu } from "../kvm/vcpu.js";

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

/** The VMM's guest for an image (flat, or a booted kernel), on the machine's vCPU (or on the bare platform
 *  when `machine` is null). */
export function loadGuest(
  machine: { readonly vcpu: Vcpu } | null,
  image: Uint8Array | BootImage,
  origin: number,
  config: GuestConfig = {},
): Guest | LoadError {
  return Guest.create(image, origin, machine === null ? config : { ...config, ...vcpuGuestConfig(machine.vcpu) });
}

/** Run a guest until it stops, without yielding (the sweep, the demo, the tests; `vpmu run` yields between
 *  chunks so Ctrl-C is noticed). */
export function runToEnd(g: Guest, chunk: number): RunResult {
  let r = g.runChunk(chunk);
  while (r === null) r = g.runChunk(chunk);
  return r;
}
