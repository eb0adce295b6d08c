/**
 * `vpmu run --trace-io`: one line per port or MMIO access, formatted as it happens and handed on in chunks
 * (the CLI spools them as it spools the exit log), so memory stays flat however long the guest runs.
 * The port bus calls `port`; a memory-mapped device (the local APIC page) calls `mmio` with the same
 * fields, so every access of the platform appears in one list, in guest order.
 */

/** Text gathered before it is handed on. */
const CHUNK = 1 << 16;

export class IoTrace {
  /** Accesses traced so far. */
  count = 0;
  private pending = "";
  /** `sink` receives the text in chunks of whole lines. */
  constructor(private readonly sink: (text: string) => void) {}

  /** A port access: OUT (`write`) or IN, its port, size in bytes, the value written or read, and what it reached. */
  port(write: boolean, port: number, size: number, value: number, what: string): void {
    this.line(write ? "out" : "in", `0x${port.toString(16).padStart(4, "0")}`, size, value, what);
  }

  /** An MMIO access at a guest-physical address (for memory-mapped devices: the xAPIC page, through
   *  mmio-trace.ts): bits 31:0 of the value in `value`, bits 63:32 of an 8-byte access in `hi`. */
  mmio(write: boolean, address: number, size: number, value: number, hi: number, what: string): void {
    this.line(write ? "mmio-write" : "mmio-read", `0x${address.toString(16).padStart(8, "0")}`, size, value, what, hi);
  }

  /** Hand on what is gathered (after every run chunk and at the end). */
  flush(): void {
    if (this.pending === "") return;
    const t = this.pending;
    this.pending = "";
    this.sink(t);
  }

  private line(dir: string, where: string, size: number, value: number, what: string, hi = 0): void {
    this.count++;
    const lo = (value >>> 0).toString(16);
    const v =
      size > 4
        ? `0x${(hi >>> 0).toString(16).padStart(8, "0")}${lo.padStart(8, "0")}`
        : `0x${lo.padStart(size * 2, "0")}`;
    this.pending += `${dir.padEnd(10)} ${where.padEnd(10)} ${size}  ${v.padEnd(10)}  ${what}\n`;
    if (this.pending.length >= CHUNK) this.flush();
  }
}
