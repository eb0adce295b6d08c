/**
 * Booting a kernel image (docs/loading.md): a file with a Multiboot v1 header boots as `qemu -kernel`
 * boots it (multiboot.ts); an ELF32 without one boots the same way (vpmu has no other 32-bit protocol);
 * an ELF64 without one enters the guest ABI's 64-bit state at its entry point (docs/guest-abi.md).
 * The result is a BootImage: what goes where in guest RAM, the entry point and the entry registers.
 */
import { err, ok, type Result } from "../result.js";
import { MAX_KERNEL_RAM, MIN_KERNEL_RAM } from "./e820.js";
import { isElf, parseElf } from "./elf.js";
import {
  findMultibootHeader,
  MB_AOUT_KLUDGE,
  MB_UNKNOWN_REQUIRED,
  MBI_ADDR,
  multibootRegions,
  placeByAddressFields,
  placeElf,
  type BootModule,
  type BootRegion,
  type KernelPlacement,
} from "./multiboot.js";

export interface BootImage {
  /** Copied into RAM in order (bytes, then zeros up to size); none overlaps another or leaves RAM. */
  regions: BootRegion[];
  entry: number;
  /** 32: the Multiboot entry state (EAX = 0x2BADB002, EBX = the information block); 64: the guest ABI's. */
  bits: 32 | 64;
  /** EBX at entry: the information block's address (0 for a 64-bit entry). */
  ebx: number;
  /** How it was loaded, for messages: "Multiboot (ELF32)", "Multiboot (address fields)", "ELF64". */
  how: string;
}

export interface KernelOptions {
  kernelName: string;
  cmdline: string;
  modules: readonly BootModule[];
  memSize: number;
}

/** Whether `vpmu run` should boot the bytes as a kernel: ELF, or a Multiboot magic in the first 8 KiB. */
export function isKernelImage(b: Uint8Array): boolean {
  if (isElf(b)) return true;
  const h = findMultibootHeader(b);
  return !h.ok || h.value !== null;
}

const hx = (n: number): string => "0x" + n.toString(16);
const span = (r: BootRegion): string => `${hx(r.addr)}-${hx(r.addr + Math.max(r.size, 1) - 1)}`;

/** Place the image and its boot data, checking every region lies in RAM and overlaps no other. */
export function loadKernel(file: Uint8Array, o: KernelOptions): Result<BootImage> {
  if (o.memSize < MIN_KERNEL_RAM || o.memSize > MAX_KERNEL_RAM)
    return err(
      `a booted kernel needs between 2 MiB and 3.5 GiB - 4 KiB of RAM (got ${o.memSize} bytes): from 3.5 GiB on QEMU's pc machine maps RAM above 4 GiB, and vpmu's guest RAM is one range from address 0`,
    );
  const header = findMultibootHeader(file);
  if (!header.ok) return header;
  const h = header.value;
  // Multiboot 3.1.2: bits 0-15 are requirements a loader that does not understand them must refuse.
  if (h !== null && (h.flags & MB_UNKNOWN_REQUIRED) !== 0)
    return err(
      `Multiboot header flags 0x${h.flags.toString(16)} require features this loader does not know (bits 3-15; only 0-2 are defined)`,
    );
  const elf = isElf(file) ? parseElf(file) : null;
  if (elf !== null && !elf.ok && (h === null || (h.flags & MB_AOUT_KLUDGE) === 0)) return elf;
  let placed: KernelPlacement;
  let how: string;
  if (h !== null && (h.flags & MB_AOUT_KLUDGE) !== 0) {
    const p = placeByAddressFields(file, h);
    if (!p.ok) return p;
    placed = p.value;
    how = "Multiboot (address fields)";
  } else if (elf?.ok) {
    placed = placeElf(file, elf.value);
    if (elf.value.bits === 64 && h === null) return finish(placed, [], 64, 0, "ELF64", o.memSize);
    how = h === null ? "ELF32 (booted as Multiboot)" : `Multiboot (ELF${elf.value.bits})`;
  } else
    return err(
      "Multiboot header without address fields (flag 16 clear) in a file that is not ELF: nothing says where to load it",
    );
  if (placed.high > 2 ** 32)
    return err(`the kernel ends at ${hx(placed.high)}, past 4 GiB: a Multiboot kernel loads below 4 GiB`);
  const extra = multibootRegions(placed, o);
  return finish(placed, extra, 32, MBI_ADDR, how, o.memSize);
}

function finish(
  k: KernelPlacement,
  extra: BootRegion[],
  bits: 32 | 64,
  ebx: number,
  how: string,
  memSize: number,
): Result<BootImage> {
  const regions = [...k.regions, ...extra];
  for (const r of regions)
    if (r.addr + r.size > memSize)
      return err(`${r.what} at ${span(r)} does not fit in ${memSize} bytes of guest RAM (--mem raises it)`);
  const sorted = regions.filter((r) => r.size > 0).sort((a, b) => a.addr - b.addr);
  for (let i = 1; i < sorted.length; i++) {
    const a = sorted[i - 1]!,
      b = sorted[i]!;
    if (a.addr + a.size > b.addr) return err(`${a.what} at ${span(a)} overlaps ${b.what} at ${span(b)}`);
  }
  if (!k.regions.some((r) => k.entry >= r.addr && k.entry < r.addr + r.size))
    return err(`the entry point ${hx(k.entry)} lies outside everything the image loads`);
  return ok({ regions, entry: k.entry, bits, ebx, how });
}
