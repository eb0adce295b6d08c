/**
 * Multiboot v1 (specification 0.6.96) as QEMU's `-kernel` loader does it (hw/i386/multiboot.c with the
 * option ROM pc-bios/optionrom/multiboot.S): find the header, place the kernel (by its ELF program
 * headers, or by the header's address fields when flag 16 is set: the "a.out kludge" kvm-unit-tests'
 * .flat files may use), then the module list, the command lines and the boot loader name after the
 * page-aligned kernel, each module on its own page, and the information block at 0x9500 with the memory
 * map at 0x9000. Facts: docs/loading.md, ../shared/spec/real-guests.md §1.
 */
import { err, ok, type Result } from "../result.js";
import { e820Map, MEM_LOWER_KIB, memUpperKiB } from "./e820.js";
import { u32, type ElfImage } from "./elf.js";

export const MULTIBOOT_HEADER_MAGIC = 0x1badb002;
/** The header must lie in the first 8 KiB, 4-aligned; QEMU searches up to 8192 - 48 (its full size). */
const SEARCH_END = 8192 - 48;
/** Header flags: bit 0 page-align modules, bit 1 memory information, bit 2 video mode, bit 16 address fields. */
export const MB_PAGE_ALIGN = 1 << 0;
export const MB_MEMORY_INFO = 1 << 1;
export const MB_VIDEO_MODE = 1 << 2;
export const MB_AOUT_KLUDGE = 1 << 16;
/** Required flags (bits 0-15) a loader must understand or refuse to boot; bits 0-2 are the defined ones. */
export const MB_UNKNOWN_REQUIRED = 0xfff8;

/** Information block flags QEMU sets: memory, boot device, cmdline, modules, memory map, loader name. */
export const MBI_FLAGS = (1 << 0) | (1 << 1) | (1 << 2) | (1 << 3) | (1 << 6) | (1 << 9);
/** Where QEMU puts the memory map and, 0x500 bytes on, the information block (multiboot.c). */
export const MMAP_ADDR = 0x9000;
export const MBI_ADDR = 0x9500;
export const MBI_SIZE = 88;
/** boot_device: no BIOS drive (QEMU's fixed value). */
const BOOT_DEVICE = 0x8000ffff;
export const BOOTLOADER_NAME = "qemu";
const MOD_SIZE = 16;
const PAGE = 4096;
const pageAlign = (n: number): number => Math.ceil(n / PAGE) * PAGE;

export interface MultibootHeader {
  /** File offset of the magic. */
  offset: number;
  flags: number;
  /** The address fields (flag 16): header_addr, load_addr, load_end_addr, bss_end_addr, entry_addr. */
  headerAddr: number;
  loadAddr: number;
  loadEndAddr: number;
  bssEndAddr: number;
  entryAddr: number;
}

/**
 * The first valid Multiboot header in the first 8 KiB (4-aligned, magic + flags + checksum = 0 mod 2^32);
 * null when there is no magic at all; an error when the magic appears only with a bad checksum.
 */
export function findMultibootHeader(b: Uint8Array): Result<MultibootHeader | null> {
  let bad = -1;
  const end = Math.min(SEARCH_END, b.length - 12);
  for (let i = 0; i <= end; i += 4) {
    if (u32(b, i) !== MULTIBOOT_HEADER_MAGIC) continue;
    const flags = u32(b, i + 4);
    if (((MULTIBOOT_HEADER_MAGIC + flags + u32(b, i + 8)) & 0xffffffff) !== 0) {
      if (bad < 0) bad = i;
      continue;
    }
    const field = (k: number) => (i + 12 + 4 * k + 4 <= b.length ? u32(b, i + 12 + 4 * k) : 0);
    if ((flags & MB_AOUT_KLUDGE) !== 0 && i + 32 > b.length)
      return err(
        `Multiboot header at offset 0x${i.toString(16)} sets flag 16 but the file ends inside its address fields`,
      );
    return ok({
      offset: i,
      flags,
      headerAddr: field(0),
      loadAddr: field(1),
      loadEndAddr: field(2),
      bssEndAddr: field(3),
      entryAddr: field(4),
    });
  }
  if (bad >= 0) {
    const sum = (MULTIBOOT_HEADER_MAGIC + u32(b, bad + 4) + u32(b, bad + 8)) >>> 0;
    return err(
      `Multiboot header at offset 0x${bad.toString(16)} has a bad checksum: magic + flags + checksum = 0x${sum.toString(16)}, not 0`,
    );
  }
  return ok(null);
}

