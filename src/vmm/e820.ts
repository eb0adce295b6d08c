/**
 * The PC memory map a kernel booted with `qemu -kernel` sees (the BIOS's INT 15h E820 answer, which
 * QEMU's Multiboot option ROM copies into the information block; pc-bios/optionrom/multiboot.S), and the
 * mem_lower/mem_upper figures derived from it. vpmu's guest RAM is one range from address 0, so only
 * sizes QEMU's pc machine keeps entirely below 4 GiB can be described (see maxKernelRam).
 */

export const E820_RAM = 1;
export const E820_RESERVED = 2;

export interface E820Entry {
  base: number;
  length: number;
  type: number;
}

/** The EBDA: SeaBIOS takes the last KiB below 640 KiB, so INT 12h (mem_lower) reports 639 KiB. */
const EBDA = 0x9fc00;
const LOW_RAM_END = 0xa0000;
/** The BIOS's high tables (ACPI, SMBIOS) at the top of RAM below 4 GiB: 128 KiB, marked reserved. */
const HIGH_TABLES = 0x20000;
/** QEMU's i440fx pc machine keeps RAM below 4 GiB while it is smaller than 3.5 GiB; from that size on,
 *  RAM past 3 GiB moves above 4 GiB (pc_init1: lowmem). vpmu has no RAM above 4 GiB. */
export const MAX_KERNEL_RAM = 0xe0000000 - 0x1000;
/** The smallest RAM the map below makes sense for: low memory, the BIOS area, and some RAM above 1 MiB. */
export const MIN_KERNEL_RAM = 0x200000;

/** The E820 map for `memSize` bytes of RAM (MIN_KERNEL_RAM <= memSize <= MAX_KERNEL_RAM), ascending. */
export function e820Map(memSize: number): E820Entry[] {
  return [
    { base: 0, length: EBDA, type: E820_RAM },
    { base: EBDA, length: LOW_RAM_END - EBDA, type: E820_RESERVED },
    { base: 0xf0000, length: 0x10000, type: E820_RESERVED }, // the BIOS image below 1 MiB
    { base: 0x100000, length: memSize - HIGH_TABLES - 0x100000, type: E820_RAM },
    { base: memSize - HIGH_TABLES, length: HIGH_TABLES, type: E820_RESERVED },
    { base: 0xfffc0000, length: 0x40000, type: E820_RESERVED }, // the BIOS ROM below 4 GiB
  ];
}

/** mem_lower in KiB: what INT 12h answers (the option ROM stores it). */
export const MEM_LOWER_KIB = EBDA >>> 10;

/** mem_upper in KiB: RAM contiguous from 1 MiB, found in the map as the option ROM does (type 1 entries
 *  below 4 GiB that extend the range, repeated until none does). */
export function memUpperKiB(map: readonly E820Entry[]): number {
  let end = 0x100000;
  for (let again = true; again; ) {
    again = false;
    for (const e of map)
      if (e.type === E820_RAM && e.base + e.length <= 2 ** 32 && e.base <= end && end < e.base + e.length) {
        end = e.base + e.length;
        again = true;
      }
  }
  return Math.floor((end - 0x100000) / 1024);
}
