/**
 * The userspace side of port I/O (what KVM forwards to the VMM as KVM_EXIT_IO): the guest console on
 * port 0xE9 and the exit port 0xF4 of the guest ABI (docs/guest-abi.md).
 */

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

/** The guest ABI devices: console bytes, exit status. Other ports: OUT ignored, IN reads all ones
 *  (an unclaimed ISA port, as on a PC). The console goes to `sink` in chunks as the guest writes it (the
 *  CLI writes them to stdout, so memory stays flat), or without a sink is kept for consoleText(). */
export class GuestIo implements IoHandler {
  exitStatus: number | null = null;
  private readonly buf = new Uint8Array(CONSOLE_CHUNK);
  private n = 0;
  private kept = "";
  /** Console bytes written so far (streamed or kept). */
  consoleBytes = 0;
  /** `sink` receives each chunk (a view valid only during the call: copy what must outlive it). */
  constructor(private readonly sink: ((bytes: Uint8Array) => void) | null = null) {}
  portIn(_port: number, size: 1 | 2 | 4): number {
    return size === 1 ? 0xff : size === 2 ? 0xffff : 0xffffffff;
  }
  portOut(port: number, _size: 1 | 2 | 4, value: number): boolean {
    if (port === CONSOLE_PORT) {
      this.buf[this.n++] = value & 0xff;
      this.consoleBytes++;
      if (this.n === CONSOLE_CHUNK) this.drain();
      return false;
    }
    if (port === EXIT_PORT) {
      this.exitStatus = value & 0xff;
      return true;
    }
    return false;
  }
  /** Hand the bytes gathered so far on (the VMM calls this after every run chunk and at the end). */
  drain(): void {
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