/** A piece of guest memory the loader fills: `bytes` at `addr`, then zeros up to `size`. */
export interface BootRegion {
  addr: number;
  size: number;
  bytes: Uint8Array;
  /** What it is, for error messages ("kernel segment 1", "module 0 (env)"). */
  what: string;
}

/** The kernel's pieces before the information block is built: from the ELF or the address fields. */
export interface KernelPlacement {
  regions: BootRegion[];
  entry: number;
  /** Lowest and one-past-highest address the kernel occupies (QEMU's mb_buf_phys and its end). */
  low: number;
  high: number;
}

/** The kernel placed by its PT_LOAD segments (flag 16 clear). */
export function placeElf(file: Uint8Array, elf: ElfImage): KernelPlacement {
  const regions = elf.segments.map((s, i) => ({
    addr: s.paddr,
    size: s.memsz,
    bytes: file.subarray(s.offset, s.offset + s.filesz),
    what: `ELF segment ${i}`,
  }));
  const low = Math.min(...regions.map((r) => r.addr));
  const high = Math.max(...regions.map((r) => r.addr + r.size));
  return { regions, entry: elf.entry, low, high };
}

/** The kernel placed by the header's address fields (flag 16), with QEMU's checks. */
export function placeByAddressFields(file: Uint8Array, h: MultibootHeader): Result<KernelPlacement> {
  const hx = (n: number) => "0x" + n.toString(16);
  if (h.headerAddr < h.loadAddr)
    return err(`Multiboot header_addr ${hx(h.headerAddr)} is below load_addr ${hx(h.loadAddr)}`);
  const textOffset = h.offset - (h.headerAddr - h.loadAddr);
  if (textOffset < 0)
    return err(
      `Multiboot load_addr ${hx(h.loadAddr)} lies ${hx(-textOffset)} bytes before the start of the file (header_addr ${hx(h.headerAddr)} is at offset ${hx(h.offset)})`,
    );
  let loadSize: number;
  if (h.loadEndAddr !== 0) {
    if (h.loadEndAddr < h.loadAddr)
      return err(`Multiboot load_end_addr ${hx(h.loadEndAddr)} is below load_addr ${hx(h.loadAddr)}`);
    loadSize = h.loadEndAddr - h.loadAddr;
    if (textOffset + loadSize > file.length)
      return err(
        `truncated Multiboot image: load_end_addr ${hx(h.loadEndAddr)} needs ${loadSize} bytes from offset ${hx(textOffset)}, the file has ${file.length}`,
      );
  } else loadSize = file.length - textOffset;
  let size = loadSize;
  if (h.bssEndAddr !== 0) {
    if (h.bssEndAddr < h.loadAddr + loadSize)
      return err(
        `Multiboot bss_end_addr ${hx(h.bssEndAddr)} is below the end of the loaded image ${hx(h.loadAddr + loadSize)}`,
      );
    size = h.bssEndAddr - h.loadAddr;
  }
  return ok({
    regions: [
      { addr: h.loadAddr, size, bytes: file.subarray(textOffset, textOffset + loadSize), what: "kernel image" },
    ],
    entry: h.entryAddr,
    low: h.loadAddr,
    high: h.loadAddr + size,
  });
}

export interface BootModule {
  /** The module's string (QEMU: the -initrd argument as given). */
  name: string;
  bytes: Uint8Array;
}

