/**
 * fw_cfg, the legacy I/O interface (QEMU hw/nvram/fw_cfg.c, "comb" region at 0x510, two ports): a 16-bit
 * write selects an item and rewinds it; a byte read (at 0x510 or 0x511) returns the item's next byte, or 0
 * past its end, for an item that does not exist, or after selecting a key beyond the table. Byte writes
 * (the old write channel) are ignored; other access sizes are not valid for the region and behave as an
 * unassigned port. The items: what kvm-unit-tests' lib/x86 (fwcfg.c, setup.c) and a Multiboot kernel
 * read, with QEMU's encodings. No DMA interface: FW_CFG_ID says "traditional only" and 0x514 is unassigned.
 */
import type { AccessSize, PortDevice } from "./port-bus.js";

export const FW_CFG_BASE = 0x510;

/** Item keys (QEMU include/standard-headers/linux/qemu_fw_cfg.h; kvm-unit-tests lib/x86/fwcfg.h). */
export const FW_CFG_SIGNATURE = 0x00;
export const FW_CFG_ID = 0x01;
export const FW_CFG_RAM_SIZE = 0x03;
export const FW_CFG_NB_CPUS = 0x05;
export const FW_CFG_MAX_CPUS = 0x0f;
export const FW_CFG_FILE_DIR = 0x19;
/** A key at or above this (with the write-channel and arch-local bits removed) selects nothing:
 *  FW_CFG_FILE_FIRST 0x20 + the default 0x20 file slots (fw_cfg_max_entry). */
const FW_CFG_MAX_ENTRY = 0x40;
const FW_CFG_ENTRY_MASK = 0x3fff;

/** The items, built once: little-endian numbers except the file directory's big-endian count. */
export function fwCfgItems(memSize: number, cpus: number): Map<number, Uint8Array> {
  const le = (n: number, bytes: number) => {
    const b = new Uint8Array(bytes);
    for (let i = 0; i < bytes; i++) b[i] = Math.floor(n / 2 ** (8 * i)) & 0xff;
    return b;
  };
  return new Map([
    [FW_CFG_SIGNATURE, new Uint8Array([0x51, 0x45, 0x4d, 0x55])], // "QEMU"
    [FW_CFG_ID, le(1, 4)], // bit 0: the traditional interface; bit 1 (DMA) clear
    [FW_CFG_RAM_SIZE, le(memSize, 8)],
    [FW_CFG_NB_CPUS, le(cpus, 2)],
    [FW_CFG_MAX_CPUS, le(cpus, 2)],
    [FW_CFG_FILE_DIR, new Uint8Array(4)], // struct FWCfgFiles: count (big-endian) = 0, no entries
  ]);
}

export class FwCfg implements PortDevice {
  readonly name = "fw_cfg";
  readonly base = FW_CFG_BASE;
  readonly count = 2;
  readonly wide = true;
  private readonly items: Map<number, Uint8Array>;
  /** The selected item (null: an invalid key) and the offset of its next byte. */
  private cur: Uint8Array | null = null;
  key = -1;
  private offset = 0;

  constructor(memSize: number, cpus = 1) {
    this.items = fwCfgItems(memSize, cpus);
  }

  read(_offset: number, size: AccessSize): number {
    if (size !== 1) return size === 2 ? 0xffff : 0xffffffff; // not a valid access of the region
    if (this.cur === null || this.offset >= this.cur.length) return 0;
    return this.cur[this.offset++];
  }

  write(_offset: number, size: AccessSize, value: number): boolean {
    if (size !== 2) return false; // byte: the removed write channel; dword: not valid
    this.key = value & 0xffff;
    this.offset = 0;
    this.cur = (this.key & FW_CFG_ENTRY_MASK) >= FW_CFG_MAX_ENTRY ? null : (this.items.get(this.key) ?? null);
    return false;
  }

  register(offset: number, write: boolean): string {
    if (write) return offset === 0 ? "selector" : "data (ignored)";
    return `data[key 0x${this.key.toString(16)}]`;
  }
}
