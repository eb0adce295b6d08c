/**
 * The code symbols of an ELF image, for `--trace` (what `nm -n` lists as t/T): every named symbol of the
 * symbol table (SHT_SYMTAB) whose section holds instructions (SHF_EXECINSTR), other than section and file
 * symbols, sorted by value. System V ABI, "Sections" and "Symbol Table", for ELF32 and ELF64. A stripped
 * image, or a table that does not fit in the file, gives no symbols: they only name trace lines.
 */
import { isElf, u32 } from "./elf.js";
import type { TraceSymbol } from "./trace.js";

const SHT_SYMTAB = 2;
const SHF_EXECINSTR = 0x4;
const STT_SECTION = 3;
const STT_FILE = 4;
const SHN_LORESERVE = 0xff00;

const u16 = (b: Uint8Array, o: number): number => b[o]! | (b[o + 1]! << 8);
/** A 64-bit field as a number when it is below 2^32 (offsets and code addresses here), else -1. */
const u64 = (b: Uint8Array, o: number): number => (u32(b, o + 4) === 0 ? u32(b, o) : -1);

interface Section {
  type: number;
  flags: number;
  offset: number;
  size: number;
  link: number;
  entsize: number;
}

export function elfTextSymbols(b: Uint8Array): TraceSymbol[] {
  if (!isElf(b) || b.length < 52) return [];
  const is64 = b[4] === 2;
  if (is64 && b.length < 64) return [];
  const shoff = is64 ? u64(b, 40) : u32(b, 32);
  const shentsize = u16(b, is64 ? 58 : 46);
  const shnum = u16(b, is64 ? 60 : 48);
  if (shoff <= 0 || shentsize < (is64 ? 64 : 40) || shoff + shnum * shentsize > b.length) return [];
  // Section header fields: offsets in the ELF64 / ELF32 layouts; flags, offset, size and entsize are
  // 8 bytes wide in ELF64 (read through `word`), 4 in ELF32.
  const at = is64
    ? { type: 4, flags: 8, offset: 24, size: 32, link: 40, entsize: 56 }
    : { type: 4, flags: 8, offset: 16, size: 20, link: 24, entsize: 36 };
  const word = is64 ? u64 : u32;
  const sections: Section[] = [];
  for (let i = 0; i < shnum; i++) {
    const o = shoff + i * shentsize;
    sections.push({
      type: u32(b, o + at.type),
      flags: word(b, o + at.flags),
      offset: word(b, o + at.offset),
      size: word(b, o + at.size),
      link: u32(b, o + at.link),
      entsize: word(b, o + at.entsize),
    });
  }
  const fits = (s: Section | undefined): s is Section =>
    !!s && s.offset >= 0 && s.size >= 0 && s.offset + s.size <= b.length;
  const symtab = sections.find((s) => s.type === SHT_SYMTAB);
  const strtab = symtab && sections[symtab.link];
  const symSize = is64 ? 24 : 16;
  if (!fits(symtab) || !fits(strtab) || symtab.entsize < symSize) return [];
  const out: TraceSymbol[] = [];
  const text = new TextDecoder("latin1");
  for (let o = symtab.offset; o + symSize <= symtab.offset + symtab.size; o += symtab.entsize) {
    const name = u32(b, o);
    const info = b[o + (is64 ? 4 : 12)]!;
    const shndx = u16(b, o + (is64 ? 6 : 14));
    const value = is64 ? u64(b, o + 8) : u32(b, o + 4);
    const type = info & 15;
    if (name === 0 || name >= strtab.size || type === STT_SECTION || type === STT_FILE || value < 0) continue;
    if (shndx === 0 || shndx >= SHN_LORESERVE || !((sections[shndx]?.flags ?? 0) & SHF_EXECINSTR)) continue;
    let end = strtab.offset + name;
    while (end < strtab.offset + strtab.size && b[end] !== 0) end++;
    out.push({ name: text.decode(b.subarray(strtab.offset + name, end)), value });
  }
  return out.sort((x, y) => x.value - y.value || (x.name < y.name ? -1 : x.name > y.name ? 1 : 0));
}