export interface MultibootOptions {
  /** The kernel's name as given (the first word of the command line, as QEMU passes it). */
  kernelName: string;
  /** The --append text. */
  cmdline: string;
  modules: readonly BootModule[];
  memSize: number;
}

const latin1 = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0) & 0xff);

/**
 * The regions QEMU adds around a placed kernel: module list + strings after the page-aligned kernel,
 * the modules each page-aligned after those, and the memory map + information block at 0x9000.
 */
export function multibootRegions(k: KernelPlacement, o: MultibootOptions): BootRegion[] {
  const base = k.low;
  const offsetMbinfo = pageAlign(k.high - k.low);
  const n = o.modules.length;
  const kernelCmdline = latin1(`${o.kernelName} ${o.cmdline}\0`);
  const modNames = o.modules.map((m) => latin1(m.name + "\0"));
  const loaderName = latin1(BOOTLOADER_NAME + "\0");
  const cmdlineLen = kernelCmdline.length + modNames.reduce((a, m) => a + m.length, 0);
  // The buffer after the kernel: module structures, the module strings then the kernel's, the loader name.
  const strings = new Uint8Array(n * MOD_SIZE + cmdlineLen + loaderName.length);
  const view = new DataView(strings.buffer);
  let p = n * MOD_SIZE;
  const modString: number[] = [];
  for (const m of modNames) {
    modString.push(base + offsetMbinfo + p);
    strings.set(m, p);
    p += m.length;
  }
  const cmdlineAddr = base + offsetMbinfo + p;
  strings.set(kernelCmdline, p);
  p += kernelCmdline.length;
  const loaderAddr = base + offsetMbinfo + p;
  strings.set(loaderName, p);
  const regions: BootRegion[] = [
    { addr: base + offsetMbinfo, size: strings.length, bytes: strings, what: "Multiboot module list and strings" },
  ];
  let offs = pageAlign(offsetMbinfo + strings.length);
  o.modules.forEach((m, i) => {
    view.setUint32(i * MOD_SIZE, base + offs, true);
    view.setUint32(i * MOD_SIZE + 4, base + offs + m.bytes.length, true);
    view.setUint32(i * MOD_SIZE + 8, modString[i]!, true);
    regions.push({ addr: base + offs, size: m.bytes.length, bytes: m.bytes, what: `module ${i} (${m.name})` });
    offs = pageAlign(offs + m.bytes.length);
  });
  const map = e820Map(o.memSize);
  const info = new Uint8Array(MBI_ADDR - MMAP_ADDR + MBI_SIZE);
  const iv = new DataView(info.buffer);
  map.forEach((e, i) => {
    const at = i * 24;
    iv.setUint32(at, 20, true); // size of the entry after this field
    iv.setUint32(at + 4, e.base >>> 0, true);
    iv.setUint32(at + 8, Math.floor(e.base / 2 ** 32), true);
    iv.setUint32(at + 12, e.length >>> 0, true);
    iv.setUint32(at + 16, Math.floor(e.length / 2 ** 32), true);
    iv.setUint32(at + 20, e.type, true);
  });
  const mbi = MBI_ADDR - MMAP_ADDR;
  iv.setUint32(mbi + 0, MBI_FLAGS, true);
  iv.setUint32(mbi + 4, MEM_LOWER_KIB, true);
  iv.setUint32(mbi + 8, memUpperKiB(map), true);
  iv.setUint32(mbi + 12, BOOT_DEVICE, true);
  iv.setUint32(mbi + 16, cmdlineAddr, true);
  iv.setUint32(mbi + 20, n, true);
  iv.setUint32(mbi + 24, base + offsetMbinfo, true);
  iv.setUint32(mbi + 44, map.length * 24, true);
  iv.setUint32(mbi + 48, MMAP_ADDR, true);
  iv.setUint32(mbi + 64, loaderAddr, true);
  regions.push({ addr: MMAP_ADDR, size: info.length, bytes: info, what: "Multiboot information block" });
  return regions;
}
