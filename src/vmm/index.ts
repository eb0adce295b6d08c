// Entry point of the userspace VMM of the guest ABI: loading and running an image (Guest), the console and
// exit ports, the bare platform, the instruction tracer.
export {
  Guest,
  runGuest,
  DEFAULT_MEM,
  DEFAULT_LOAD,
  DEFAULT_MAX_INSNS,
  EXIT_TRIPLE_FAULT,
  EXIT_INSN_LIMIT,
  EXIT_UD,
  EXIT_INTERRUPTED,
  EXIT_LEAK,
  EXIT_UNWRITTEN,
} from "./guest.js";
export type { GuestConfig, RunResult, StopKind, LoadError } from "./guest.js";
export { GuestIo, CONSOLE_PORT, EXIT_PORT } from "./io.js";
export type { IoHandler, DeviceOptions } from "./io.js";
export { EXIT_STATUS_MAPPINGS, exitStatusOf } from "./devices/debug-exit.js";
export type { ExitStatusMapping } from "./devices/debug-exit.js";
export { IoTrace } from "./devices/io-trace.js";
export { BarePlatform, BARE_CPUID } from "./bare.js";
export { Tracer } from "./trace.js";
export type { TraceSymbol } from "./trace.js";
export { loadKernel, isKernelImage } from "./kernel.js";
export { elfTextSymbols } from "./elf-symbols.js";
export type { BootImage, KernelOptions } from "./kernel.js";
export type { BootModule, BootRegion } from "./multiboot.js";
