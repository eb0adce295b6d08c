/**
 * isa-debug-exit (QEMU hw/misc/debugexit.c, as kvm-unit-tests configures it: iobase=0xf4, iosize=4): a
 * write of any size to 0xF4..0xF7 ends the run; reads return 0. What process status a value v becomes
 * is a named choice (`--exit-status`): "raw" (vpmu's guest ABI since 0.1: v's low byte) or "qemu" (QEMU
 * exits with (v << 1) | 1, of which the OS keeps the low byte: kvm-unit-tests' 0/1/38 become 1/3/77).
 */
import type { AccessSize, PortDevice } from "./port-bus.js";

export const DEBUG_EXIT_BASE = 0xf4;

export const EXIT_STATUS_MAPPINGS = ["raw", "qemu"] as const;
export type ExitStatusMapping = (typeof EXIT_STATUS_MAPPINGS)[number];

/** The process status a written value becomes under a mapping. */
export function exitStatusOf(value: number, mapping: ExitStatusMapping): number {
  return (mapping === "qemu" ? (value << 1) | 1 : value) & 0xff;
}

export class DebugExit implements PortDevice {
  readonly name = "debug-exit";
  readonly base = DEBUG_EXIT_BASE;
  readonly count = 4;
  readonly wide = true;
  /** The value the guest wrote (null until it writes). */
  value: number | null = null;
  constructor(readonly mapping: ExitStatusMapping = "raw") {}

  /** The run's exit status, or null while the guest has not written. */
  get status(): number | null {
    return this.value === null ? null : exitStatusOf(this.value, this.mapping);
  }
  read(): number {
    return 0;
  }
  write(_offset: number, _size: AccessSize, value: number): boolean {
    this.value = value >>> 0;
    return true;
  }
  register(): string {
    return "exit";
  }
}
