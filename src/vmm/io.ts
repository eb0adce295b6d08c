/**
 * The userspace side of port I/O (what KVM forwards to the VMM as KVM_EXIT_IO): the PC devices a test
 * kernel touches, on one port bus (src/vmm/devices/; docs/devices.md) — the 16550 UART at 0x3F8 and the
 * guest-ABI console port 0xE9, both writing the console; isa-debug-exit at 0xF4; fw_cfg at 0x510; the two
 * PICs. Every other port is unassigned.
 */
import { DebugExit, type ExitStatusMapping } from "./devices/debug-exit.js";
import { FwCfg } from "./devices/fw-cfg.js";
import type { IoTrace } from "./devices/io-trace.js";
import { Pic8259, PIC_MASTER_BASE, PIC_SLAVE_BASE } from "./devices/pic.js";
import { PortBus, type AccessSize, type PortDevice } from "./devices/port-bus.js";
import { Uart16550 } from "./devices/uart16550.js";

/** Port I/O as the VMM sees it. A platform (bare, or the KVM layer's Vcpu) forwards IN/OUT here. */
export interface IoHandler {
  /** IN: the value read (only the low `size` bytes are used). */
  portIn(port: number, size: 1 | 2 | 4): number;
  /** OUT: returns true when the guest asked to end the run. */
  portOut(port: number, size: 1 | 2 | 4, value: number): boolean;
}

/** Guest ABI ports. */
export const CONSOLE_PORT = 0xe9;
export const EXIT_PORT = 0xf4;

/** Console bytes gathered before they are handed on (to the sink, or to the kept text). */
const CONSOLE_CHUNK = 1 << 16;

/** What the platform's devices are built with. */
export interface DeviceOptions {
  /** How a debug-exit value becomes the exit status (default "raw", the guest ABI's). */
  exitStatus?: ExitStatusMapping;
  /** Guest RAM in bytes, as fw_cfg reports it (FW_CFG_RAM_SIZE). Default 16 MiB. */
  memSize?: number;
  /** --trace-io: every port access goes here. */
  trace?: IoTrace | null;
}

/** The guest-ABI console port: an OUT of any size writes its low byte to the console (as since vpmu 0.1);
 *  reads are those of an unassigned port. */
class ConsolePort implements PortDevice {
  readonly name = "console";
  readonly base = CONSOLE_PORT;
  readonly count = 1;
  readonly wide = true;
  constructor(private readonly put: (byte: number) => void) {}
  read(_offset: number, size: AccessSize): number {
    return size === 1 ? 0xff : size === 2 ? 0xffff : 0xffffffff;
  }
  write(_offset: number, _size: AccessSize, value: number): boolean {
    this.put(value & 0xff);
    return false;
  }
  register(): string {
    return "byte";
  }
}

/** The platform's devices. The console (UART and port 0xE9) goes to `sink` in chunks as the guest writes
 *  it (the CLI writes them to stdout, so memory stays flat), or without a sink is kept for consoleText(). */
export class GuestIo implements IoHandler {
  readonly bus = new PortBus();
  readonly uart: Uart16550;
  readonly debugExit: DebugExit;
  readonly fwCfg: FwCfg;
  readonly pics: readonly [Pic8259, Pic8259];
  private readonly buf = new Uint8Array(CONSOLE_CHUNK);
  private n = 0;
  private kept = "";
  /** Console bytes written so far (streamed or kept). */
  consoleBytes = 0;
  /** `sink` receives each chunk (a view valid only during the call: copy what must outlive it). */
  constructor(
    private readonly sink: ((bytes: Uint8Array) => void) | null = null,
    opts: DeviceOptions = {},
  ) {
    const put = (b: number) => this.put(b);
    this.uart = new Uart16550(put);
    this.debugExit = new DebugExit(opts.exitStatus ?? "raw");
    this.fwCfg = new FwCfg(opts.memSize ?? 16 << 20);
    this.pics = [new Pic8259("pic-master", PIC_MASTER_BASE), new Pic8259("pic-slave", PIC_SLAVE_BASE)];
    for (const d of [new ConsolePort(put), this.uart, this.debugExit, this.fwCfg, ...this.pics]) this.bus.add(d);
    this.bus.trace = opts.trace ?? null;
  }
  /** The exit status the guest asked for through debug-exit (mapped), or null. */
  get exitStatus(): number | null {
    return this.debugExit.status;
  }
  /** --trace-io (null when off); memory-mapped devices report their accesses through `trace.mmio`. */
  get trace(): IoTrace | null {
    return this.bus.trace;
  }
  portIn(port: number, size: 1 | 2 | 4): number {
    return this.bus.portIn(port, size);
  }
  portOut(port: number, size: 1 | 2 | 4, value: number): boolean {
    return this.bus.portOut(port, size, value);
  }
  private put(byte: number): void {
    this.buf[this.n++] = byte;
    this.consoleBytes++;
    if (this.n === CONSOLE_CHUNK) this.drain();
  }
  /** Hand the bytes gathered so far on (the VMM calls this after every run chunk and at the end). */
  drain(): void {
    this.bus.trace?.flush();
    if (this.n === 0) return;
    const chunk = this.buf.subarray(0, this.n);
    this.n = 0;
    if (this.sink !== null) this.sink(chunk);
    else this.kept += latin1(chunk);
  }
  /** The console as text (one character per byte); "" for what a sink took. */
  consoleText(): string {
    this.drain();
    return this.kept;
  }
}

/** Bytes as a string of the same length (one character per byte, as the console is shown). */
export function latin1(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i += 8192)
    s += String.fromCharCode.apply(null, Array.from(bytes.subarray(i, i + 8192)));
  return s;
}
