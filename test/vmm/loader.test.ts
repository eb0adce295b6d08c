// The kernel loader (src/vmm/elf.ts, multiboot.ts, kernel.ts, e820.ts): where every piece lands, the
// information block byte by byte, the memory map, the entry registers, bss zero fill, and one sentence
// for each kind of bad image.
import { describe, expect, it } from "vitest";
import { Guest, loadKernel, type BootImage } from "../../src/vmm/index.js";
import { buildElf, concat, mbHeader } from "./elf-build.js";

const MIB = 1 << 20;
const HLT = Uint8Array.of(0xf4);
const opts = (memSize = 32 * MIB) => ({
  kernelName: "k.elf",
  cmdline: "a=1",
  modules: [{ name: "env", bytes: new TextEncoder().encode("X=1\n") }],
  memSize,
});

function boot(file: Uint8Array, o = opts()): BootImage {
  const r = loadKernel(file, o);
  if (!r.ok) throw new Error(r.error);
  return r.value;
}
function error(file: Uint8Array, o = opts()): string {
  const r = loadKernel(file, o);
  return r.ok ? "loaded" : r.error;
}
function guest(img: BootImage, memSize = 32 * MIB): Guest {
  const g = Guest.create(img, 0, { memSize });
  if ("error" in g) throw new Error(g.error);
  return g;
}
const u32 = (m: Uint8Array, a: number) => new DataView(m.buffer, m.byteOffset).getUint32(a, true);
const cstr = (m: Uint8Array, a: number) => {
  let s = "";
  while (m[a] !== 0) s += String.fromCharCode(m[a++]!);
  return s;
};

/** ELF32 Multiboot kernel: header + hlt at 0x100000 (entry 0x10000c), bss to 0x101800; the file ends with
 *  0xAA bytes past the segment, which must not reach the bss. */
const elf32 = buildElf(
  32,
  0x10000c,
  [{ paddr: 0x100000, bytes: concat(mbHeader(3), HLT), memsz: 0x1800 }],
  new Uint8Array(64).fill(0xaa),
);

describe("ELF32 Multiboot kernel", () => {
  const img = boot(elf32);
  const g = guest(img);
  const m = g.cpu.mem;
  it("places the kernel, the module list and strings after it, the module on the next page", () => {
    expect(img.how).toBe("Multiboot (ELF32)");
    expect(img.regions.map((r) => [r.what, r.addr, r.size])).toEqual([
      ["ELF segment 0", 0x100000, 0x1800],
      ["Multiboot module list and strings", 0x102000, 35],
      ["module 0 (env)", 0x103000, 4],
      ["Multiboot information block", 0x9000, 0x558],
    ]);
    expect(cstr(m, 0x102010)).toBe("env");
    expect(cstr(m, 0x102014)).toBe("k.elf a=1");
    expect(cstr(m, 0x10201e)).toBe("qemu");
    expect(Array.from(m.subarray(0x102000, 0x102010))).toEqual([
      0x00, 0x30, 0x10, 0x00, 0x04, 0x30, 0x10, 0x00, 0x10, 0x20, 0x10, 0x00, 0, 0, 0, 0,
    ]);
    expect(cstr(m, 0x103000)).toBe("X=1\n");
  });
  it("zero-fills the bss: the file's bytes past p_filesz are not copied", () => {
    expect(m[0x10000c]).toBe(0xf4);
    expect(m.subarray(0x10000d, 0x101800).every((b) => b === 0)).toBe(true);
  });
  it("writes the information block at 0x9500 field by field", () => {
    const want: [number, number][] = [
      [0, 0x24f], // flags: memory, boot device, cmdline, modules, mmap, loader name
      [4, 639], // mem_lower (KiB)
      [8, (32 * MIB - 0x20000 - MIB) / 1024], // mem_upper: 31616 KiB
      [12, 0x8000ffff],
      [16, 0x102014],
      [20, 1],
      [24, 0x102000],
      [44, 144],
      [48, 0x9000],
      [64, 0x10201e],
    ];
    for (let off = 0; off < 88; off += 4)
      expect([off, u32(m, 0x9500 + off)]).toEqual([off, want.find(([o]) => o === off)?.[1] ?? 0]);
  });
  it("writes the memory map at 0x9000: size 20, base, length, type per entry", () => {
    const entries: number[][] = [];
    for (let a = 0x9000; a < 0x9000 + 144; a += 24)
      entries.push([u32(m, a), u32(m, a + 8), u32(m, a + 4), u32(m, a + 16), u32(m, a + 12), u32(m, a + 20)]);
    expect(entries).toEqual([
      [20, 0, 0, 0, 0x9fc00, 1],
      [20, 0, 0x9fc00, 0, 0x400, 2],
      [20, 0, 0xf0000, 0, 0x10000, 2],
      [20, 0, 0x100000, 0, 0x1ee0000, 1],
      [20, 0, 0x1fe0000, 0, 0x20000, 2],
      [20, 0, 0xfffc0000, 0, 0x40000, 2],
    ]);
  });
  it("enters as QEMU's option ROM leaves the CPU: 32-bit, paging off, EAX magic, EBX the block", () => {
    const c = g.cpu;
    expect([c.rip, c.getLo(0), c.getLo(3), c.getLo(1), c.getLo(2), c.getLo(6), c.getLo(7)]).toEqual([
      0x10000c, 0x2badb002, 0x9500, 0, 0, 0, 0,
    ]);
    expect([c.cr0, c.cr4, c.efer, c.rflags, c.cpl]).toEqual([0x11, 0, 0, 2, 0]);
    expect(Array.from(c.segSel)).toEqual([0x10, 0x08, 0x10, 0x10, 0x10, 0x10]);
    expect(g.runChunk()?.stop).toBe("halted");
  });
});

