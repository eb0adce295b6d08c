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

/** The guest ABI devices: console bytes, exit status. Other ports: OUT ignored, IN reads all ones
 *  (an unclaimed ISA port, as on a PC). */
export class GuestIo implements IoHandler {
  readonly console: number[] = [];
  exitStatus: number | null = null;
  portIn(_port: number, size: 1 | 2 | 4): number {
    return size === 1 ? 0xff : size === 2 ? 0xffff : 0xffffffff;
  }
  portOut(port: number, _size: 1 | 2 | 4, value: number): boolean {
    if (port === CONSOLE_PORT) {
      this.console.push(value & 0xff);
      return false;
    }
    if (port === EXIT_PORT) {
      this.exitStatus = value & 0xff;
      return true;
    }
    return false;
  }
  consoleText(): string {
    let s = "";
    for (const b of this.console) s += String.fromCharCode(b);
    return s;
  }
}
