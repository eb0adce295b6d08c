/**
 * A guest on a machine: glue between the userspace VMM (src/vmm: image, guest ABI, I/O) and a vCPU of the
 * small KVM. The VMM's I/O handler becomes the vCPU's userspace, and the vCPU's run loop drives the CPU
 * (KVM_RUN).
 */
import { APIC_DEFAULT_BASE } from "../arch/apicdef.js";
import type { Cpu, StopReason } from "../isa/cpu.js";
import type { Platform } from "../isa/platform.js";
import type { IoTrace } from "../vmm/devices/io-trace.js";
import { TracedMmioBus, xapicRegisterName } from "../vmm/devices/mmio-trace.js";
import { Guest, type GuestConfig, type LoadError, type RunResult } from "../vmm/guest.js";
import type { IoHandler } from "../vmm/io.js";
import type { BootImage } from "../vmm/kernel.js";
import type { Vcpu } from "../kvm/vcpu.js";

/** The `platform` and `run` fields of the VMM's GuestConfig for a guest that runs on `vcpu`. With `trace`
 *  (--trace-io), the CPU's MMIO bus (the xAPIC page) reports every access there, as the port bus does. */
export function vcpuGuestConfig(
  vcpu: Vcpu,
  trace: IoTrace | null = null,
): {
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
      if (vcpu.cpu !== cpu && io !== null) {
        vcpu.attach(cpu, io);
        // Wrapped once, at attach, and only while tracing: an untraced run keeps the APIC page's own bus.
        if (trace !== null && cpu.mmio !== null)
          cpu.mmio = new TracedMmioBus(cpu.mmio, trace, Number(APIC_DEFAULT_BASE), xapicRegisterName);
      }
      return vcpu.runBudget(budget);
    },
  };
}

/**
 * The VMM's guest for an image (flat, or a booted kernel), on the machine's vCPU (or on the bare platform,
 * which has no local APIC, when `machine` is null). A kernel entered through the Multiboot state starts with
 * the APIC as RESET leaves it — enabled, xAPIC mode at 0xFEE00000 (kvm_lapic_reset; QEMU puts that state on
 * reset, before the firmware hands over) — while a flat program and an ELF64 entered in 64-bit mode keep the
 * guest ABI's x2APIC start state (docs/apic.md "Start state").
 */
export function loadGuest(
  machine: { readonly vcpu: Vcpu } | null,
  image: Uint8Array | BootImage,
  origin: number,
  config: GuestConfig = {},
): Guest | LoadError {
  if (machine === null) return Guest.create(image, origin, config);
  const g = Guest.create(image, origin, {
    ...config,
    ...vcpuGuestConfig(machine.vcpu, config.devices?.trace ?? null),
  });
  if (!("error" in g) && !(image instanceof Uint8Array) && image.bits === 32) machine.vcpu.lapic.reset();
  return g;
}

/** Run a guest until it stops, without yielding (the sweep, the demo, the tests; `vpmu run` yields between
 *  chunks so Ctrl-C is noticed). */
export function runToEnd(g: Guest, chunk: number): RunResult {
  let r = g.runChunk(chunk);
  while (r === null) r = g.runChunk(chunk);
  return r;
}