describe("Multiboot address fields (flag 16, the a.out kludge)", () => {
  // 8 bytes before the header; header_addr 0x200008 → load_addr 0x200000 is the file's first byte.
  const file = concat(
    new Uint8Array(8).fill(0x11),
    mbHeader(0x10003, [0x200008, 0x200000, 0x200040, 0x201000, 0x200030]),
    new Uint8Array(8),
    HLT,
    new Uint8Array(0x2f).fill(0xbb),
  );
  const img = boot(file, { ...opts(), modules: [] });
  it("loads load_end - load bytes from the header's file offset and zeroes up to bss_end", () => {
    expect(img.how).toBe("Multiboot (address fields)");
    expect(img.regions[0]).toMatchObject({ addr: 0x200000, size: 0x1000 });
    expect(img.regions[0]!.bytes).toEqual(file.subarray(0, 0x40));
    expect(img.entry).toBe(0x200030);
    const m = guest(img).cpu.mem;
    expect(m[0x200030]).toBe(0xf4);
    expect(m[0x200031]).toBe(0xbb);
    expect(m.subarray(0x200040, 0x201000).every((b) => b === 0)).toBe(true);
    expect(u32(m, 0x9500 + 24)).toBe(0x201000); // mods_addr: right after the page-aligned kernel
    expect(u32(m, 0x9500 + 20)).toBe(0);
  });
});

describe("ELF64", () => {
  it("without a Multiboot header: the guest ABI's 64-bit entry at e_entry", () => {
    const img = boot(buildElf(64, 0x300000, [{ paddr: 0x300000, bytes: HLT, memsz: 0x10 }]));
    expect([img.how, img.bits, img.entry, img.ebx, img.regions.length]).toEqual(["ELF64", 64, 0x300000, 0, 1]);
    const c = guest(img).cpu;
    expect([c.rip, c.cr0, c.getLo(0), c.getLo(3)]).toEqual([0x300000, 0x80000031, 0, 0]);
  });
  it("with one: loaded by its program headers and booted as Multiboot (as GRUB does; QEMU refuses ELF64)", () => {
    const img = boot(buildElf(64, 0x10000c, [{ paddr: 0x100000, bytes: concat(mbHeader(2), HLT), memsz: 13 }]));
    expect([img.how, img.bits, img.ebx]).toEqual(["Multiboot (ELF64)", 32, 0x9500]);
  });
});

describe("bad images: one sentence each", () => {
  const seg = (paddr: number, memsz: number) => ({ paddr, bytes: concat(mbHeader(3), HLT), memsz });
  it.each([
    ["a truncated header", elf32.subarray(0, 40), "truncated ELF file: 40 bytes, shorter than an ELF header"],
    [
      "a truncated segment",
      elf32.subarray(0, 90),
      "truncated ELF file: segment 0 needs bytes up to offset 0x61, the file has 90",
    ],
    [
      "a segment outside RAM",
      buildElf(32, 0x1ff000c, [seg(0x1ff0000, 0x20000)]),
      "ELF segment 0 at 0x1ff0000-0x200ffff does not fit in 33554432 bytes of guest RAM (--mem raises it)",
    ],
    [
      "a segment over the information block",
      buildElf(32, 0x800c, [seg(0x8000, 0x2000)]),
      "ELF segment 0 at 0x8000-0x9fff overlaps Multiboot information block at 0x9000-0x9557",
    ],
    [
      "overlapping segments",
      buildElf(32, 0x10000c, [seg(0x100000, 0x2000), { paddr: 0x101000, bytes: HLT, memsz: 1 }]),
      "ELF segment 0 at 0x100000-0x101fff overlaps ELF segment 1 at 0x101000-0x101000",
    ],
    [
      "a bad checksum",
      concat(mbHeader(0x10003, [0x100000, 0x100000, 0, 0, 0x100000], 1)),
      "Multiboot header at offset 0x0 has a bad checksum: magic + flags + checksum = 0x1, not 0",
    ],
    [
      "an unknown required flag",
      buildElf(32, 0x10000c, [{ paddr: 0x100000, bytes: concat(mbHeader(8), HLT), memsz: 13 }]),
      "Multiboot header flags 0x8 require features this loader does not know (bits 3-15; only 0-2 are defined)",
    ],
    [
      "no address fields in a file that is not ELF",
      concat(mbHeader(3), HLT),
      "Multiboot header without address fields (flag 16 clear) in a file that is not ELF: nothing says where to load it",
    ],
    [
      "an entry point outside the image",
      buildElf(32, 0x500000, [seg(0x100000, 0x100)]),
      "the entry point 0x500000 lies outside everything the image loads",
    ],
    [
      "header_addr below load_addr",
      concat(mbHeader(0x10003, [0x100000, 0x100010, 0, 0, 0x100010])),
      "Multiboot header_addr 0x100000 is below load_addr 0x100010",
    ],
  ])("%s", (_name, file, sentence) => {
    expect(error(file)).toBe(sentence);
  });
  it("a module that does not fit in RAM", () => {
    const big = { name: "big", bytes: new Uint8Array(3 * MIB) };
    expect(error(elf32, { ...opts(4 * MIB), modules: [big] })).toBe(
      "module 0 (big) at 0x103000-0x402fff does not fit in 4194304 bytes of guest RAM (--mem raises it)",
    );
  });
  it("RAM QEMU would split around the 4 GiB hole", () => {
    expect(error(elf32, opts(0xe0000000))).toBe(
      "a booted kernel needs between 2 MiB and 3.5 GiB - 4 KiB of RAM (got 3758096384 bytes): from 3.5 GiB on QEMU's pc machine maps RAM above 4 GiB, and vpmu's guest RAM is one range from address 0",
    );
  });
});
