/**
 * ELF executables as a loader reads them: the file header (class, machine, entry) and the PT_LOAD
 * program headers (System V ABI, "Program Loading"). Segments load at their physical addresses (p_paddr,
 * as QEMU's load_elf does for -kernel), p_filesz bytes copied from the file, the rest up to p_memsz zero
 * (the bss). Every problem is one sentence (a Result), never an exception.
 */
import { err, ok, type Result } from "../result.js";

export const ELF_MAGIC = 0x464c457f; // "\x7fELF" read little-endian
const ELFCLASS32 = 1;
const ELFCLASS64 = 2;
const ELFDATA2LSB = 1;
const ET_EXEC = 2;
const EM_386 = 3;
const EM_X86_64 = 62;
const PT_LOAD = 1;

/** One PT_LOAD segment: `filesz` bytes at file `offset` go to physical `paddr`, then zeros up to `memsz`. */
export interface ElfSegment {
  paddr: number;
  offset: number;
  filesz: number;
  memsz: number;
}

export interface ElfImage {
  bits: 32 | 64;
  entry: number;
  segments: ElfSegment[];
}

/** Whether the bytes start with the ELF magic (whatever the file's name). */
export function isElf(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && u32(bytes, 0) === ELF_MAGIC;
}

function u16(b: Uint8Array, o: number): number {
  return b[o]! | (b[o + 1]! << 8);
}
export function u32(b: Uint8Array, o: number): number {
  return (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)) >>> 0;
}
/** A 64-bit field as a number; values past 2^53 (never a usable physical address here) become Infinity. */
function u64(b: Uint8Array, o: number): number {
  const hi = u32(b, o + 4);
  return hi >= 0x200000 ? Infinity : hi * 4294967296 + u32(b, o);
}

const hex = (n: number): string => (Number.isFinite(n) ? "0x" + n.toString(16) : "an address past 2^53");

/** Parse an x86 ELF executable's header and PT_LOAD segments (ELF32 with EM_386, ELF64 with EM_X86_64). */
export function parseElf(b: Uint8Array): Result<ElfImage> {
  if (!isElf(b)) return err("not an ELF file (no \\x7fELF magic)");
  if (b.length < 52) return err(`truncated ELF file: ${b.length} bytes, shorter than an ELF header`);
  const cls = b[4];
  if (cls !== ELFCLASS32 && cls !== ELFCLASS64) return err(`ELF class ${cls} is neither ELF32 (1) nor ELF64 (2)`);
  if (b[5] !== ELFDATA2LSB) return err("big-endian ELF file: an x86 image is little-endian");
  const bits = cls === ELFCLASS64 ? 64 : 32;
  if (bits === 64 && b.length < 64) return err(`truncated ELF file: ${b.length} bytes, shorter than an ELF64 header`);
  const type = u16(b, 16);
  if (type !== ET_EXEC) return err(`ELF type ${type} is not an executable (ET_EXEC = 2): link the image first`);
  const machine = u16(b, 18);
  if (machine !== (bits === 64 ? EM_X86_64 : EM_386))
    return err(`ELF${bits} machine ${machine} is not ${bits === 64 ? "x86-64 (EM_X86_64 = 62)" : "i386 (EM_386 = 3)"}`);
  const entry = bits === 64 ? u64(b, 24) : u32(b, 24);
  const phoff = bits === 64 ? u64(b, 32) : u32(b, 28);
  const phentsize = u16(b, bits === 64 ? 54 : 42);
  const phnum = u16(b, bits === 64 ? 56 : 44);
  const minEnt = bits === 64 ? 56 : 32;
  if (phnum === 0) return err("ELF file has no program headers: nothing to load");
  if (phentsize < minEnt) return err(`ELF program header size ${phentsize} is smaller than ${minEnt} bytes`);
  if (phoff + phnum * phentsize > b.length)
    return err(
      `truncated ELF file: its ${phnum} program headers at offset ${hex(phoff)} end past the file's ${b.length} bytes`,
    );
  const segments: ElfSegment[] = [];
  for (let i = 0; i < phnum; i++) {
    const o = phoff + i * phentsize;
    if (u32(b, o) !== PT_LOAD) continue;
    const seg: ElfSegment =
      bits === 64
        ? { offset: u64(b, o + 8), paddr: u64(b, o + 24), filesz: u64(b, o + 32), memsz: u64(b, o + 40) }
        : { offset: u32(b, o + 4), paddr: u32(b, o + 12), filesz: u32(b, o + 16), memsz: u32(b, o + 20) };
    if (seg.memsz < seg.filesz)
      return err(
        `ELF segment ${i} has a memory size (${hex(seg.memsz)}) smaller than its file size (${hex(seg.filesz)})`,
      );
    if (seg.offset + seg.filesz > b.length)
      return err(
        `truncated ELF file: segment ${i} needs bytes up to offset ${hex(seg.offset + seg.filesz)}, the file has ${b.length}`,
      );
    if (seg.memsz > 0) segments.push(seg);
  }
  if (segments.length === 0) return err("ELF file has no PT_LOAD segment: nothing to load");
  return ok({ bits, entry, segments });
}
