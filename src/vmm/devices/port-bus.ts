/**
 * The ISA port space as the VMM sees it (what KVM forwards as KVM_EXIT_IO): one table from port to device,
 * so an access costs an array load. A device claims a run of ports; a port nobody claims reads all ones
 * and ignores writes, as QEMU's unassigned I/O region does (docs/devices.md "Unassigned ports").
 */
import type { IoTrace } from "./io-trace.js";

export type AccessSize = 1 | 2 | 4;

/** One device on the port bus. `base`..`base + count - 1` are its ports. */
export interface PortDevice {
  readonly name: string;
  readonly base: number;
  readonly count: number;
  /** True when the device takes 2- and 4-byte accesses whole (fw_cfg's 16-bit selector, debug-exit); false
   *  when it is byte-wide and a wider access reaches it one byte at a time, lowest port first (QEMU splits an
   *  access wider than a region's max_access_size the same way: serial.c and i8259.c take only bytes). */
  readonly wide: boolean;
  /** IN at base + offset: the value (only the low `size` bytes are used). */
  read(offset: number, size: AccessSize): number;
  /** OUT at base + offset: true when the guest asked to end the run. */
  write(offset: number, size: AccessSize, value: number): boolean;
  /** The register an access reaches, for --trace-io (e.g. "LSR", "DLL"). */
  register(offset: number, write: boolean): string;
}

const ONES = [0, 0xff, 0xffff, 0, 0xffffffff] as const;

export class PortBus {
  /** Port → index + 1 into `devices` (0 = unassigned). */
  private readonly map = new Uint8Array(0x10000);
  private readonly devices: PortDevice[] = [];
  /** --trace-io: every access, as it happens (null: not traced). */
  trace: IoTrace | null = null;

  /** Claim the device's ports. Overlapping claims are a bug in the platform's device list. */
  add(d: PortDevice): void {
    for (let p = d.base; p < d.base + d.count; p++)
      if (this.map[p] !== 0) throw new Error(`port 0x${p.toString(16)} claimed by ${d.name} and another device`);
    this.devices.push(d);
    this.map.fill(this.devices.length, d.base, d.base + d.count);
  }

  /** The device at a port, or null. */
  deviceAt(port: number): PortDevice | null {
    const i = this.map[port & 0xffff];
    return i === 0 ? null : this.devices[i - 1];
  }

  portIn(port: number, size: AccessSize): number {
    const d = this.deviceAt(port);
    let v: number;
    if (d?.wide) v = d.read(port - d.base, size) >>> 0;
    else if (size === 1) v = this.readByte(port);
    else {
      v = 0;
      for (let i = 0; i < size; i++) v |= this.readByte((port + i) & 0xffff) << (8 * i);
      v >>>= 0;
    }
    v = size === 4 ? v : v & ONES[size];
    if (this.trace !== null) this.trace.port(false, port, size, v, this.describe(port, size, false));
    return v;
  }

  portOut(port: number, size: AccessSize, value: number): boolean {
    const v = size === 4 ? value >>> 0 : value & ONES[size];
    if (this.trace !== null) this.trace.port(true, port, size, v, this.describe(port, size, true));
    const d = this.deviceAt(port);
    if (d?.wide) return d.write(port - d.base, size, v);
    let end = false;
    for (let i = 0; i < size; i++) {
      const p = (port + i) & 0xffff;
      const b = this.deviceAt(p);
      if (b?.write(p - b.base, 1, (v >>> (8 * i)) & 0xff)) end = true;
    }
    return end;
  }

  private readByte(port: number): number {
    const d = this.deviceAt(port);
    return d === null ? 0xff : d.read(port - d.base, 1) & 0xff;
  }

  /** "uart16550 LSR", or "unassigned"; a split access names each byte's register. */
  private describe(port: number, size: AccessSize, write: boolean): string {
    const d = this.deviceAt(port);
    if (d === null) return "unassigned";
    if (d.wide || size === 1) return `${d.name} ${d.register(port - d.base, write)}`;
    const parts: string[] = [];
    for (let i = 0; i < size; i++) {
      const b = this.deviceAt((port + i) & 0xffff);
      parts.push(b === null ? "unassigned" : `${b.name} ${b.register(((port + i) & 0xffff) - b.base, write)}`);
    }
    return parts.join(", ");
  }
}
